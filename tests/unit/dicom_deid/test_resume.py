"""Batch over a folder of studies: progress, and a killed run that resumes to byte-identical outputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _phi_series import phantom_hu, write_phi_series

from medpriv_desktop.core.dicom_deid.batch import DicomDeidOptions, deidentify_dicom_folder
from medpriv_desktop.core.dicom_deid.profile import Profile
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.resume import FOLDER_MANIFEST


def _studies(root: Path, n: int = 3, slices: int = 4) -> Path:
    for i in range(n):
        write_phi_series(root / f"patient{i}" / "ct", phantom_hu(i, (16, 12, slices)), patient_id=f"MRN{i:04d}",
                         patient_name=f"PATIENT^NUMBER{i}", uid_base=f"1.2.826.0.1.{50 + i}")
    return root


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != FOLDER_MANIFEST}


def test_interrupted_run_resumes_to_the_same_bytes(tmp_path):
    inp = _studies(tmp_path / "in")
    run_job(deidentify_dicom_folder(inp, tmp_path / "straight"))
    job = deidentify_dicom_folder(inp, tmp_path / "resumed")
    messages = []
    for progress in job:  # stop after five files: what a kill between two files leaves
        messages.append(progress.message)
        if sum(m.startswith("file ") for m in messages) == 6:
            job.close()
            break
    partial = _tree(tmp_path / "resumed")
    assert 0 < len(partial) < len(_tree(tmp_path / "straight")) and "deid_report.json" not in partial
    summary = run_job(deidentify_dicom_folder(inp, tmp_path / "resumed"))
    assert summary.already_done == 5 and summary.written == 7
    assert _tree(tmp_path / "resumed") == _tree(tmp_path / "straight")
    assert [m for m in messages if m.startswith("file ")][:2] == ["file 1/12", "file 2/12"]


def test_rerun_with_other_options_or_foreign_files_is_refused(tmp_path):
    inp = _studies(tmp_path / "in", n=1)
    out = tmp_path / "out"
    run_job(deidentify_dicom_folder(inp, out))
    with pytest.raises(InputError, match="another profile"):
        run_job(deidentify_dicom_folder(inp, out, DicomDeidOptions(Profile.named("basic"))))
    (out / "patient-copy.dcm").write_bytes(b"raw")
    with pytest.raises(InputError, match="did not write"):
        run_job(deidentify_dicom_folder(inp, out))
    (out / "patient-copy.dcm").unlink()
    summary = run_job(deidentify_dicom_folder(inp, out, DicomDeidOptions(Profile.named("basic")), restart=True))
    assert summary.written == 4 and summary.already_done == 0


def test_a_killed_process_resumes_to_the_same_bytes(tmp_path):
    inp = _studies(tmp_path / "in", n=8, slices=10)
    env = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    cmd = [sys.executable, "-m", "medpriv_desktop.cli", "deid-dicom", str(inp), "-q", "-o"]
    subprocess.run(cmd + [str(tmp_path / "straight")], env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen(cmd + [str(tmp_path / "killed")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    manifest = tmp_path / "killed" / FOLDER_MANIFEST
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and manifest.read_bytes().count(b"\n") >= 6:  # header + five outputs recorded
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    killed = proc.returncode == -signal.SIGKILL
    done = subprocess.run(cmd + [str(tmp_path / "killed")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _tree(tmp_path / "killed") == _tree(tmp_path / "straight")
    if killed:
        assert "0 already done" not in done.stdout
