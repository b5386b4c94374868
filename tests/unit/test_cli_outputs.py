"""Outputs never overwrite, land inside or contain an input; option values are checked by argparse; an unwritable
output folder is one sentence before any model loads (issue 16, items 6 and 9)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from medpriv_desktop.cli import main

NOTE = "PT SEEN BY DR. QUIMBLEFORD ON 8/18. CALL 410-555-1234.\n"
CSV_TEXT = "accession,report\nA1,Lung clear. There is a nodule.\nA2,Heart size normal.\n"


@pytest.fixture(autouse=True)
def _allow_torch(monkeypatch):
    # `medpriv deid`/`synth` block torch imports in their process; other test areas of this session still need torch.
    monkeypatch.setenv("MEDPRIV_ALLOW_TORCH", "1")


@pytest.fixture
def no_model_loads(monkeypatch):
    """Fail the test if a command gets as far as its model registry (the refusal must come before)."""
    from medpriv_desktop.core.models import registry

    def boom(*a, **k):
        raise AssertionError("a model registry was built before the output was refused")

    monkeypatch.setattr(registry.ModelRegistry, "from_settings", classmethod(boom))


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _setup(tmp: Path) -> dict[str, Path]:
    """A reports CSV, a folder of .txt notes (also used as reports), and a notes CSV."""
    (tmp / "R.csv").write_text(CSV_TEXT)
    notes = tmp / "notes"
    notes.mkdir()
    for i in range(2):
        (notes / f"n{i}.txt").write_text(NOTE)
    (tmp / "notes.csv").write_text(f'id,note\np1,"{NOTE}"\n')
    (tmp / "empty").mkdir()
    return {"csv": tmp / "R.csv", "dir": notes, "notes_csv": tmp / "notes.csv", "tmp": tmp}


# (argv with {csv} {dir} {notes_csv} {tmp} placeholders, what the message says)
REFUSED = [
    (["classify", "{csv}", "--text-column", "report", "-o", "{csv}"], "-o is the input itself"),
    (["classify", "{csv}", "--text-column", "report", "-o", "{tmp}/L.csv", "--evidence", "{csv}"],
     "--evidence is the input itself"),
    (["classify", "{dir}", "-o", "{dir}/labels.csv"], "-o lies inside the input folder"),
    (["classify", "{dir}", "-o", "{tmp}/L.csv", "--evidence", "{tmp}/L.csv"], "--evidence is the same path as -o"),
    (["classify", "{dir}", "-o", "{tmp}/empty"], "-o names a folder"),
    (["synth", "{dir}", "-o", "{dir}"], "-o is the input itself"),
    (["synth", "{dir}", "-o", "{dir}/synthetic"], "-o lies inside the input folder"),
    (["synth", "{dir}", "-o", "{tmp}"], "-o contains the input"),
    (["synth", "{dir}/n0.txt", "-o", "{dir}"], "-o contains the input"),
    (["deid", "{dir}", "-o", "{dir}"], "-o is the input itself"),
    (["deid", "{dir}", "-o", "{dir}/out"], "-o lies inside the input folder"),
    (["deid", "{dir}", "-o", "{tmp}"], "-o contains the input"),
    (["deid", "{dir}", "-o", "{tmp}/map.csv", "--patient-id", "{tmp}/map.csv"], "-o is the input itself"),
    (["deid", "{notes_csv}", "--csv", "--text-column", "note", "-o", "{notes_csv}"], "-o is the input itself"),
    (["deid", "{tmp}/n.partial", "--csv", "--text-column", "note", "-o", "{tmp}/n"], "-o (its part file) is the input"),
    (["segment", "{dir}/n0.txt", "-o", "{dir}"], "-o contains the input"),
    (["eval", "deid", "{dir}", "--json", "{dir}/scores.json"], "--json lies inside the input folder"),
    (["eval", "synth", "{dir}", "-o", "{tmp}/rep", "--notes-dir", "{dir}"], "--notes-dir is the input itself"),
]


@pytest.mark.parametrize("argv,message", REFUSED, ids=[" ".join(a[:1] + a[-2:]) for a, _ in REFUSED])
def test_output_onto_into_or_around_an_input_is_refused_before_work(tmp_path, capsys, no_model_loads, argv, message):
    paths = _setup(tmp_path)
    (tmp_path / "map.csv").write_text("file,patient\nn0.txt,p1\n")
    (tmp_path / "n.partial").write_text(paths["notes_csv"].read_text())  # an input named like -o's part file
    before = _tree(tmp_path)
    args = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]
    rc = main(args + ["-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and message in lines[0], err
    assert _tree(tmp_path) == before  # nothing written, nothing overwritten


def test_inputs_beside_the_output_are_fine(tmp_path, capsys):
    """The guard refuses overlap only: a mapping CSV and the notes' parent folder may sit next to the output."""
    paths = _setup(tmp_path)
    (tmp_path / "map.csv").write_text("file,patient\nn0.txt,p1\nn1.txt,p2\n")
    rc = main(["deid", str(paths["dir"]), "-o", str(tmp_path / "out"), "--patient-id", str(tmp_path / "map.csv"),
               "--rules-only", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.txt")) == ["n0.txt", "n1.txt"]


def test_symlink_and_hard_link_to_the_input_are_refused(tmp_path, capsys, no_model_loads):
    paths = _setup(tmp_path)
    (tmp_path / "link.csv").symlink_to(paths["csv"])
    os.link(paths["csv"], tmp_path / "hard.csv")
    for out in ("link.csv", "hard.csv"):
        rc = main(["classify", str(paths["csv"]), "--text-column", "report", "-o", str(tmp_path / out), "-q"])
        assert rc == 2 and "is the input itself" in capsys.readouterr().err
    (tmp_path / "outlink").symlink_to(paths["dir"], target_is_directory=True)
    rc = main(["synth", str(paths["dir"]), "-o", str(tmp_path / "outlink"), "-q"])
    assert rc == 2 and "is the input itself" in capsys.readouterr().err
    assert paths["csv"].read_text() == CSV_TEXT


def test_classify_output_equal_to_input_no_longer_overwrites_it(tmp_path, capsys, medpriv_home):
    """With a model installed the old command wrote its labels over R.csv and exited 0."""
    from tests.unit.reports._tiny import build_bundle

    bundle = build_bundle(medpriv_home / "site_models")
    src = tmp_path / "R.csv"
    src.write_text(CSV_TEXT)
    for extra in (["-o", str(src)], ["-o", str(tmp_path / "L.csv"), "--evidence", str(src)]):
        rc = main(["classify", str(src), "--text-column", "report", "--model", bundle.name, "-q", *extra])
        assert rc == 2 and "is the input itself" in capsys.readouterr().err
        assert src.read_text() == CSV_TEXT


# -- argparse checks option values ------------------------------------------------------------------------------

BAD_VALUES = [
    (["classify", "{csv}", "-o", "{tmp}/o.csv", "--batch-size", "0"], "--batch-size"),
    (["classify", "{csv}", "-o", "{tmp}/o.csv", "--batch-size", "-1"], "--batch-size"),
    (["classify", "{csv}", "-o", "{tmp}/o.csv", "--batch-size", "many"], "--batch-size"),
    (["deid", "{dir}", "-o", "{tmp}/o", "--max-size", "0"], "--max-size"),
    (["deid", "{dir}", "-o", "{tmp}/o", "--max-size", "nan"], "--max-size"),
    (["deid", "{dir}", "-o", "{tmp}/o", "--threshold", "1.5"], "--threshold"),
    (["deid", "{dir}", "-o", "{tmp}/o", "--threshold", "-0.1"], "--threshold"),
    (["synth", "{dir}", "-o", "{tmp}/o", "--top-k", "0"], "--top-k"),
    (["synth", "{dir}", "-o", "{tmp}/o", "--max-keywords", "0"], "--max-keywords"),
    (["synth", "{dir}", "-o", "{tmp}/o", "--max-new-tokens", "-5"], "--max-new-tokens"),
    (["segment", "{csv}", "-o", "{tmp}/o", "--threads", "0"], "--threads"),
    (["segment", "{csv}", "-o", "{tmp}/o", "--overlap", "2"], "--overlap"),
    (["eval", "deid", "{dir}", "--limit", "-1"], "--limit"),
]


@pytest.mark.parametrize("argv,option", BAD_VALUES, ids=[f"{a[0]} {a[-2]} {a[-1]}" for a, _ in BAD_VALUES])
def test_bad_option_value_is_a_usage_error(tmp_path, capsys, argv, option):
    paths = _setup(tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main([a.format(**{k: str(v) for k, v in paths.items()}) for a in argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "usage:" in err and option in err and "Traceback" not in err
    assert _tree(tmp_path) == before and not (tmp_path / "o").exists() and not (tmp_path / "o.csv").exists()


def test_core_classify_refuses_a_batch_size_below_one():
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.reports.batch import ReportInput, classify_reports

    reports = ReportInput(["1"], ["Lung clear."], "row", Path("r.csv"))
    with pytest.raises(InputError, match="batch size must be at least 1"):
        run_job(classify_reports(object(), reports, "o.csv", batch_size=0))  # type: ignore[arg-type]


# -- unwritable output folders: one sentence before any model loads ----------------------------------------------

@pytest.mark.parametrize("err_no,reason", [(errno.EACCES, "permission denied"), (errno.EROFS, "read-only file system"),
                                           (errno.ENOSPC, "no space left on device")])
@pytest.mark.parametrize("command", ["classify", "deid", "synth", "segment", "demo"])
def test_unwritable_output_folder_is_refused_before_models_load(tmp_path, capsys, monkeypatch, no_model_loads,
                                                                err_no, reason, command):
    from medpriv_desktop.core import outputs

    paths = _setup(tmp_path)

    def refuse(*a, **k):
        raise OSError(err_no, os.strerror(err_no))

    monkeypatch.setattr(outputs.tempfile, "mkstemp", refuse)
    argv = {
        "classify": ["classify", str(paths["csv"]), "--text-column", "report", "-o", str(tmp_path / "o" / "L.csv")],
        "deid": ["deid", str(paths["dir"]), "-o", str(tmp_path / "o"), "--rules-only"],
        "synth": ["synth", str(paths["dir"]), "-o", str(tmp_path / "o")],
        "segment": ["segment", str(paths["dir"] / "n0.txt"), "-o", str(tmp_path / "o")],
        "demo": ["demo", "-o", str(tmp_path / "o")],
    }[command]
    rc = main(argv + ["-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and f"cannot write here ({reason})" in err and str(tmp_path / "o") in err


def test_output_folder_name_taken_by_a_file(tmp_path, capsys, no_model_loads):
    paths = _setup(tmp_path)
    (tmp_path / "o").write_text("a file")
    rc = main(["deid", str(paths["dir"]), "-o", str(tmp_path / "o"), "-q", "--rules-only"])
    err = capsys.readouterr().err
    assert rc == 2 and "must be a folder but a file has this name" in err and "Traceback" not in err


def test_probe_leaves_no_empty_folder_when_the_run_is_refused_later(tmp_path, capsys, medpriv_home):
    from tests.unit.reports._tiny import build_bundle

    bundle = build_bundle(medpriv_home / "site_models")
    paths = _setup(tmp_path)
    rc = main(["classify", str(paths["csv"]), "--text-column", "no_such", "--model", bundle.name,
               "-o", str(tmp_path / "new" / "deeper" / "L.csv"), "-q"])
    assert rc == 2 and "no column 'no_such'" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    rc = main(["classify", str(paths["csv"]), "--text-column", "report", "--model", bundle.name,
               "-o", str(tmp_path / "new" / "deeper" / "L.csv"), "-q"])
    assert rc == 0 and (tmp_path / "new" / "deeper" / "L.csv").is_file()
