"""`medpriv deid`: folder and CSV modes, resume after an interruption, bad inputs with one clear message each."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.errors import JobCancelled
from medpriv_desktop.core.jobs import CancelToken, run_job
from medpriv_desktop.core.notes.batch import deidentify_folder
from medpriv_desktop.core.resume import FOLDER_MANIFEST

NOTE = "PT SEEN BY DR. QUIMBLEFORD ON 8/18. CALL 410-555-1234.\nSON LIVES IN PIKESVILLE.\n"


def write_notes(folder: Path, n: int, text: str = NOTE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [folder.joinpath(f"note_{i:03d}.txt") for i in range(n) if folder.joinpath(f"note_{i:03d}.txt").write_text(text) or True]


def listing(folder: Path) -> list[str]:
    """What a folder holds besides the run manifest every folder run keeps there."""
    return sorted(p.name for p in folder.iterdir() if p.name != FOLDER_MANIFEST)


def test_folder_mode_writes_one_output_per_note_with_tags(tmp_path, capsys):
    write_notes(tmp_path / "in", 3)
    (tmp_path / "in" / "readme.md").write_text("not a note")
    rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--rules-only"])
    assert rc == 0
    assert listing(tmp_path / "out") == ["note_000.txt", "note_001.txt", "note_002.txt"]
    text = (tmp_path / "out" / "note_000.txt").read_text()
    assert "QUIMBLEFORD" not in text and "8/18" not in text and "410-555-1234" not in text
    assert "[NAME]" in text and "[DATE]" in text and "[PHONE]" in text
    out = capsys.readouterr().out
    assert "de-identified 3 notes" in out and "NAME" in out and "QUIMBLEFORD" not in out


def test_resume_after_cancel_keeps_done_outputs_and_finishes(tmp_path, monkeypatch):
    from medpriv_desktop.core.notes import batch
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    monkeypatch.setattr(batch, "NOTES_PER_STEP", 1)  # one note per step, so Cancel lands between notes
    write_notes(tmp_path / "in", 6)
    engine = DeidEngine(EngineConfig(use_model=False))
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if len(list((tmp_path / "out").glob("*.txt"))) >= 2:
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(deidentify_folder(tmp_path / "in", tmp_path / "out", lambda: engine), progress, token)
    done = listing(tmp_path / "out")
    assert 2 <= len(done) < 6 and not [p for p in done if p.startswith(".")]  # no temp file left
    stamps = {p: (tmp_path / "out" / p).stat().st_mtime_ns for p in done}
    summary = run_job(deidentify_folder(tmp_path / "in", tmp_path / "out", lambda: engine))
    assert summary.already_done == len(done) and summary.done == 6 - len(done)
    assert all((tmp_path / "out" / p).stat().st_mtime_ns == t for p, t in stamps.items())  # not redone
    assert len(list((tmp_path / "out").glob("*.txt"))) == 6


@pytest.mark.slow
def test_resume_after_kill(tmp_path):
    """A real `medpriv deid` process killed mid-run leaves only complete outputs; a rerun finishes the rest."""
    write_notes(tmp_path / "in", 120)
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "medpriv_desktop.cli", "deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
           "--quiet", "--rules-only"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (tmp_path / "out").exists() and len(list((tmp_path / "out").glob("note_*.txt"))) >= 5:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = sorted(p for p in (tmp_path / "out").glob("*.txt") if not p.name.startswith("."))
    assert 0 < len(partial) < 120, "kill came too late to test resuming"
    expected = None
    for p in partial:
        text = p.read_text()
        assert text.endswith("\n") and "[NAME]" in text  # complete, never half-written
        expected = expected or text
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"({len(partial)} already done" in r.stdout
    outs = sorted((tmp_path / "out").glob("*.txt"))  # stale temporary files are gone too
    assert len(outs) == 120 and all(p.read_text() == expected for p in outs)


def test_csv_mode_passes_other_columns_and_resumes(tmp_path, capsys):
    from medpriv_desktop.core.notes.batch import deidentify_csv
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    src = tmp_path / "notes.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "note", "ward"])
        for i in range(4):
            w.writerow([f"p{i % 2}", NOTE, f"W{i}"])
    out = tmp_path / "out.csv"
    # a first run is stopped after two rows (the CLI's surrogate operator, rules only, as below)
    engine = DeidEngine(EngineConfig(use_model=False))
    token = CancelToken()

    def stop_at_third_row(p):
        if p.message.startswith("row 3/"):
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(deidentify_csv(src, out, lambda: engine, "note", "id", "surrogate"), stop_at_third_row, token)
    assert len(list(csv.reader(open(str(out) + ".partial", newline="")))) == 3  # header + two finished rows
    rc = main(["deid", str(src), "-o", str(out), "--csv", "--text-column", "note", "--id-column", "id",
               "--operator", "surrogate", "--quiet", "--rules-only"])
    assert rc == 0
    assert "2 already done" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out, newline="")))
    assert [r["ward"] for r in rows] == ["W0", "W1", "W2", "W3"] and [r["id"] for r in rows] == ["p0", "p1", "p0", "p1"]
    assert all("QUIMBLEFORD" not in r["note"] and "8/18" not in r["note"] for r in rows)
    assert rows[0]["note"] == rows[2]["note"]  # one patient, one surrogate mapping, across the interruption
    assert not Path(str(out) + ".partial").exists() and not Path(str(out) + ".manifest.jsonl").exists()


def test_surrogates_consistent_per_patient_in_folder_mode(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "p01_a.txt").write_text("DR. QUIMBLEFORD AWARE ON 8/18.\n")
    (d / "p01_b.txt").write_text("DR. QUIMBLEFORD CAME BY ON 8/20.\n")
    (d / "p02_a.txt").write_text("DR. QUIMBLEFORD AWARE ON 8/18.\n")
    rc = main(["deid", str(d), "-o", str(tmp_path / "out"), "--operator", "surrogate", "--patient-id", r"^(p\d+)_",
               "--quiet", "--rules-only"])
    assert rc == 0
    a, b = (tmp_path / "out" / "p01_a.txt").read_text(), (tmp_path / "out" / "p01_b.txt").read_text()
    name_a, name_b = a.split()[1], b.split()[1]
    assert name_a == name_b and name_a != "QUIMBLEFORD"
    # dates of one patient move together: 8/18 -> X, 8/20 -> X + 2 days
    import datetime as dt

    da = dt.datetime.strptime(a.split()[-1].rstrip(".") + "/2002", "%m/%d/%Y")
    db = dt.datetime.strptime(b.split()[-1].rstrip(".") + "/2002", "%m/%d/%Y")
    assert (db - da).days % 365 == 2
    assert not list((tmp_path / "out").glob("*.key")) and not [n for n in listing(tmp_path / "out") if n[0] == "."]


# -- bad inputs: one clear message each, the good notes still done ---------------------------------------------------

@pytest.mark.parametrize("name,content,message", [
    ("empty.txt", b"", "file is empty"),
    ("blank.txt", b"   \n\n  ", "file is empty"),
    ("binary.txt", bytes(range(256)) * 4, "binary file"),
    ("latin.txt", "PT SEEN BY DR. M\xdcLLER \u2013 CAF\xc9".encode("cp1252"), "not UTF-8"),
])
def test_bad_note_gets_one_message_and_others_are_done(tmp_path, capsys, name, content, message):
    write_notes(tmp_path / "in", 2)
    (tmp_path / "in" / name).write_bytes(content)
    rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--rules-only"])
    err = capsys.readouterr().err
    assert rc == 1
    lines = [ln for ln in err.splitlines() if name in ln]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err
    assert listing(tmp_path / "out") == ["note_000.txt", "note_001.txt"]
    if name == "latin.txt":
        assert "cp1252" in lines[0]  # the detected encoding is named
        # another encoding changes outputs: resuming with it is refused, --restart redoes every note
        rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--rules-only",
                   "--encoding", "cp1252"])
        assert rc == 2 and "started with another encoding" in capsys.readouterr().err
        rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--rules-only",
                   "--encoding", "cp1252", "--restart"])
        assert rc == 0 and "MÜLLER" not in (tmp_path / "out" / name).read_text()


def test_oversized_note_is_refused_and_large_note_is_processed_in_pieces(tmp_path, capsys):
    write_notes(tmp_path / "in", 1)
    (tmp_path / "in" / "big.txt").write_text(NOTE * 30000)  # about 2.4 MB
    rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--quiet", "--rules-only", "--max-size", "1"])
    err = capsys.readouterr().err
    assert rc == 1 and "big.txt" in err and "larger than the 1.0 MB limit" in err
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    engine = DeidEngine(EngineConfig(use_model=False))
    engine.CHUNK_CHARS = 2000  # force several pieces on a small text
    text = NOTE * 60
    spans = engine.analyze(text)
    names = [s for s in spans if text[s.start:s.end] == "QUIMBLEFORD"]
    assert len(names) == 60  # every note copy found, across piece boundaries, offsets right


@pytest.mark.parametrize("content,message", [
    ('id,note\n1,"unclosed quote\n', "malformed CSV"),
    ("id,note\n1,a,b\n", "row 2 has 3 fields"),
    ("id,text\n1,hello\n", "no column 'note'"),
])
def test_malformed_csv_one_message(tmp_path, capsys, content, message):
    src = tmp_path / "bad.csv"
    src.write_text(content)
    rc = main(["deid", str(src), "-o", str(tmp_path / "o.csv"), "--csv", "--text-column", "note", "--quiet", "--rules-only"])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_missing_input_folder_message(tmp_path, capsys):
    rc = main(["deid", str(tmp_path / "nope"), "-o", str(tmp_path / "out"), "--quiet", "--rules-only"])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_a_utf16_byte_order_mark_on_bytes_that_are_not_utf16_is_one_input_error(tmp_path):
    """Found by the reader fuzzer: b"\\xff\\xfea" escaped as a UnicodeDecodeError (a traceback in the CLI)."""
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.text.reading import read_text as read_note

    bad = tmp_path / "odd.txt"
    bad.write_bytes(b"\xff\xfea")
    with pytest.raises(InputError, match="UTF-16"):
        read_note(bad)


# -- patients (issue 17, item 7): keyed surrogates and date shifts per patient, a documented default -----------------

DATED = "DR. QUIMBLEFORD AWARE ON 8/18/2019. CALL 410-555-1234.\n"


def _deid_entries() -> list[dict]:
    import json

    from medpriv_desktop.core import paths

    lines = (paths.audit_dir() / "audit.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, filter(None, lines)) if e.get("action") == "notes.deid"]


def _offset(patient: str) -> int:
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes.surrogates import Surrogator

    return Surrogator(load_key("deid")).date_offset(patient)


def _shifted(days: int) -> str:
    import datetime as dt

    d = dt.date(2019, 8, 18) + dt.timedelta(days=days)
    return f"{d.month}/{d.day}/{d.year}"


def test_by_default_each_note_is_its_own_patient(tmp_path, capsys):
    from medpriv_desktop.core.notes.batch import own_patient

    d = tmp_path / "in"
    d.mkdir()
    for name in ("a.txt", "b.txt"):
        (d / name).write_text(DATED)
    rc = main(["deid", str(d), "-o", str(tmp_path / "out"), "--operator", "surrogate", "--quiet", "--rules-only"])
    assert rc == 0
    a, b = (tmp_path / "out" / "a.txt").read_text(), (tmp_path / "out" / "b.txt").read_text()
    assert a != b  # the same text in two notes is not linked (the old default put both under one patient)
    assert _shifted(_offset(own_patient("note", "a.txt"))) in a and _shifted(_offset(own_patient("note", "b.txt"))) in b
    assert "2 patients (each note its own patient)" in capsys.readouterr().out
    entry = _deid_entries()[-1]
    assert entry["patients"] == 2 and entry["patient_source"] == {"per-note": True} and not entry["all_one_patient"]


def test_date_shift_operator_uses_the_keyed_offset_of_the_patient(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    (d / "p01_a.txt").write_text(DATED)
    (d / "p02_a.txt").write_text(DATED)
    rc = main(["deid", str(d), "-o", str(tmp_path / "out"), "--operator", "date-shift", "--patient-id", r"^(p\d+)_",
               "--quiet", "--rules-only"])
    assert rc == 0
    for patient in ("p01", "p02"):
        out = (tmp_path / "out" / f"{patient}_a.txt").read_text()
        assert out == f"DR. [NAME] AWARE ON {_shifted(_offset(patient))}. CALL [PHONE].\n"
    out = capsys.readouterr().out
    assert "operator date-shift" in out and "2 patients (from the file-name pattern)" in out


@pytest.mark.parametrize("argv_extra,source", [(["--one-patient"], "one-patient"),
                                                (["--patient-id", "note"], "pattern")])
def test_a_run_that_puts_every_note_under_one_patient_says_so(tmp_path, capsys, argv_extra, source):
    write_notes(tmp_path / "in", 3, DATED)
    rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--operator", "surrogate", "--quiet",
               "--rules-only", *argv_extra])
    assert rc == 0
    outs = {(tmp_path / "out" / f"note_{i:03d}.txt").read_text() for i in range(3)}
    assert len(outs) == 1  # one patient: one date shift, one set of surrogates
    assert "all 3 notes were treated as ONE patient" in capsys.readouterr().out
    entry = _deid_entries()[-1]
    assert entry["patients"] == 1 and entry["all_one_patient"] is True and entry["patient_source"] == {source: True}


def test_notes_a_pattern_or_mapping_does_not_place_are_their_own_patients(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    for name in ("p01_a.txt", "p01_b.txt", "other.txt", "stray.txt"):
        (d / name).write_text(DATED)
    rc = main(["deid", str(d), "-o", str(tmp_path / "pat"), "--operator", "surrogate", "--patient-id", r"^(p\d+)_",
               "--quiet", "--rules-only"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "3 patients (from the file-name pattern); 2 notes matched no patient, each its own" in out
    other, stray = (tmp_path / "pat" / "other.txt").read_text(), (tmp_path / "pat" / "stray.txt").read_text()
    assert other != stray  # never one shared fallback patient
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,patient\np01_a.txt,P-1\np01_b,P-1\nother.txt,\n")
    rc = main(["deid", str(d), "-o", str(tmp_path / "map"), "--operator", "surrogate", "--patient-id", str(mapping),
               "--quiet", "--rules-only"])
    assert rc == 0 and "3 patients (from the mapping file); 2 notes matched no patient" in capsys.readouterr().out
    assert (tmp_path / "map" / "p01_a.txt").read_text() == (tmp_path / "map" / "p01_b.txt").read_text()
    entry = _deid_entries()[-1]
    assert entry["notes_unplaced"] == 2 and entry["patients"] == 3
    from medpriv_desktop.core import paths

    text = (paths.audit_dir() / "audit.jsonl").read_text()
    assert "P-1" not in text and "p01" not in text and "other" not in text  # counts, never ids or names


def test_csv_rows_are_their_own_patients_unless_an_id_column_or_one_patient_says_otherwise(tmp_path, capsys):
    src = tmp_path / "n.csv"
    with open(src, "w", newline="") as fh:
        csv.writer(fh).writerows([["id", "note"], ["p1", DATED], ["p1", DATED], ["", DATED]])

    def run(name, *extra):
        rc = main(["deid", str(src), "-o", str(tmp_path / name), "--csv", "--text-column", "note", "--operator",
                   "surrogate", "--quiet", "--rules-only", *extra])
        assert rc == 0, capsys.readouterr().err
        return [r["note"] for r in csv.DictReader(open(tmp_path / name, newline=""))], capsys.readouterr().out

    notes, out = run("rows.csv")
    assert len(set(notes)) == 3 and "3 patients (each note its own patient)" in out
    notes, out = run("ids.csv", "--id-column", "id")
    assert notes[0] == notes[1] != notes[2] and "2 patients (from the id column); 1 note matched no patient" in out
    notes, out = run("one.csv", "--one-patient")
    assert len(set(notes)) == 1 and "all 3 notes were treated as ONE patient" in out


@pytest.mark.parametrize("argv,message", [
    (["{dir}", "-o", "{tmp}/o", "--one-patient", "--patient-id", "x"], "--one-patient and --patient-id exclude"),
    (["{csv}", "-o", "{tmp}/o.csv", "--csv", "--text-column", "note", "--one-patient", "--id-column", "id"],
     "--one-patient and --id-column exclude"),
    (["{csv}", "-o", "{tmp}/o.csv", "--csv", "--text-column", "note", "--patient-id", "x"],
     "--patient-id is for a folder of notes"),
])
def test_conflicting_patient_options_are_refused(tmp_path, capsys, argv, message):
    write_notes(tmp_path / "in", 1)
    (tmp_path / "n.csv").write_text(f'id,note\np1,"{NOTE}"\n')
    values = {"dir": tmp_path / "in", "csv": tmp_path / "n.csv", "tmp": tmp_path}
    rc = main(["deid", *[a.format(**values) for a in argv], "--quiet", "--rules-only"])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.csv").exists()


def test_resume_with_other_patients_is_refused(tmp_path, capsys):
    write_notes(tmp_path / "in", 2, DATED)
    args = ["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--operator", "surrogate", "--quiet",
            "--rules-only"]
    assert main(args) == 0
    assert main(args + ["--one-patient"]) == 2
    assert "started with another patient_id" in capsys.readouterr().err


def test_cli_audit_entry_has_the_reviewer_fields_of_the_window(tmp_path):
    """The CLI's entry has the shape of a reviewed note's entry in the window (issue 21): nobody reviewed a batch,
    so every replaced span is counted as unreviewed."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(DATED)
    assert main(["deid", str(d), "-o", str(tmp_path / "out"), "--quiet", "--rules-only"]) == 0
    entry = _deid_entries()[-1]
    total = sum(entry["counts"].values())
    assert total >= 3
    assert entry["reviewed"] == {"accepted": 0, "rejected": 0, "added": 0, "unreviewed": total}
