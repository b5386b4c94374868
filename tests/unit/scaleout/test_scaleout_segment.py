"""``medpriv segment STUDIES --studies``: one task per study, one output folder per study, a summary table, a bad
study in the errors table while the others finish, and a rerun that redoes only what is not done."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from medpriv_desktop.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "imaging"))
from _imaging_fixtures import make_bundle, phantom_volume  # noqa: E402


@pytest.fixture
def studies(medpriv_home, tmp_path):
    """A tiny CT model installed for the test, and a folder of two phantom studies and one broken file."""
    pytest.importorskip("onnx")
    nib = pytest.importorskip("nibabel")
    from medpriv_desktop.core import paths

    make_bundle(paths.user_models_dir(), "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    folder = tmp_path / "studies"
    folder.mkdir()
    for name, seed in (("a_ct.nii.gz", 0), ("b_ct.nii.gz", 1)):
        vol, _ = phantom_volume(seed=seed)
        nib.save(nib.Nifti1Image(vol.array, vol.affine), str(folder / name))
    (folder / "c_broken.nii.gz").write_bytes(b"not a NIfTI file")
    return folder


def _segment(src, out, *extra):
    return main(["segment", str(src), "--model", "seg-tiny-test", "-o", str(out), "--threads", "1", "-q", "--force",
                 *map(str, extra)])


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_studies_each_get_a_folder_and_a_bad_study_does_not_stop_the_batch(studies, tmp_path, capsys):
    out = tmp_path / "out"
    assert _segment(studies, out, "--studies") == 1
    assert (out / "part-00000" / "summary.json").is_file() and (out / "part-00001" / "summary.json").is_file()
    assert not (out / "part-00002").exists()
    rows = _table(out / "studies.csv")
    assert [r["status"] for r in rows] == ["done", "done", "failed"]
    assert all(int(r["structures_found"]) >= 1 for r in rows[:2])
    assert all(r["study_ref"].startswith("file#") and "broken" not in r["study_ref"] for r in rows)
    errors = _table(out / "errors.csv")
    assert [e["partition"] for e in errors] == ["2"] and errors[0]["reason"]
    assert "c_broken" not in (out / "errors.csv").read_text() + (out / "studies.csv").read_text()
    stamp = (out / "part-00000" / "summary.json").stat().st_mtime_ns
    capsys.readouterr()
    assert _segment(studies, out, "--studies") == 1  # the broken study is tried again, the others are not
    assert "2 already done" in capsys.readouterr().out
    assert (out / "part-00000" / "summary.json").stat().st_mtime_ns == stamp
    (studies / "c_broken.nii.gz").unlink()
    assert _segment(studies, out, "--studies") == 2  # the list changed: refused, with --restart as the way out
    assert "other inputs" in capsys.readouterr().err


def test_a_csv_list_of_studies_and_shards(studies, tmp_path):
    (studies / "c_broken.nii.gz").unlink()
    listing = tmp_path / "list.csv"
    listing.write_text("path\nstudies/b_ct.nii.gz\nstudies/a_ct.nii.gz\n", encoding="utf-8")
    out = tmp_path / "out"
    assert _segment(listing, out, "--shard", "1/2") == 0
    assert _segment(listing, out, "--shard", "2/2") == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("part-")) == ["part-00000", "part-00001"]
    assert (out / "part-00000" / "b_ct_seg.nii.gz").is_file()  # the list's order, not the folder's
