"""Issue 19, item 1: a structure cut by the field of view is partial, not implausible. The field of view of a CT
ends at the array's edge *and* at the reconstruction circle, outside which scanners write a constant padding value
(-1024 HU or lower); a structure cut by that circle never reaches the array's edge."""

from __future__ import annotations

import numpy as np
import pytest

from medpriv_desktop.core.imaging.qc import agreement_items, plausibility
from medpriv_desktop.core.imaging.stats import StructureStats, structure_stats
from medpriv_desktop.core.imaging.volume import LabelMap, Volume

N = 96
RADIUS = 40.0  # voxels of 1 mm: the reconstruction circle ends 7 voxels before the array's edge


def _circle_ct(pad: int = -1024, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(HU, in-circle mask) of an 8-slice CT: noisy soft tissue inside the circle, ``pad`` outside."""
    rng = np.random.default_rng(seed)
    xx, yy = np.meshgrid(np.arange(N) - (N - 1) / 2, np.arange(N) - (N - 1) / 2, indexing="ij")
    inside = (xx**2 + yy**2) <= RADIUS**2
    hu = rng.normal(40, 15, (N, N, 8)).round().astype(np.int16)
    hu[~inside] = pad
    return hu, np.broadcast_to(inside[..., None], hu.shape)


def _stats_for(hu: np.ndarray, labels: np.ndarray, modality: str = "CT") -> dict[str, StructureStats]:
    img = Volume(hu, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3), modality, {})
    names = {1: "body", 2: "cut_by_circle", 3: "inner", 4: "near_circle", 5: "clear_of_circle"}
    lm = LabelMap.like(img, labels, names)
    return {s.name: s for s in structure_stats(lm, img)}


@pytest.mark.parametrize("pad", [-1024, -2048, -3024])
def test_structure_cut_by_the_reconstruction_circle_touches_the_field_of_view(pad):
    hu, inside = _circle_ct(pad)
    x = np.arange(N)[:, None, None] - (N - 1) / 2
    y = np.arange(N)[None, :, None] - (N - 1) / 2
    mid = (np.arange(8) >= 2) & (np.arange(8) < 6)  # slices 2-5: no structure but the body reaches the first/last
    labels = np.where(inside, 1, 0).astype(np.uint8)
    labels[inside & mid & (x > 25) & (np.abs(y) < 10)] = 2  # runs into the circle on the patient's side
    labels[44:52, 44:52, 2:6] = 3  # in the middle
    labels[inside & mid & (x < -RADIUS + 3 + 6) & (x >= -RADIUS + 3) & (np.abs(y) < 6)] = 4  # 3-4 mm short of it
    labels[inside & mid & (y > 10) & (y < 22) & (np.abs(x) < 6)] = 5  # 18 mm away from it
    # Clipped air noise: isolated padding-valued voxels inside the circle, right next to 'inner', are no edge.
    hu[43, 46, 3] = hu[52, 48, 4] = hu[47, 43, 2] = pad
    st = _stats_for(hu, labels)
    assert st["cut_by_circle"].touches_border
    assert st["near_circle"].touches_border
    assert st["body"].touches_border
    assert not st["inner"].touches_border
    assert not st["clear_of_circle"].touches_border


def test_the_array_edge_still_counts_and_mr_zero_background_is_no_edge():
    hu, inside = _circle_ct()
    labels = np.where(inside, 1, 0).astype(np.uint8)
    labels[40:50, 40:50, 0:3] = 3  # reaches the first slice
    st = _stats_for(hu, labels)
    assert st["inner"].touches_border
    mr = np.where(inside, 300, 0).astype(np.int16)  # MR: zero outside the body is air, not padding
    labels = np.where(inside, 1, 0).astype(np.uint8)
    labels[:, :, [0, 7]] = 0  # the body stops short of the first and last slice
    assert not _stats_for(mr, labels, "MR")["body"].touches_border


def test_no_padding_no_circle():
    """A CT without a padding region (air at about -1000 HU around the body) has only the array's edge."""
    hu, inside = _circle_ct(pad=-1000)
    hu[~inside] = np.random.default_rng(1).normal(-1000, 10, (~inside).sum()).round()
    labels = np.where(inside, 1, 0).astype(np.uint8)
    labels[:, :, [0, 7]] = 0
    assert not _stats_for(hu, labels)["body"].touches_border


def _stat(border: bool) -> StructureStats:
    return StructureStats(4, "heart", 100, 500.0, 40.0, 5.0, 0.0, 80.0, (0.0, 0.0, 0.0), (0, 0, 0), (9, 9, 9), border)


def test_components_of_a_cut_structure_are_at_most_a_warning():
    """Cut by the edge, one organ can show as several pieces (an aortic arch cut by the top slice): not implausible."""
    from types import SimpleNamespace

    lb = SimpleNamespace(reference_volume=None, expected_components=1)
    card = SimpleNamespace(label_by_value=lambda: {4: lb})
    (inside,) = [i for i in plausibility([_stat(False)], card, {4: 5}) if i.check == "components"]
    (cut,) = [i for i in plausibility([_stat(True)], card, {4: 5}) if i.check == "components"]
    assert inside.status == "fail"
    assert cut.status == "warn"
    assert "partial" in cut.reason and "edge of the field of view" in cut.reason and "5 connected" in cut.reason


def test_agreement_of_a_cut_structure_says_partial():
    (item,) = agreement_items({"heart": 0.5}, {4: "heart"}, "the teacher model", partial={"heart"})
    assert item.status == "fail" and "partial: cut by the edge of the field of view" in item.reason
    (item,) = agreement_items({"heart": 0.5}, {4: "heart"}, "the teacher model")
    assert "partial" not in item.reason
