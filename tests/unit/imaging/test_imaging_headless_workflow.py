"""A whole imaging workflow without a window (issue 20, item 2): open the demo study into the evented
``ImagingState``, segment it through ``core.app``, correct a label by hand (with undo and redo), compute statistics
and export, checking the state's events and the files written. Run once in this process and once in a child where
importing Qt or VTK fails, which proves no step needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[3]


def drive(root: Path) -> dict:
    """The workflow on the demo study in ``root``; returns what the test checks (raises on a broken step)."""
    from _imaging_fixtures import make_bundle

    from medpriv_desktop.core import paths
    from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
    from medpriv_desktop.core.app.imaging_state import ImagingState
    from medpriv_desktop.core.app.study import (export_labelmap_job, export_stats_job, load_segmentation_job,
                                                load_study_job, statistics_job)
    from medpriv_desktop.core.demo import make_demo
    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.models.registry import ModelRegistry

    demo = make_demo(root / "demo")
    make_bundle(root / "models", "seg-tiny-demo", spacing=(4.0, 4.0, 5.0))  # the demo CT's own voxel size
    ctx = Context.build(registry=ModelRegistry(bundled_dir=root / "models", user_dir=root / "user", site_dir=None))
    audit_before = _audit_actions(paths)

    state = ImagingState()
    events: list[tuple[str, object]] = []
    for name in ("study_changed", "labels_changed", "labels_edited", "cursor_changed", "window_changed"):
        getattr(state, name).connect(lambda *args, _n=name: events.append((_n, args[0] if args else None)))

    volume = run_job(load_study_job(demo / "demo_ct.nii.gz"))
    state.set_study(volume)
    state.set_cursor((10, 10, 10))
    state.set_window(50, 400)
    res = run_job(segment_study(ctx, volume, ctx.registry.get("seg-tiny-demo"),
                                options=SegmentOptions(stats=True, qc=True, second_opinion="none")))
    state.set_labels(res.segmentation.labelmap, {"model_id": res.entry.card.id})
    soft = next(v for v, n in state.names.items() if n == "soft_tissue")
    before = {s.name: s.voxels for s in res.stats}

    # erase soft tissue with one stroke of two dabs in the middle axial slice
    z = state.image.shape[2] // 2
    centre = [int(c) for c in np.argwhere(state.labels[:, :, z] == soft)[0]] + [z]
    state.begin_stroke(2, z)
    erased = state.paint(2, tuple(centre), 8.0, 0, only_value=soft)
    erased += state.paint(2, (centre[0] + 1, centre[1], z), 8.0, 0, only_value=soft)
    stroke = state.end_stroke()
    undone, redone = state.undo(), state.redo()

    edited = state.labelmap()
    stats = run_job(statistics_job(edited, volume))
    out = root / "out"
    written = run_job(export_labelmap_job(edited, out / "edited_seg.nii.gz"))
    run_job(export_stats_job(edited, volume, out / "stats.csv", {"model_id": res.entry.card.id}))
    reread, restats = run_job(load_segmentation_job(out / "edited_seg.nii.gz", volume))
    return {
        "events": [n for n, _ in events], "edited_values": [sorted(a) for n, a in events if n == "labels_edited"],
        "erased": erased, "stroke": stroke, "undone": sorted(undone), "redone": sorted(redone), "soft": soft,
        "soft_before": before["soft_tissue"], "soft_after": next(s.voxels for s in stats if s.name == "soft_tissue"),
        "written": sorted(p.name for p in written), "stats_csv": (out / "stats.csv").read_text().splitlines()[0],
        "reread_equal": bool(np.array_equal(reread.array, edited.array)),
        "reread_names": sorted(reread.labels.values()),
        "restats_soft": next(s.voxels for s in restats if s.name == "soft_tissue"),
        "audit": _audit_actions(paths)[len(audit_before):], "qc": res.qc.counts(), "can_undo": state.history.can_undo,
        "qt_loaded": sorted(m for m in ("PySide6", "vtk", "vtkmodules") if sys.modules.get(m) is not None),
    }


def _audit_actions(paths) -> list[str]:
    f = paths.audit_dir() / "audit.jsonl"
    return [json.loads(line)["action"] for line in f.read_text().splitlines()] if f.exists() else []


def _check(r: dict) -> None:
    assert r["events"][:2] == ["study_changed", "labels_changed"]  # set_study: the new study, no labels yet
    assert r["events"][2:5] == ["cursor_changed", "window_changed", "labels_changed"]  # cursor, window, results
    assert r["events"][5:] == ["labels_edited"] * 4  # two dabs, undo, redo
    assert r["edited_values"] == [[r["soft"]]] * 4
    assert r["erased"] > 0 and r["stroke"] and r["undone"] == [r["soft"]] == r["redone"] and r["can_undo"]
    assert r["soft_after"] == r["soft_before"] - r["erased"]  # statistics of the corrected labels
    assert r["written"] == ["edited_seg.nii.gz", "edited_seg_labels.json"]
    assert r["stats_csv"].startswith("value,name,voxels,volume_ml")
    assert r["reread_equal"] and r["reread_names"] == ["background", "bone", "soft_tissue"]
    assert r["restats_soft"] == r["soft_after"]
    assert r["audit"] == ["imaging.segment"] and set(r["qc"]) >= {"pass", "warn", "fail"}


def test_headless_workflow_in_this_process(tmp_path):
    _check(drive(tmp_path))


def test_headless_workflow_needs_neither_qt_nor_vtk(tmp_path):
    """The same workflow in a child that cannot import PySide6 or VTK (an import of either fails the run)."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "for m in ('PySide6', 'vtk', 'vtkmodules'):\n"
        "    sys.modules[m] = None  # any import of them raises ImportError\n"
        f"sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'tests' / 'unit' / 'imaging')!r}]\n"
        "from test_imaging_headless_workflow import drive\n"
        f"print(json.dumps(drive(Path({str(tmp_path)!r}))))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["qt_loaded"] == []
    _check(result)
