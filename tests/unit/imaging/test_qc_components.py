"""Issue 19, item 1: the component check counts the model's own map, before keep-largest-component removed the
fragments (counted after it, the check could never fail), and says so when post-processing removed them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from medpriv_desktop.core.imaging.inference import segment_volume
from medpriv_desktop.core.imaging.postprocess import component_counts, postprocess_labels
from medpriv_desktop.core.imaging.qc import plausibility, run_qc
from medpriv_desktop.core.imaging.stats import structure_stats
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.jobs import run_job

sys.path.insert(0, str(Path(__file__).parent))
from _imaging_fixtures import make_bundle  # noqa: E402

LCC = {"bone": {"keep_largest_component": True, "expected_components": 1}}


def _bones(n_pieces: int, shape=(40, 40, 20)) -> Volume:
    """Soft tissue (50 HU) holding ``n_pieces`` separate bone cubes (700 HU), the first one the largest."""
    hu = np.full(shape, 50, np.int16)
    for k in range(n_pieces):
        size = 8 if k == 0 else 3
        x0 = 2 if k == 0 else 12 + 6 * (k - 1)
        hu[x0:x0 + size, 4:4 + size, 4:4 + size] = 700
    return Volume(hu, (2.0, 2.0, 2.0), (0.0, 0.0, 0.0), np.eye(3), "CT", {})


@pytest.fixture
def lcc_registry(tmp_path):
    pytest.importorskip("onnx")
    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(tmp_path / "bundled", spacing=(2.0, 2.0, 2.0), label_extra=LCC)
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)
    return reg, reg.get("seg-tiny-test")


@pytest.mark.parametrize("pieces, status", [(1, "pass"), (2, "warn"), (3, "warn"), (5, "fail")])
def test_fragments_are_counted_before_keep_largest_component(lcc_registry, pieces, status):
    reg, entry = lcc_registry
    vol = _bones(pieces)
    seg = run_job(segment_volume(vol, entry, reg, threads=1))
    assert seg.components_before[2] == pieces
    assert component_counts(seg.labelmap.array, [2])[2] == 1  # post-processing did keep only the largest
    report = run_job(run_qc(vol, seg, entry, reg, structure_stats(seg.labelmap, vol), second_opinion="none",
                            threads=1))
    (item,) = [i for i in report.items if i.check == "components" and i.name == "bone"]
    assert item.status == status and item.metric == pieces
    if pieces > 1:
        removed_ml = (pieces - 1) * 27 * 0.008  # 3x3x3 voxels of 2 mm per fragment
        assert f"{pieces} connected components before post-processing" in item.reason
        assert f"removed the rest ({removed_ml:.1f} mL)" in item.reason
    else:
        assert item.reason.startswith("1 connected component(s), 1 expected")


def test_without_post_processing_the_count_is_of_the_map_itself(lcc_registry):
    reg, entry = lcc_registry
    vol = _bones(2)
    seg = run_job(segment_volume(vol, entry, reg, threads=1, postprocess=False))
    assert seg.components_before[2] == 2 and component_counts(seg.labelmap.array, [2])[2] == 2
    report = run_job(run_qc(vol, seg, entry, reg, structure_stats(seg.labelmap, vol), second_opinion="none",
                            threads=1))
    (item,) = [i for i in report.items if i.check == "components" and i.name == "bone"]
    assert item.status == "warn" and "removed" not in item.reason and "before post-processing" not in item.reason


def test_postprocess_reports_the_counts_it_saw():
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[1:6, 1:6, 1:6] = 3
    labels[10:12, 10:12, 10:12] = 3
    labels[15:17, 1:3, 1:3] = 3
    from types import SimpleNamespace

    lb = SimpleNamespace(value=3, keep_largest_component=True, expected_components=1)
    card = SimpleNamespace(outputs=SimpleNamespace(labels=[SimpleNamespace(value=0, keep_largest_component=False,
                                                                           expected_components=None), lb],
                                                   fill_holes=False))
    report = postprocess_labels(labels, card)
    assert report["components_before"] == {3: 3}
    assert report["largest_component_removed"] == {3: 16}
    assert component_counts(labels, [3]) == {3: 1}


def test_plausibility_words_removed_fragments_in_mL():
    from types import SimpleNamespace

    from medpriv_desktop.core.imaging.stats import StructureStats

    s = StructureStats(4, "heart", 100, 500.0, 40.0, 5.0, 0.0, 80.0, (0.0, 0.0, 0.0), (1, 1, 1), (8, 8, 8), False)
    lb = SimpleNamespace(reference_volume=None, expected_components=1)
    card = SimpleNamespace(label_by_value=lambda: {4: lb})
    (item,) = [i for i in plausibility([s], card, {4: 6}, removed_ml={4: 12.34}) if i.check == "components"]
    assert item.status == "fail"
    assert item.reason == ("6 connected components before post-processing, 1 expected (warn above 1, fail above 3); "
                           "post-processing kept the largest (and any piece cut by the edge of the scan) and removed the rest "
                           "(12.3 mL)")
