"""Issue 21, item 2: every QC reason states the measured value, the threshold and (volumes) the source of the range;
a structure cut by the edge of the scan is partial; agreement is agreement of two models, not accuracy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medpriv_desktop.core.imaging.qc import agreement_items, plausibility, short_source, uncertainty_items
from medpriv_desktop.core.imaging.stats import StructureStats
from medpriv_desktop.core.models.card import ReferenceRange

SOURCE = "Smith AB et al., Normal heart volumes on CT, Radiology 2001;220:1-9 (adult heart 350-900 ml)"


def _stats(volume: float, border: bool = False, voxels: int = 100) -> StructureStats:
    return StructureStats(4, "heart", voxels, volume, 40.0, 5.0, 0.0, 80.0, (0.0, 0.0, 0.0), (0, 0, 0), (9, 9, 9),
                          border)


def _card(expected_components=None):
    lb = SimpleNamespace(reference_volume=ReferenceRange(min_ml=350, max_ml=900, source=SOURCE),
                         expected_components=expected_components)
    return SimpleNamespace(label_by_value=lambda: {4: lb})


@pytest.mark.parametrize("volume, border, status, words", [
    (34.0, False, "fail", ["34.0 mL below the adult range 350-900 mL [Smith AB et al. 2001]", "fail beyond 50%"]),
    (300.0, False, "warn", ["300.0 mL below the adult range 350-900 mL [Smith AB et al. 2001]"]),
    (500.0, False, "pass", ["500.0 mL within the adult range 350-900 mL [Smith AB et al. 2001]"]),
    (34.0, True, "warn", ["partial: cut by the edge of the field of view, 34.0 mL seen", "whole organ"]),
    (1400.0, False, "fail", ["1400.0 mL above the adult range"]),
])
def test_volume_reasons_state_value_range_and_source(volume, border, status, words):
    (item,) = plausibility([_stats(volume, border)], _card(), {})
    assert item.status == status
    for w in words:
        assert w in item.reason
    if border and volume < 350:
        assert "implausible" not in item.reason and "below the adult range" not in item.reason


def test_components_reason_states_the_thresholds():
    items = plausibility([_stats(500.0)], _card(expected_components=1), {4: 3})
    comp = next(i for i in items if i.check == "components")
    assert comp.status == "warn" and comp.reason == "3 connected component(s), 1 expected (warn above 1, fail above 3)"


@pytest.mark.parametrize("dice, status, text", [(0.91, "pass", "Dice 0.91 ≥ 0.85"), (0.7, "warn", "Dice 0.70 < 0.85"),
                                                (0.41, "fail", "Dice 0.41 < 0.60")])
def test_agreement_is_between_two_models_not_accuracy(dice, status, text):
    (item,) = agreement_items({"heart": dice}, {4: "heart"}, "the teacher model")
    assert item.status == status and item.reason.startswith(text)
    assert "between this model and the teacher model" in item.reason and "not accuracy" in item.reason


@pytest.mark.parametrize("entropy, status, text", [(0.1, "pass", "mean entropy 0.10 ≤ 0.15"),
                                                   (0.2, "warn", "mean entropy 0.20 > 0.15"),
                                                   (0.414, "fail", "mean entropy 0.41 > 0.35")])
def test_uncertainty_reason_names_the_threshold(entropy, status, text):
    labels = SimpleNamespace(array=np.array([0, 4, 4]), labels={4: "heart"})
    result = SimpleNamespace(labels_model=labels, entropy=SimpleNamespace(array=np.array([0.0, entropy, entropy])))
    (item,) = uncertainty_items(result)
    assert item.status == status and item.reason.startswith(text)


def test_short_source_keeps_author_and_year():
    assert short_source(SOURCE) == "Smith AB et al. 2001"
    assert short_source(None) == "source not given on the card"
