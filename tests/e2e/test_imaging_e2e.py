"""The Imaging workspace in a real X window: open a CT, segment it as a job, check overlay and 3D pixels.

Uses the shared TotalSegmentator example CT when ../shared/data is present (a generated phantom otherwise) and a
bundled segmentation model when one is installed (a tiny model made on the fly otherwise). Screenshots go to
test-artifacts/imaging_e2e/. The GUI heartbeat numbers are recorded in the JSON (benchmarks/bench_imaging_gui.py
reports them); this test checks behaviour and pixels, not speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXAMPLE = Path("imaging/totalsegmentator/example_ct_sm.nii.gz")


def _example_ct() -> str:
    env = os.environ.get("MEDPRIV_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    p = root / EXAMPLE
    return str(p) if p.is_file() else ""


@pytest.mark.e2e
def test_imaging_workspace_under_xvfb(xvfb_run, artifacts_dir, medpriv_home):
    pytest.importorskip("onnx")
    out = Path(artifacts_dir) / "imaging_e2e"
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(REPO)
    study = _example_ct()
    r = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1400x900x24", sys.executable, str(HERE / "drive_imaging.py"), str(out),
         study],
        capture_output=True, text=True, timeout=600, env=env, cwd=REPO,
    )
    result_file = out / "imaging_e2e.json"
    assert result_file.exists(), r.stdout[-2000:] + r.stderr[-4000:]
    res = json.loads(result_file.read_text())
    report = json.dumps(res, indent=2) + r.stderr[-3000:]
    assert r.returncode == 0, report
    assert res["platform"] == "xcb" and res["study_loaded"] and res["segmentation_finished"], report
    if study:
        assert res["study"] == "example_ct_sm.nii.gz"
    # The job showed in the status bar with progress while it ran.
    assert res["status_visible_during_job"] and res["progress_reports"] >= 3, report
    # The structures table lists what the model found.
    assert res["table_rows"] >= 1 and res["structures"], report
    # A labelled voxel of the axial view shows the overlay colour on screen, not the plain grey.
    assert res["overlay_tinted"], report
    # The 3D view really renders: volume rendering and the surfaces change what the screen shows.
    assert res["surface_actors"] >= 1, report
    assert res["volume_rendering_changed_fraction"] > 0.03, report
    assert res["surfaces_changed_fraction"] > 0.03, report
    assert max(res["render_shape"]) <= 256
    if res.get("compare_mean_dice") is not None:  # student vs teacher ran (tiny models made on the fly)
        assert 0 < res["compare_mean_dice"] < 1 and res["difference_voxels"] > 0, report
    from PySide6.QtGui import QImage

    for name in ("imaging.png", "imaging_3d_surfaces.png", "views/" + res["view_screenshots"][0]):
        img = QImage(str(out / name))
        assert not img.isNull() and img.width() > 200, name
    assert len(res["view_screenshots"]) == 4  # axial, coronal, sagittal and the 3D view
