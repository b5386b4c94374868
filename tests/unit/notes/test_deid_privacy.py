"""Canary: PHI pushed through `medpriv deid` never reaches the log files or the audit log; the engine is offline."""

from __future__ import annotations

import logging
import socket

import pytest

from medpriv_desktop.cli import main

CANARY_NAME = "ZORBLEWICK"
CANARY_PHONE = "617-555-0199"
NOTE = f"DR. {CANARY_NAME} AWARE. WIFE CALLED FROM {CANARY_PHONE} ON 3/14.\nMRN 99887766. PT IS 97 YO.\n"


@pytest.fixture
def fresh_logging():
    """Make setup_logging() configure a file in this test's MEDPRIV_HOME, at DEBUG level."""
    import medpriv_desktop.core.logging as mlog

    root = logging.getLogger()
    saved = root.handlers[:], root.level, mlog._configured
    root.handlers = []
    mlog._configured = False
    yield
    for h in root.handlers:
        h.close()
    root.handlers, root.level, mlog._configured = saved[0], saved[1], saved[2]


def test_no_phi_in_logs_or_audit(tmp_path, medpriv_home, fresh_logging, capsys):
    import medpriv_desktop.core.logging as mlog

    mlog.setup_logging(level=logging.DEBUG)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(NOTE)
    (src / "bad.txt").write_bytes(f"DR. {CANARY_NAME} \xe9".encode("latin-1"))  # fails: its error path logs too
    csv_in = tmp_path / "n.csv"
    csv_in.write_text(f'id,note\n{CANARY_NAME},"{NOTE}"\n')
    main(["deid", str(src), "-o", str(tmp_path / "out"), "--quiet", "--rules-only"])
    main(["deid", str(src), "-o", str(tmp_path / "out2"), "--quiet", "--rules-only", "--operator", "surrogate"])
    main(["deid", str(csv_in), "-o", str(tmp_path / "o.csv"), "--csv", "--text-column", "note", "--id-column", "id",
          "--quiet", "--rules-only"])
    captured = capsys.readouterr()
    files = list((medpriv_home / "logs").rglob("*")) + list((medpriv_home / "data" / "audit").rglob("*"))
    texts = [f.read_text(errors="replace") for f in files if f.is_file()]
    assert any("notes.deid" in t for t in texts)  # the audit log was written
    for t in texts + [captured.out, captured.err]:
        assert CANARY_NAME not in t and CANARY_PHONE not in t and "99887766" not in t
    out = (tmp_path / "out" / "a.txt").read_text()
    assert CANARY_NAME not in out and CANARY_PHONE not in out and "99887766" not in out and "97" not in out


def test_engine_builds_and_runs_without_network(monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    engine = DeidEngine(EngineConfig(use_model=False))
    spans = engine.analyze("mail jo@example.com, see www.example.org. DR. ZORBLEWICK AWARE.")
    assert {s.category for s in spans} >= {"EMAIL", "URL", "CLINICIAN"}
    assert engine.analyzer.log_decision_process is False
