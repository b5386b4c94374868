"""``medpriv deid TABLE`` in table mode, in this process: the same output as the single-machine CSV path, one
patient's surrogates and date shift alike across partitions, only text and kept columns written, keyed pseudonyms,
bad rows in an errors table, resume without redoing finished parts."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest
from tests.unit.scaleout.tables import PATIENTS, note_rows, read_parts, write_table

from medpriv_desktop.cli import main

TABLE = ["--text-column", "text", "--id-column", "note_id", "--rules-only", "-q"]


def _deid(src, out, *extra) -> int:
    return main(["deid", str(src), "-o", str(out), *TABLE, *map(str, extra)])


def _surrogator():
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes.surrogates import Surrogator

    return Surrogator(load_key("deid"))


@pytest.mark.parametrize("suffix,out_suffix", [(".parquet", ".parquet"), (".csv", ".csv"), (".csv", ".parquet")])
def test_table_mode_text_equals_the_single_machine_csv_path(notes_table, tmp_path, suffix, out_suffix):
    src = notes_table(30, suffix)
    csv_src = write_table(note_rows(30), tmp_path / "same.csv")
    assert main(["deid", str(csv_src), "--csv", "--text-column", "text", "--id-column", "mrn", "--operator",
                 "surrogate", "--rules-only", "-q", "-o", str(tmp_path / "single.csv")]) == 0
    with open(tmp_path / "single.csv", newline="", encoding="utf-8") as fh:
        single = [r["text"] for r in csv.DictReader(fh)]
    out = tmp_path / f"out{out_suffix}"
    assert _deid(src, out, "--patient-column", "mrn", "--operator", "surrogate", "--rows-per-partition", 7) == 0
    rows = read_parts(out)
    assert [r["text"] for r in rows] == single  # same engine, operators, key and patients: same text
    assert len(list(out.glob("part-*"))) == (3 if suffix == ".parquet" else 5)


def test_one_patient_in_different_partitions_gets_one_surrogate_name_and_one_date_shift(notes_table, tmp_path):
    rows = note_rows(25)
    for r in rows:  # the same name and the same date in every note of patient 1
        if r["mrn"] == PATIENTS[0][0]:
            r["text"] = "Patient John Quimbleford seen on 03/14/2021."
    src = notes_table(rows=rows, rows_per_group=4)
    assert _deid(src, tmp_path / "o.parquet", "--patient-column", "mrn", "--operator", "surrogate") == 0
    out = read_parts(tmp_path / "o.parquet")
    own = [r["text"] for r, src_row in zip(out, rows) if src_row["mrn"] == PATIENTS[0][0]]
    assert len(own) == 5 and len(set(own)) == 1  # rows 0, 5, 10, 15, 20: partitions 0, 1, 2, 3, 5
    assert "Quimbleford" not in own[0]
    shift = _surrogator().date_offset(PATIENTS[0][0])
    import datetime as dt

    moved = dt.date(2021, 3, 14) + dt.timedelta(days=shift)
    assert f"{moved.month:02d}/{moved.day:02d}/{moved.year}" in own[0]  # "03/14/2021" is zero-padded: so is its shift


def test_only_text_and_kept_columns_are_written_ids_become_keyed_pseudonyms(notes_table, tmp_path):
    src = notes_table(10)
    assert _deid(src, tmp_path / "a.parquet", "--patient-column", "mrn") == 0
    rows = read_parts(tmp_path / "a.parquet")
    assert set(rows[0]) == {"note_id", "mrn", "text"}  # dept is not kept
    sur = _surrogator()
    for r, original in zip(rows, note_rows(10)):
        assert r["mrn"] != original["mrn"] and re.fullmatch(r"[A-Z]{3}\d{7}", r["mrn"])
        assert r["mrn"] == sur.digits_like(original["mrn"], original["mrn"], "MRN")  # the notes engine's MRN surrogate
        assert r["note_id"] != original["note_id"] and len(r["note_id"]) == len(original["note_id"])
    assert _deid(src, tmp_path / "b.parquet", "--patient-column", "mrn", "--keep-columns", "dept,note_id") == 0
    kept = read_parts(tmp_path / "b.parquet")
    assert [r["note_id"] for r in kept] == [r["note_id"] for r in note_rows(10)]
    assert [r["dept"] for r in kept] == [r["dept"] for r in note_rows(10)]
    assert kept[0]["mrn"] == rows[0]["mrn"]


def test_bad_rows_go_to_the_errors_table_and_the_run_goes_on(notes_table, tmp_path, capsys):
    rows = note_rows(20)
    rows[3]["text"] = ""
    rows[12]["text"] = None
    rows[15]["text"] = "Name Zebediah\x00Quux binary"
    out = tmp_path / "o.parquet"
    assert _deid(notes_table(rows=rows), out) == 1
    assert len(read_parts(out)) == 17
    with open(out / "errors.csv", newline="") as fh:
        errors = list(csv.DictReader(fh))
    assert [(e["partition"], e["row"]) for e in errors] == [("0", "4"), ("1", "13"), ("1", "16")]
    assert [e["reason"] for e in errors] == ["empty note", "no note text (empty cell)",
                                             "the note holds binary data (NUL characters)"]
    assert "Zebediah" not in (out / "errors.csv").read_text() + capsys.readouterr().err


def test_rerun_redoes_nothing_and_other_options_are_refused(notes_table, tmp_path, capsys):
    src, out = notes_table(30), tmp_path / "o.parquet"
    assert _deid(src, out) == 0
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("part-*")}
    capsys.readouterr()
    assert _deid(src, out) == 0
    assert "0 done now, 3 already done" in capsys.readouterr().out
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("part-*")} == stamps
    assert _deid(src, out, "--operator", "mask") == 2
    assert "another operator" in capsys.readouterr().err
    (out / "part-00001.parquet").unlink()  # a lost part is redone, the others are kept
    assert _deid(src, out) == 0 and "1 done now, 2 already done" in capsys.readouterr().out
    assert _deid(src, out, "--operator", "mask", "--restart") == 0
    assert "***" in read_parts(out)[0]["text"]


def test_a_planted_file_is_refused(notes_table, tmp_path, capsys):
    src, out = notes_table(10), tmp_path / "o.parquet"
    out.mkdir()
    (out / "part-00000.parquet").write_bytes(b"raw copy")
    assert _deid(src, out) == 2
    assert "did not write" in capsys.readouterr().err


def test_shards_write_disjoint_parts_into_one_folder(notes_table, tmp_path):
    src, out = notes_table(50), tmp_path / "o.parquet"
    for k in (1, 2, 3):
        assert _deid(src, out, "--shard", f"{k}/3") == 0
    assert sorted(p.name for p in out.glob("part-*")) == [f"part-{i:05d}.parquet" for i in range(5)]
    assert [r["text"] for r in read_parts(out)] == [r["text"] for r in read_parts(_single(src, tmp_path))]
    assert len(list(out.glob(".medpriv-run.shard-*-of-3.jsonl"))) == 3


def _single(src, tmp_path):
    out = tmp_path / "single.parquet"
    assert _deid(src, out) == 0
    return out


def test_default_paths_import_no_scaleout_and_no_dask(tmp_path):
    """The single-machine paths stay as they were: neither medpriv_desktop.scaleout nor Dask is imported."""
    notes = tmp_path / "in"
    notes.mkdir()
    (notes / "a.txt").write_text("Seen by Dr. Quimbleford on 8/18.")
    write_table(note_rows(3), tmp_path / "n.csv")
    code = (
        "import sys\n"
        "from medpriv_desktop.cli import main\n"
        f"assert main(['deid', {str(notes)!r}, '-o', {str(tmp_path / 'o')!r}, '--rules-only', '-q']) == 0\n"
        f"assert main(['deid', {str(tmp_path / 'n.csv')!r}, '--csv', '--text-column', 'text', '-o', "
        f"{str(tmp_path / 'o.csv')!r}, '--rules-only', '-q']) == 0\n"
        "bad = [m for m in sys.modules if m.startswith(('medpriv_desktop.scaleout', 'dask', 'distributed', "
        "'pyarrow'))]\n"
        "assert not bad, bad\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]


class _FailingEngine:
    """An engine that fails on one note with the note's text in its message (as a library might)."""

    def analyze_many(self, texts):
        raise RuntimeError(texts[0])

    def analyze(self, text):
        if "Zebediah" in text:
            raise RuntimeError(f"cannot parse {text}")
        return []


def test_a_detector_failure_is_one_bad_row_with_a_reason_and_no_text(tmp_path):
    from medpriv_desktop.core.keys import key_id, load_key
    from medpriv_desktop.core.notes.batch import _detector_ref
    from medpriv_desktop.core.notes.engine import EngineConfig
    from medpriv_desktop.core.notes.operators import OperatorOptions
    from medpriv_desktop.scaleout.deid_job import DeidSpec, TableColumns, deidentify_partition, engine_key
    from medpriv_desktop.scaleout.partitions import plan_table
    from medpriv_desktop.scaleout.worker import seed_cache

    rows = note_rows(6)
    rows[2]["text"] = "Patient Zebediah Quux seen today."
    src = write_table(rows, tmp_path / "n.parquet")
    _, parts = plan_table(src)
    config = EngineConfig(use_model=False, extra={"test": "failing-engine"})
    engine = _FailingEngine()
    seed_cache(engine_key(config), engine)
    spec = DeidSpec(parts[0], TableColumns("text", "note_id"), OperatorOptions("tag"), config, _detector_ref(engine),
                    key_id(load_key("deid")), str(tmp_path), "csv", 1 << 20)
    res = deidentify_partition(spec)
    assert res.failure is None and res.rows_done == 5
    assert [(e.row, e.reason) for e in res.errors] == [(3, "the detector failed on this note (RuntimeError)")]
    assert "Zebediah" not in open(res.temp, encoding="utf-8").read()
    other = deidentify_partition(DeidSpec(**{**spec.__dict__, "key_id": "00000000"}))
    assert other.temp is None and other.failure == "this worker's deid key differs from the driver's"
