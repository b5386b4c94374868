"""Readers on the public TotalSegmentator examples (../shared/data): images and their label maps overlay exactly.

Skipped with a reason when the shared data folder is absent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from medpriv_desktop.core.imaging.io import read_labelmap, read_volume

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "imaging"))


@pytest.fixture
def ts(shared_data: Path) -> Path:
    d = shared_data / "imaging" / "totalsegmentator"
    if not d.is_dir():
        pytest.skip("imaging/totalsegmentator not in the shared data")
    return d


def _names(ts: Path, key: str = "total") -> dict[str, int]:
    return {v: int(k) for k, v in json.loads((ts / "class_map.json").read_text())[key].items()}


def _mean_hu(vol, seg, value):
    return float(vol.array[seg.array == value].mean())


def _centroid(seg, value):
    return seg.voxel_to_world(np.argwhere(seg.array == value).mean(0))


def test_dicom_series_and_its_label_map_overlay_voxel_for_voxel(ts):
    vol = read_volume(ts / "example_ct_dicom")
    seg = read_labelmap(ts / "example_seg_dicom.nii.gz")
    assert vol.meta["transfer_syntax"] == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless, decoded
    assert vol.modality == "CT" and vol.shape == (512, 512, 20)
    assert vol.meta["warnings"] == []
    # Same physical grid; the NIfTI stores rows bottom-up (LAS), so reorienting exactly gives the same affine.
    on_seg = vol.reoriented(seg.orientation_codes())
    assert on_seg.shape == seg.shape
    assert np.allclose(on_seg.affine, seg.affine, atol=1e-3)
    names = _names(ts)
    liver, spleen, aorta = names["liver"], names["spleen"], names["aorta"]
    assert 40 < _mean_hu(on_seg, seg, liver) < 150  # soft tissue (contrast enhanced)
    assert _mean_hu(on_seg, seg, aorta) > 120  # contrast in the aorta
    assert _mean_hu(on_seg, seg, names["vertebrae_T12"]) > 150  # bone
    # RAS+: the liver is on the patient's right, so at larger x than the spleen.
    assert _centroid(seg, liver)[0] > _centroid(seg, spleen)[0] + 50
    # A wrong row order would put the organs on air or fat: check that the overlay is this good only once.
    wrong = on_seg.with_array(np.ascontiguousarray(on_seg.array[:, ::-1, :]))
    assert _mean_hu(wrong, seg, liver) < 0


def test_small_ct_and_its_label_maps_overlay(ts):
    vol = read_volume(ts / "example_ct_sm.nii.gz")
    names = _names(ts)
    for f in ("example_seg.nii.gz", "example_seg_fast.nii.gz"):
        seg = read_labelmap(ts / f)
        assert seg.same_grid(vol, tol_mm=1e-3)
        assert 20 < _mean_hu(vol, seg, names["liver"]) < 150
        assert _centroid(seg, names["liver"])[0] > _centroid(seg, names["spleen"])[0]
    assert vol.modality == "CT" and vol.meta.get("modality_guessed")


def test_mr_and_its_label_map_overlay(ts):
    vol = read_volume(ts / "example_mr_sm.nii.gz")
    seg = read_labelmap(ts / "example_seg_mr.nii.gz")
    assert seg.same_grid(vol) and vol.modality == "MR"
    assert len(seg.present_values()) > 10


def test_segment_the_real_dicom_series_end_to_end(ts, tmp_path):
    pytest.importorskip("onnx")
    from _imaging_fixtures import make_bundle

    from medpriv_desktop.core.imaging.io import read_labelmap as rl
    from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(tmp_path / "b", spacing=(3.0, 3.0, 3.0), patch=(64, 64, 32))
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=None)
    res = run_job(segment_study(Context.build(registry=reg), ts / "example_ct_dicom", reg.get("seg-tiny-test"),
                                output=tmp_path / "o", options=SegmentOptions(stats=True, threads=1)))
    assert res.segmentation.labelmap.same_grid(res.volume)
    out = rl(tmp_path / "o" / "example_ct_dicom_seg.nii.gz")
    assert out.same_grid(res.volume)
    stats = {s.name: s for s in res.stats}
    assert 100 < stats["bone"].mean < 1500  # bone voxels of a real CT are bone
    # The anonymised example lacks Study/Series UIDs: the SEG is skipped with a warning, not a crash.
    assert any("DICOM SEG not written" in w for w in res.warnings)
