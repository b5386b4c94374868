"""`medpriv segment` end to end, and every bad input: one clear message naming the file, non-zero exit, no traceback."""

from __future__ import annotations

import gzip
import json

import nibabel as nib
import numpy as np
import pytest

from _imaging_fixtures import make_bundle, write_dicom_series
from medpriv_desktop.cli import main


@pytest.fixture
def installed(medpriv_home):
    """Tiny CT and MR models installed in the test's user models folder."""
    pytest.importorskip("onnx")
    from medpriv_desktop.core import paths

    root = paths.user_models_dir()
    make_bundle(root, "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    make_bundle(root, "seg-tiny-mr", modalities=("MR",), spacing=(3.0, 3.0, 4.0))
    make_bundle(root, "seg-tiny-badlabels", builder_kwargs={"n_out": 4})  # 4 output channels, 3 labels
    return root


def _run(capsys, *argv):
    rc = main(["segment", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_segment_cli_prints_a_summary_and_writes_outputs(installed, ct_file, tmp_path, capsys):
    rc, out, err = _run(capsys, ct_file, "--model", "seg-tiny-test", "-o", tmp_path / "o", "--stats", "--qc",
                        "--threads", "1", "-q")
    assert rc == 0, err
    assert "seg-tiny-test" in out and "structures 2 of 2 found" in out and "QC " in out
    assert (tmp_path / "o" / "ct_seg.nii.gz").is_file() and (tmp_path / "o" / "qc.json").is_file()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["threads"] == 1 and summary["modality"] == "CT"


def _assert_clean_failure(rc, err, *needles):
    assert rc != 0
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    for n in needles:
        assert n in errors[0], err


def test_garbage_file(installed, tmp_path, capsys):
    bad = tmp_path / "junk.nii.gz"
    bad.write_bytes(b"this is not an image at all" * 20)
    rc, _, err = _run(capsys, bad, "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "junk.nii.gz", "not a readable NIfTI")


def test_truncated_file(installed, ct_file, tmp_path, capsys):
    data = gzip.decompress(ct_file.read_bytes())
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(gzip.compress(data[: len(data) // 2]))
    rc, _, err = _run(capsys, cut, "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "cut.nii.gz", "truncated")


def test_empty_file(installed, tmp_path, capsys):
    (tmp_path / "empty.nrrd").write_bytes(b"")
    rc, _, err = _run(capsys, tmp_path / "empty.nrrd", "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "empty.nrrd", "empty")


def test_folder_without_images(installed, tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hello")
    rc, _, err = _run(capsys, tmp_path / "docs", "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "docs", "no DICOM images")


@pytest.mark.parametrize("shape,needle", [((30, 30), "2D image"), ((30, 30, 1), "2D image"),
                                          ((12, 12, 12, 3), "4D image")])
def test_wrong_dimensions(installed, tmp_path, capsys, shape, needle):
    p = tmp_path / "img.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(shape, np.int16), np.eye(4)), str(p))
    rc, _, err = _run(capsys, p, "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "img.nii.gz", needle)


def test_single_dicom_slice_is_2d(installed, tmp_path, capsys):
    files = write_dicom_series(tmp_path / "one", np.zeros((8, 8, 1), np.int16))
    rc, _, err = _run(capsys, files[0], "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "2D")


def test_four_d_dicom_series(installed, tmp_path, capsys):
    hu = np.zeros((8, 8, 4), np.int16)
    uid = "1.2.826.0.1.3680043.8.498.1"
    write_dicom_series(tmp_path / "dyn", hu, series_uid=uid, description="phase 1")
    write_dicom_series(tmp_path / "dyn" / "p2", hu, series_uid=uid, description="phase 2")
    rc, _, err = _run(capsys, tmp_path / "dyn", "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "dyn", "4D")


def test_volume_too_large(installed, ct_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDPRIV_MAX_VOXELS", "1000")
    rc, _, err = _run(capsys, ct_file, "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "ct.nii.gz", "too large")


def test_model_for_another_modality(installed, ct_file, tmp_path, capsys):
    rc, _, err = _run(capsys, ct_file, "--model", "seg-tiny-mr", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "ct.nii.gz", "takes MR images but this image is CT")


def test_model_whose_labels_do_not_fit(installed, ct_file, tmp_path, capsys):
    rc, _, err = _run(capsys, ct_file, "--model", "seg-tiny-badlabels", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "outputs 4 channels but its card lists 3 labels")


def test_unknown_model(installed, ct_file, tmp_path, capsys):
    rc, _, err = _run(capsys, ct_file, "--model", "seg-tiny-tset", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "no model with id", "did you mean 'seg-tiny-test'")


def test_tampered_model_refused(installed, ct_file, tmp_path, capsys):
    onnx_file = installed / "seg-tiny-test" / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")
    rc, _, err = _run(capsys, ct_file, "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "model.onnx", "sha256")


def test_several_series_are_listed(installed, tmp_path, capsys):
    hu = np.full((16, 16, 6), -1000, np.int16)
    write_dicom_series(tmp_path / "study", hu, description="arterial")
    write_dicom_series(tmp_path / "study", hu[:, :, :4], description="venous")
    rc, out, err = _run(capsys, tmp_path / "study", "--model", "seg-tiny-test", "-o", tmp_path / "o")
    _assert_clean_failure(rc, err, "2 DICOM series", "--series")
    assert "arterial" in out and "venous" in out and "DOE" not in out
    uid = next(line.split()[0] for line in out.splitlines() if "venous" in line)
    rc, out, err = _run(capsys, tmp_path / "study", "--model", "seg-tiny-test", "-o", tmp_path / "o",
                        "--series", uid, "-q", "--threads", "1")
    assert rc == 0, err
    assert "16x16x4" in out


def test_fast_uses_the_family_student_and_less_overlap(medpriv_home, ct_file, tmp_path, capsys):
    pytest.importorskip("onnx")
    from medpriv_desktop.core import paths

    root = paths.user_models_dir()
    make_bundle(root, "seg-tiny-teacher", spacing=(3.0, 3.0, 4.0), role="teacher", overlap=0.5,
                patch=(16, 16, 16))
    make_bundle(root, "seg-tiny-student", spacing=(3.0, 3.0, 4.0), role="student", overlap=0.5,
                patch=(16, 16, 16))
    rc, out, err = _run(capsys, ct_file, "--model", "seg-tiny-teacher", "--fast", "-o", tmp_path / "o", "-q",
                        "--threads", "1")
    assert rc == 0, err
    assert "seg-tiny-student" in out
    fast_tiles = json.loads((tmp_path / "o" / "summary.json").read_text())["tiles"]
    rc, out, err = _run(capsys, ct_file, "--model", "seg-tiny-teacher", "-o", tmp_path / "o2", "-q", "--threads", "1")
    assert rc == 0 and "seg-tiny-teacher" in out
    assert json.loads((tmp_path / "o2" / "summary.json").read_text())["tiles"] > fast_tiles


def test_segment_runs_with_torch_blocked(installed, ct_file, tmp_path):
    """The installed app has no torch: the whole segment command (with QC, stats, meshes) must not need it."""
    import os
    import subprocess
    import sys

    code = ("import sys\n"
            "for m in ('torch', 'monai', 'transformers', 'opacus', 'peft', 'training'): sys.modules[m] = None\n"
            "from medpriv_desktop.cli import main\n"
            f"sys.exit(main(['segment', {str(ct_file)!r}, '--model', 'seg-tiny-test', '-o', "
            f"{str(tmp_path / 'o')!r}, '--qc', '--stats', '--meshes', '-q', '--threads', '1']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "o" / "meshes" / "scene.vtp").is_file() and (tmp_path / "o" / "qc.json").is_file()
