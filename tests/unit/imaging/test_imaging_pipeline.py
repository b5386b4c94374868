"""The whole engine on the phantom with tiny ONNX models: segment, post-process, stats, QC, export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _imaging_fixtures import expected_tiny_labels, make_bundle
from medpriv_desktop.core.errors import JobCancelled
from medpriv_desktop.core.imaging.inference import segment_volume
from medpriv_desktop.core.imaging.io import read_labelmap
from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
from medpriv_desktop.core.imaging.postprocess import fill_holes, keep_largest_component
from medpriv_desktop.core.imaging.qc import run_qc
from medpriv_desktop.core.imaging.stats import structure_stats
from medpriv_desktop.core.jobs import CancelToken, run_job
from medpriv_desktop.core.models.registry import ModelRegistry


def test_segmentation_matches_the_known_answer(tiny_registry, phantom):
    vol, _ = phantom
    progress = []
    res = run_job(segment_volume(vol, tiny_registry.get("seg-tiny-test"), tiny_registry, threads=1),
                  on_progress=progress.append)
    assert res.labelmap.same_grid(vol)
    assert np.array_equal(res.labelmap.array, expected_tiny_labels(vol.array))
    assert res.labelmap.labels == {0: "background", 1: "soft_tissue", 2: "bone"}
    fr = [p.fraction for p in progress]
    assert fr == sorted(fr) and fr[-1] == 1.0 and sum("tile" in p.message for p in progress) >= 2
    assert res.entropy.shape == res.labels_model.shape and 0 <= float(res.entropy.array.max()) <= 1
    assert {"preprocess", "inference", "resample", "postprocess"} <= set(res.timings)
    assert res.threads == 1


def test_reoriented_and_resampled_input_still_lands_on_its_grid(tmp_path, phantom):
    vol, _ = phantom
    make_bundle(tmp_path / "b", spacing=(5.0, 5.0, 5.0), orientation="LPS")
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=None)
    vol_lpi = vol.reoriented("PIR")
    res = run_job(segment_volume(vol_lpi, reg.get("seg-tiny-test"), reg, threads=1))
    assert res.labelmap.same_grid(vol_lpi)
    expected = expected_tiny_labels(vol_lpi.array)
    body = expected == 1
    dice = 2 * ((res.labelmap.array == 1) & body).sum() / ((res.labelmap.array == 1).sum() + body.sum())
    assert dice > 0.9


def test_thread_count_comes_from_settings(tiny_registry, phantom, monkeypatch):
    """The use case takes its threads from the Context's session factory (Preferences); the engine reads no
    settings of its own any more (issue 20)."""
    from medpriv_desktop.core.settings import load_settings, save_settings

    monkeypatch.delenv("MEDPRIV_ORT_THREADS", raising=False)
    s = load_settings()
    s.inference_threads = 3
    save_settings(s)
    res = run_job(segment_study(Context.build(registry=tiny_registry), phantom[0], tiny_registry.get("seg-tiny-test"),
                                options=SegmentOptions(check_fit=False)))
    assert res.segmentation.threads == 3


def test_largest_component_and_hole_filling():
    lab = np.zeros((20, 20, 20), np.uint8)
    lab[2:10, 2:10, 2:10] = 1
    lab[15:17, 15:17, 15:17] = 1  # a stray island
    lab[5, 5, 5] = 0  # an enclosed hole
    removed = keep_largest_component(lab, [1])
    assert removed == {1: 8} and lab[15:17, 15:17, 15:17].sum() == 0
    assert fill_holes(lab, [1]) == {1: 1} and lab[5, 5, 5] == 1


@pytest.mark.parametrize("orientation", ["RAS", "SPL"])  # two axis orders: sums must follow the axes
def test_stats_against_numpy(tiny_registry, phantom, orientation):
    vol, _ = phantom
    vol = vol.reoriented(orientation)
    res = run_job(segment_volume(vol, tiny_registry.get("seg-tiny-test"), tiny_registry, threads=1))
    stats = {s.name: s for s in structure_stats(res.labelmap, vol)}
    mask = res.labelmap.array == 1
    s = stats["soft_tissue"]
    assert s.voxels == int(mask.sum())
    assert np.isclose(s.volume_ml, mask.sum() * 3 * 3 * 4 / 1000)
    assert np.isclose(s.mean, vol.array[mask].mean(), atol=1e-3) and np.isclose(s.std, vol.array[mask].std(), atol=1e-2)
    assert s.min == vol.array[mask].min() and s.unit == "HU"
    assert np.allclose(s.centroid_mm, vol.voxel_to_world(np.argwhere(mask).mean(0)), atol=1e-6)
    idx = np.argwhere(mask)
    assert s.bbox_min == tuple(idx.min(0)) and s.bbox_max == tuple(idx.max(0))


def test_qc_uses_the_teacher_when_installed_and_flags_implausible_volumes(tmp_path, phantom):
    vol, _ = phantom
    ranges = {"soft_tissue": {"reference_volume": {"min_ml": 5, "max_ml": 10, "source": "made-up test range"},
                              "expected_components": 1},
              "bone": {"reference_volume": {"min_ml": 1, "max_ml": 1000, "source": "made-up test range"}}}
    make_bundle(tmp_path / "b", "seg-tiny-student", spacing=(3.0, 3.0, 4.0), role="student", label_extra=ranges)
    make_bundle(tmp_path / "b", "seg-tiny-teacher", spacing=(3.0, 3.0, 4.0), role="teacher",
                builder_kwargs={"centres": (-0.95, 0.05, 0.3)})  # calls more voxels bone than the student
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=None)
    student = reg.get("seg-tiny-student")
    res = run_job(segment_volume(vol, student, reg, threads=1))
    stats = structure_stats(res.labelmap, vol)
    report = run_job(run_qc(vol, res, student, reg, stats, threads=1))
    assert report.second_opinion == "teacher:seg-tiny-teacher"
    items = {(i.name, i.check): i for i in report.items}
    assert items[("soft_tissue", "volume")].status == "fail"  # ~1.5 L against a 5-10 mL range
    assert items[("bone", "volume")].status == "pass"
    assert items[("soft_tissue", "components")].status == "pass"
    assert items[("bone", "agreement")].metric < 0.9  # the teacher disagrees on bone
    assert items[("soft_tissue", "agreement")].metric > 0.9
    assert report.by_structure()["soft_tissue"] == "fail"
    # Without a teacher, the second opinion is the flipped image; the pointwise model is flip-equivariant.
    flip = run_job(run_qc(vol, res, student, reg, stats, second_opinion="flip", threads=1))
    assert flip.second_opinion == "flip"
    assert all(i.metric == 1.0 for i in flip.items if i.check == "agreement")


def test_pipeline_writes_every_output(tiny_registry, phantom, tmp_path):
    import nibabel as nib

    vol, _ = phantom
    src = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(vol.array, vol.affine), str(src))
    out = tmp_path / "out"
    res = run_job(segment_study(Context.build(registry=tiny_registry), src, tiny_registry.get("seg-tiny-test"),
                                output=out, options=SegmentOptions(stats=True, qc=True, threads=1)))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["ct_seg.nii.gz", "ct_seg.nrrd", "ct_seg_labels.json", "qc.json", "stats.csv", "stats.json",
                     "summary.json"]
    for f in ("ct_seg.nii.gz", "ct_seg.nrrd"):
        lm = read_labelmap(out / f)
        assert lm.same_grid(vol) and np.array_equal(lm.array, res.segmentation.labelmap.array)
    summary = json.loads((out / "summary.json").read_text())
    assert {"read", "preprocess", "inference", "postprocess", "export"} <= set(summary["timings_s"])
    assert (out / "stats.csv").read_text().splitlines()[0].startswith("value,name,voxels,volume_ml")


def test_cancelled_pipeline_leaves_no_half_written_files(tiny_registry, phantom, tmp_path):
    import nibabel as nib

    vol, _ = phantom
    src = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(vol.array, vol.affine), str(src))
    token = CancelToken()

    def on_progress(p):
        if "writing" in p.message:
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(segment_study(Context.build(registry=tiny_registry), src, tiny_registry.get("seg-tiny-test"),
                              output=tmp_path / "out"),
                on_progress, token)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_keep_largest_component_keeps_pieces_cut_by_the_edge_of_the_scan():
    """An aortic arch cut by the top slice is two tubes in the scan, joined outside it: both stay. An island inside
    the scan still goes, and without ``keep_cut`` only the largest piece is left (the old behaviour)."""
    lab = np.zeros((20, 20, 12), np.uint8)
    lab[3:7, 8:12, 2:12] = 5  # ascending aorta, reaches the top slice (z = 11)
    lab[13:16, 8:11, 6:12] = 5  # descending aorta, smaller, also cut by the top slice
    lab[9:11, 2:4, 3:5] = 5  # a stray island
    old = lab.copy()
    removed = keep_largest_component(lab, [5])
    assert removed == {5: 8}
    assert lab[13:16, 8:11, 6:12].all() and lab[3:7, 8:12, 2:12].all() and not lab[9:11, 2:4, 3:5].any()
    assert keep_largest_component(old, [5], keep_cut=False) == {5: 8 + 54}
    assert not old[13:16, 8:11, 6:12].any()
