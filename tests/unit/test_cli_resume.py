"""Resume trusts only what its own run manifest vouches for (issue 16, item 7): a half row after a disk-full is cut,
raw copies planted in the output folder are refused, other options or inputs are refused, ``--restart`` starts over
and removes only what a run wrote itself."""

from __future__ import annotations

import builtins
import csv
import errno
import json
from pathlib import Path

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.resume import FOLDER_MANIFEST, RunManifest, cut_partial_csv, file_manifest_path

NOTE = "PT SEEN BY DR. QUIMBLEFORD ON 8/18. CALL 410-555-1234.\nSON LIVES IN PIKESVILLE.\n"


@pytest.fixture(autouse=True)
def _allow_torch(monkeypatch):
    # `medpriv deid` blocks torch imports in its process; other test areas of this session still need torch.
    monkeypatch.setenv("MEDPRIV_ALLOW_TORCH", "1")


def _notes(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"note_{i:02d}.txt").write_text(NOTE.replace("8/18", f"8/{i + 1}"))
    return folder


def _deid(*argv: object) -> int:
    return main(["deid", *map(str, argv), "--rules-only", "-q"])


def _outputs(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.name != FOLDER_MANIFEST}


# -- CSV mode: a disk-full in the middle of a row ------------------------------------------------------------------

class _DiskFullAfter:
    """A text file that accepts ``budget`` characters, writes part of the next write, then fails like a full disk."""

    def __init__(self, fh, budget: int) -> None:
        self._fh, self._budget = fh, budget

    def write(self, s: str) -> int:
        if len(s) > self._budget:
            self._fh.write(s[: self._budget])
            self._fh.flush()
            self._budget = 0
            raise OSError(errno.ENOSPC, "No space left on device")  # a buffered write names no file
        self._budget -= len(s)
        return self._fh.write(s)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


def _raw(path: Path) -> str:
    with open(path, newline="", encoding="utf-8") as fh:
        return fh.read()


def _notes_csv(path: Path, n: int) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "note", "ward"])
        for i in range(n):
            w.writerow([f"p{i}", NOTE.replace("8/18", f"8/{i + 1}"), f"W{i}"])


def test_half_row_after_disk_full_is_cut_and_the_csv_has_exactly_n_rows(tmp_path, capsys, monkeypatch):
    import medpriv_desktop.core.notes.batch as batch

    n = 12
    src = tmp_path / "notes.csv"
    _notes_csv(src, n)
    assert _deid(src, "-o", tmp_path / "clean.csv", "--csv", "--text-column", "note") == 0
    clean = _raw(tmp_path / "clean.csv")
    records = clean.split("\r\n")  # header and rows (no note here holds a CR LF)
    budget = sum(len(r) + 2 for r in records[:6]) + len(records[6]) // 2  # header, 5 rows, half of the 6th

    real_open = builtins.open

    def full_disk_open(file, mode="r", *a, **k):
        fh = real_open(file, mode, *a, **k)
        return _DiskFullAfter(fh, budget) if str(file).endswith(".partial") and "a" in mode else fh

    monkeypatch.setattr(batch, "open", full_disk_open, raising=False)
    out = tmp_path / "out.csv"
    rc = _deid(src, "-o", out, "--csv", "--text-column", "note")
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and err.count("\n") == 1
    assert f"{out}.partial: no space left on device" in err
    partial = _raw(Path(f"{out}.partial"))
    assert not partial.endswith("\r\n")  # the failure left half a row behind
    monkeypatch.delattr(batch, "open")  # the disk has room again

    assert _deid(src, "-o", out, "--csv", "--text-column", "note") == 0
    assert "5 already done" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out, newline="")))
    assert len(rows) == n and [r["id"] for r in rows] == [f"p{i}" for i in range(n)]
    assert _raw(out) == clean  # byte for byte what an uninterrupted run writes


@pytest.mark.parametrize("tail,kept", [
    ("", 2),                                  # complete file
    ('p3,"half a no', 2),                     # open quote at the end
    ("p3,unquoted but no line end", 2),       # a record without its line end
    ("p3,x,y\r", 2),                          # torn inside the CR LF
    ('p3,"two\r\nlines', 2),                  # torn inside a quoted line break
    ("p3,caf\u00e9,x\r\n".encode()[:-4], 2),   # torn inside a UTF-8 character
    ("p3,too,many,fields\r\n", 2),            # a record that does not fit the header
    ("p3,fine,W3\r\n", 3),
])
def test_cut_partial_csv_keeps_only_complete_records(tmp_path, tail, kept):
    part = tmp_path / "o.csv.partial"
    head = b'id,note,ward\r\np1,"a\r\nb",W1\r\np2,\'-x,W2\r\n'
    part.write_bytes(head + (tail if isinstance(tail, bytes) else tail.encode()))
    assert cut_partial_csv(part, ["id", "note", "ward"]) == kept
    data = part.read_bytes()
    assert data.endswith(b"\r\n") and len(list(csv.reader(data.decode().splitlines(True)))) == kept + 1


def test_cut_partial_csv_header_cases(tmp_path):
    part = tmp_path / "o.partial"
    part.write_bytes(b"id,no")  # killed while writing the header: emptied, the run writes it again
    assert cut_partial_csv(part, ["id", "note"]) == 0 and part.read_bytes() == b""
    part.write_bytes(b"id,text\r\n1,a\r\n")
    with pytest.raises(InputError, match="header does not match"):
        cut_partial_csv(part, ["id", "note"])


def test_csv_part_file_this_run_did_not_write_is_refused(tmp_path, capsys):
    src = tmp_path / "notes.csv"
    _notes_csv(src, 3)
    out = tmp_path / "out.csv"
    Path(f"{out}.partial").write_text(f"id,note,ward\r\np0,{NOTE.splitlines()[0]},W0\r\n")  # a raw row
    assert _deid(src, "-o", out, "--csv", "--text-column", "note") == 2
    assert "this run did not write it" in capsys.readouterr().err and not out.exists()
    assert _deid(src, "-o", out, "--csv", "--text-column", "note", "--restart") == 0
    assert "QUIMBLEFORD" not in out.read_text() and not file_manifest_path(out).exists()


def test_csv_resume_with_other_options_is_refused(tmp_path, capsys, monkeypatch):
    import medpriv_desktop.core.notes.batch as batch

    src = tmp_path / "notes.csv"
    _notes_csv(src, 4)
    out = tmp_path / "out.csv"
    calls = []

    def interrupt_third(self, text):  # Ctrl+C during the third row
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_analyze(self, text)

    from medpriv_desktop.core.notes.engine import DeidEngine

    real_analyze = DeidEngine.analyze
    monkeypatch.setattr(DeidEngine, "analyze", interrupt_third)
    assert _deid(src, "-o", out, "--csv", "--text-column", "note") == 130
    monkeypatch.setattr(DeidEngine, "analyze", real_analyze)
    assert batch.cut_partial_csv(Path(f"{out}.partial"), ["id", "note", "ward"]) == 2
    capsys.readouterr()
    for extra, what in ((["--operator", "mask"], "operator"), (["--threshold", "0.5"], "threshold"),
                        (["--id-column", "ward"], "id_column")):
        assert _deid(src, "-o", out, "--csv", "--text-column", "note", *extra) == 2
        err = capsys.readouterr().err
        assert f"started with another {what}" in err and "--restart" in err
    src.write_text(src.read_text().replace("W3", "W9"))
    assert _deid(src, "-o", out, "--csv", "--text-column", "note") == 2
    assert "started from other inputs (1 changed" in capsys.readouterr().err


# -- folder mode -------------------------------------------------------------------------------------------------

def test_raw_copies_planted_in_the_output_folder_are_refused(tmp_path, capsys):
    src = _notes(tmp_path / "in", 8)
    out = tmp_path / "out"
    out.mkdir()
    for p in src.iterdir():
        (out / p.name).write_text(p.read_text())  # raw PHI where de-identified notes belong
    for extra in ([], ["--restart"]):
        assert _deid(src, "-o", out, *extra) == 2
        captured = capsys.readouterr()
        assert "output folder holds 8 files this run did not write" in captured.err
        assert "already done" not in captured.out
    assert _outputs(out) == {p.name: p.read_text() for p in src.iterdir()}  # left alone, never deleted


def test_rerun_with_another_operator_is_refused_and_restart_redoes_all(tmp_path, capsys):
    src = _notes(tmp_path / "in", 3)
    out = tmp_path / "out"
    assert _deid(src, "-o", out) == 0
    tagged = _outputs(out)
    assert all("[NAME]" in t for t in tagged.values())
    capsys.readouterr()
    assert _deid(src, "-o", out, "--operator", "surrogate") == 2
    err = capsys.readouterr().err
    assert "started with another operator" in err and "--restart" in err
    assert _outputs(out) == tagged
    assert _deid(src, "-o", out, "--operator", "surrogate", "--restart") == 0
    redone = _outputs(out)
    assert redone.keys() == tagged.keys() and all("[NAME]" not in t and "QUIMBLEFORD" not in t for t in redone.values())


def test_rerun_with_changed_inputs_or_a_changed_output_is_refused(tmp_path, capsys):
    src = _notes(tmp_path / "in", 3)
    out = tmp_path / "out"
    assert _deid(src, "-o", out) == 0
    assert _deid(src, "-o", out) == 0 and "(3 already done" in capsys.readouterr().out
    (src / "note_03.txt").write_text(NOTE)
    assert _deid(src, "-o", out) == 2
    assert "other inputs (0 changed, 1 added, 0 removed" in capsys.readouterr().err
    (src / "note_03.txt").unlink()
    (out / "note_01.txt").write_text(NOTE)  # someone put the raw note back under a finished output's name
    assert _deid(src, "-o", out) == 2
    assert "1 outputs were changed after this run wrote them" in capsys.readouterr().err


def test_kill_between_manifest_line_and_rename_redoes_only_that_note(tmp_path, capsys, monkeypatch):
    import medpriv_desktop.core.notes.batch as batch

    src = _notes(tmp_path / "in", 5)
    out = tmp_path / "out"
    real_write, calls = batch.atomic_write_bytes, []

    def killed_on_third(target, data):
        calls.append(target)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the manifest line is written, the file never appears
        real_write(target, data)

    monkeypatch.setattr(batch, "atomic_write_bytes", killed_on_third)
    assert _deid(src, "-o", out) == 130
    monkeypatch.setattr(batch, "atomic_write_bytes", real_write)
    assert len(_outputs(out)) == 2 and len((out / FOLDER_MANIFEST).read_text().splitlines()) == 1 + 3
    with open(out / FOLDER_MANIFEST, "a") as fh:
        fh.write('{"out": "torn by a ki')  # and a torn last line
    capsys.readouterr()
    assert _deid(src, "-o", out) == 0
    assert "(2 already done" in capsys.readouterr().out and len(_outputs(out)) == 5
    assert all(json.loads(x) for x in (out / FOLDER_MANIFEST).read_text().splitlines())


def test_manifest_holds_keyed_hashes_only(tmp_path):
    src = _notes(tmp_path / "in", 2)
    out = tmp_path / "out"
    assert _deid(src, "-o", out) == 0
    text = (out / FOLDER_MANIFEST).read_text()
    assert "note_0" not in text and "QUIMBLEFORD" not in text and "tag" not in text
    head = json.loads(text.splitlines()[0])
    assert head["format"] == "medpriv-run/1" and set(head["options"]) >= {"operator", "model", "threshold", "encoding"}
    # with another key the same manifest is refused (a rotated deid key would change surrogates)
    with pytest.raises(InputError, match="another deid key"):
        RunManifest.open(out / FOLDER_MANIFEST, "notes.deid.folder", where=out, key=b"k" * 32)


def test_synth_refuses_files_it_did_not_write(tmp_path, capsys, monkeypatch):
    import medpriv_desktop.core.notes.engine as engine_mod
    from tests.unit.notes_synth._synth_helpers import ListDetector

    monkeypatch.setattr(engine_mod, "DeidEngine", lambda *a, **k: ListDetector({"quimbleford": "CLINICIAN"}))
    src = _notes(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "note_00.txt").write_text(NOTE)
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 2
    assert "holds 1 files this run did not write" in capsys.readouterr().err
    (out / "note_00.txt").unlink()
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 0
    assert main(["synth", str(src), "-o", str(out), "-q"]) == 0 and "2 already done" in capsys.readouterr().out
