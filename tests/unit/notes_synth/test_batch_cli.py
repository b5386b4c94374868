"""``medpriv synth`` and its batch job: outputs, resume, refused setting changes, bad inputs, cancellation."""

from __future__ import annotations

import json

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.errors import InputError, JobCancelled
from medpriv_desktop.core.jobs import CancelToken, run_job
from medpriv_desktop.core.notes.synth.batch import MANIFEST, SynthSettings, synthesize_notes
from medpriv_desktop.core.notes.synth.engines import get_engine
from tests.unit.notes_synth._synth_helpers import ListDetector

NOTE = "Pt with chest pain and fever, seen by Dr. Quillon Abernathy. Given aspirin. Foley in place. Lungs clear."


def _notes(folder, n=3):
    folder.mkdir()
    for i in range(n):
        (folder / f"n{i}.txt").write_text(NOTE.replace("fever", ["fever", "cough", "nausea"][i % 3]), "utf-8")
    return folder


def test_batch_writes_resumes_and_refuses_other_settings(tmp_path):
    src = _notes(tmp_path / "in")
    out = tmp_path / "out"
    det = ListDetector({"quillon abernathy": "CLINICIAN"})
    s = run_job(synthesize_notes(src, out, get_engine("template"), det, SynthSettings()))
    assert s.written == 3 and not s.failed
    assert sorted(p.name for p in out.glob("n*.txt")) == ["n0.txt", "n1.txt", "n2.txt"]
    rows = [json.loads(x) for x in (out / MANIFEST).read_text().splitlines()]
    assert all("chest" not in json.dumps(r) for r in rows), "manifest holds counts, never text"
    assert all(r["keywords"] > 0 for r in rows)
    for p in out.glob("n*.txt"):
        assert "abernathy" not in p.read_text().lower()
    (out / "n1.txt").unlink()
    s2 = run_job(synthesize_notes(src, out, get_engine("template"), det, SynthSettings()))
    assert s2.written == 1 and s2.skipped_done == 2
    with pytest.raises(InputError, match="other settings"):
        run_job(synthesize_notes(src, out, get_engine("template"), det, SynthSettings(method="one-shot")))


def test_bad_notes_are_skipped_with_a_reason_and_cancel_leaves_no_partial_file(tmp_path):
    src = _notes(tmp_path / "in", 2)
    (src / "bad.txt").write_bytes("caf\xe9 au lait".encode("cp1252"))  # the app's one reader refuses it
    (src / "empty.txt").write_text("   ")
    s = run_job(synthesize_notes(src, tmp_path / "out", get_engine("template"), ListDetector()))
    assert s.written == 2
    assert sorted(r for _, r in s.failed) == ["file is empty (no text)", "not UTF-8 (byte 3; looks like latin-1)"]
    tok = CancelToken()
    seen = []

    def on_progress(p):
        seen.append(p)
        if len(seen) == 4:  # bad, empty, n0 (written), then cancel before n1
            tok.cancel()

    with pytest.raises(JobCancelled):
        run_job(synthesize_notes(src, tmp_path / "out2", get_engine("template"), ListDetector()), on_progress, tok)
    assert not list((tmp_path / "out2").glob(".*part*"))
    assert len(list((tmp_path / "out2").glob("*.txt"))) == 1


def test_cli_synth_end_to_end_and_clear_errors(tmp_path, monkeypatch, capsys):
    import medpriv_desktop.core.notes.engine as engine_mod

    monkeypatch.setattr(engine_mod, "DeidEngine", lambda *a, **k: ListDetector({"quillon abernathy": "CLINICIAN"}))
    src = _notes(tmp_path / "in", 2)
    rc = main(["synth", str(src), "-o", str(tmp_path / "out"), "--method", "keyword", "-q"])
    assert rc == 0
    assert "wrote 2 synthetic notes" in capsys.readouterr().out
    rc = main(["synth", str(src), "-o", str(tmp_path / "out"), "-q"])
    assert rc == 0 and "2 already done" in capsys.readouterr().out
    rc = main(["synth", str(tmp_path / "missing"), "-o", str(tmp_path / "o2"), "-q"])
    err = capsys.readouterr().err
    assert rc != 0 and "no such file or folder" in err and "Traceback" not in err
    rc = main(["synth", str(src), "-o", str(tmp_path / "o3"), "--engine", "no-such-model", "-q"])
    assert rc != 0 and "no generation engine" in capsys.readouterr().err
