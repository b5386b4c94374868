"""No PHI in messages, logs or formula cells; one sentence instead of a traceback (issue 16, items 8 and 9)."""

from __future__ import annotations

import csv
import errno
import logging
import os
import re
from pathlib import Path

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.csv_safety import describe_columns, neutralise_cell, restore_cell
from medpriv_desktop.core.logging import file_handler, path_ref, strip_controls

NOTE = "PT SEEN BY DR. QUIMBLEFORD ON 8/18. CALL 410-555-1234."
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: ")


@pytest.fixture(autouse=True)
def _allow_torch(monkeypatch):
    # `medpriv deid` blocks torch imports in its process; other test areas of this session still need torch.
    monkeypatch.setenv("MEDPRIV_ALLOW_TORCH", "1")


@pytest.fixture
def log_file(tmp_path):
    """A log file fed like the application log (same handler and filter) for the duration of the test."""
    path = tmp_path / "app.log"
    handler = file_handler(path)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


@pytest.fixture
def tiny_classifier(medpriv_home):
    from tests.unit.reports._tiny import build_bundle

    return build_bundle(medpriv_home / "site_models")


# -- a missing column never prints the first row ---------------------------------------------------------------

def test_missing_column_message_holds_no_note_text(tmp_path, capsys, tiny_classifier):
    headerless = tmp_path / "export.csv"  # no header: the first row is a patient's note
    with open(headerless, "w", newline="") as fh:
        csv.writer(fh).writerows([["MRN 4471", NOTE], ["MRN 4472", NOTE.lower()]])
    runs = [
        ["deid", str(headerless), "--csv", "--text-column", "note", "-o", str(tmp_path / "o.csv"), "--rules-only"],
        ["classify", str(headerless), "--text-column", "report", "--model", tiny_classifier.name,
         "-o", str(tmp_path / "l.csv")],
    ]
    for argv in runs:
        assert main(argv + ["-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "QUIMBLEFORD" not in err and "4471" not in err and "the first row has 2 columns" in err


@pytest.mark.parametrize("names,listed", [
    (["id", "note_text", "ward"], True),
    (["MRN", "Report Text"], True),
    (["4471", "PT SEEN BY DR. QUIMBLEFORD ON 8/18 FOR CHEST PAIN"], False),
    (["id", "line one\nline two"], False),
    ([f"c{i}" for i in range(80)], False),
])
def test_describe_columns_lists_names_only_for_a_header(names, listed):
    hint = describe_columns(names)
    assert hint.startswith("columns: ") is listed
    if not listed:
        assert not any(n in hint for n in names if len(n) > 3) and f"{len(names)} columns" in hint


def test_did_you_mean_still_works_for_a_real_header(tmp_path, capsys, tiny_classifier):
    src = tmp_path / "in.csv"
    src.write_text("accession,report\nA1,Lung clear.\n")
    assert main(["classify", str(src), "--text-column", "reprot", "--model", tiny_classifier.name,
                 "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert "did you mean 'report'" in capsys.readouterr().err


# -- formula cells are neutralised in every CSV written ---------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x.example\",\"open\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"]


@pytest.mark.parametrize("value", FORMULAS + ["plain", "'quoted", ""])
def test_neutralise_cell_follows_owasp_and_round_trips(value):
    out = neutralise_cell(value)
    assert out == ("'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value)
    assert restore_cell(out) == value
    assert neutralise_cell(3) == 3 and neutralise_cell(-0.5) == -0.5  # numbers the app computes stay numbers


def test_deid_csv_cells_are_neutralised(tmp_path):
    src = tmp_path / "notes.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "note", "ward"])
        for i, f in enumerate(FORMULAS):
            w.writerow([f, f"{f} {NOTE}" if i % 2 else f, f"W{i}"])
        w.writerow(["p9", "- pt stable", "=cmd|' /C calc'!A0"])
    out = tmp_path / "out.csv"
    assert main(["deid", str(src), "--csv", "--text-column", "note", "-o", str(out), "--rules-only", "-q"]) == 0
    rows = list(csv.reader(open(out, newline="", encoding="utf-8")))[1:]
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert [r[0] for r in rows[:-1]] == ["'" + f for f in FORMULAS]
    assert rows[-1][1] == "'- pt stable" and restore_cell(rows[-1][1]) == "- pt stable"
    assert rows[-1][2] == "'=cmd|' /C calc'!A0"


def test_classify_csv_ids_are_neutralised(tmp_path, tiny_classifier):
    src = tmp_path / "in.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["accession", "report"])
        w.writerow(["=HYPERLINK(\"http://x\")", "There is a nodule."])
        w.writerow(["@A1", "Lung clear."])
    out = tmp_path / "o.csv"
    assert main(["classify", str(src), "--text-column", "report", "--id-column", "accession",
                 "--model", tiny_classifier.name, "-o", str(out), "-q"]) == 0
    rows = list(csv.reader(open(out, newline="", encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'@A1"]


# -- file names are PHI: the log holds keyed references, one record per line ------------------------------------

def test_newline_in_a_file_name_does_not_forge_a_log_line(tmp_path, capsys, log_file):
    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.txt").write_text(NOTE)
    forged = "x.txt\n2026-01-01 00:00:00,000 INFO medpriv_desktop.audit: export approved by QUIMBLEFORD\n.txt"
    (src / forged).write_bytes(b"")  # an empty note: skipped, and logged
    assert main(["deid", str(src), "-o", str(tmp_path / "out"), "--rules-only", "-q"]) == 1
    text = log_file.read_text()
    assert "note skipped: file#" in text
    assert all(LOG_LINE.match(line) for line in text.splitlines()), text
    assert "QUIMBLEFORD" not in text and "approved" not in text and str(src) not in text
    assert path_ref(src / forged) in text


def test_log_filter_strips_controls_and_keeps_exception_values_out(log_file):
    log = logging.getLogger("medpriv_desktop.test")
    log.warning("looked at %s", "a\rb\nINFO forged\x1b[2J")
    try:
        open("/nonexistent/MRN-4471 Doe.txt")
    except OSError:
        log.exception("could not open")
    logging.getLogger("presidio-analyzer").warning("token %s", "QUIMBLEFORD\nforged")
    lines = log_file.read_text().splitlines()
    assert len(lines) == 3 and all(LOG_LINE.match(x) for x in lines)
    assert "a?b?INFO forged?[2J" in lines[0]
    assert "FileNotFoundError at test_cli_privacy.py:" in lines[1] and "4471" not in lines[1]
    assert "withheld" in lines[2] and "QUIMBLEFORD" not in lines[2]


def test_path_ref_is_keyed_stable_and_never_the_path(tmp_path, medpriv_home, monkeypatch):
    p = tmp_path / "Doe_John_MRN4471.txt"
    ref = path_ref(p)
    assert re.fullmatch(r"file#[0-9a-f]{12}", ref) and ref == path_ref(str(p)) and ref != path_ref(tmp_path / "b")
    monkeypatch.setenv("MEDPRIV_KEY_DIR", str(tmp_path / "other_keys"))
    assert path_ref(p) != ref  # another site key, another reference
    assert strip_controls("a\nb\u2028c\x85d") == "a?b?c?d"


# -- one sentence instead of a traceback ---------------------------------------------------------------------

@pytest.mark.parametrize("err_no,reason", [
    (errno.ENOSPC, "no space left on device"), (errno.EACCES, "permission denied"),
    (errno.EROFS, "read-only file system"), (errno.EEXIST, "file exists"), (errno.ENOENT, "no such file or directory"),
])
def test_os_errors_while_writing_are_one_sentence(tmp_path, capsys, monkeypatch, log_file, err_no, reason):
    import medpriv_desktop.core.notes.batch as batch

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(NOTE)

    def fail(target, data):
        raise OSError(err_no, os.strerror(err_no), str(target))

    monkeypatch.setattr(batch, "atomic_write_bytes", fail)
    rc = main(["deid", str(src), "-o", str(tmp_path / "out"), "--rules-only", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err == f"error: {tmp_path / 'out' / 'a.txt'}: {reason}\n"
    logged = log_file.read_text()
    assert re.search(r"\w+Error at test_cli_privacy\.py:\d+ in fail < batch\.py:\d+ in deidentify_folder", logged)
    assert str(tmp_path) not in logged and os.strerror(err_no) not in logged


@pytest.mark.parametrize("exc,expect", [
    (MemoryError(), "out of memory while running 'deid'"),
    (ValueError(f"could not convert {NOTE!r}"), "cannot be processed: a value in it is not what 'deid' expects"),
    (UnicodeDecodeError("utf-8", NOTE.encode(), 0, 1, "bad"), "(UnicodeDecodeError)"),
])
def test_memory_and_value_errors_are_one_sentence_without_values(tmp_path, capsys, monkeypatch, log_file, exc, expect):
    from medpriv_desktop.core.notes.engine import DeidEngine

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(NOTE)

    def boom(self, text):
        raise exc

    monkeypatch.setattr(DeidEngine, "analyze", boom)
    rc = main(["deid", str(src), "-o", str(tmp_path / "out"), "--rules-only", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith(f"error: {src}: ") and expect in err
    assert "QUIMBLEFORD" not in err and "QUIMBLEFORD" not in log_file.read_text()
    assert f"{type(exc).__name__} at " in log_file.read_text()


def test_a_failed_atomic_write_names_the_target_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    from medpriv_desktop.core import fileio

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")  # what a flush on a full disk raises: no file name

    monkeypatch.setattr(fileio.os, "fsync", full)
    target = tmp_path / "labels.csv"
    with pytest.raises(OSError) as exc:
        fileio.atomic_write_bytes(target, b"id,x\r\n")
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []
