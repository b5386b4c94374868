"""Threshold logic, section finding with offsets, sentence spans and label-set mapping."""

from __future__ import annotations

import numpy as np
import pytest

from medpriv_desktop.core.reports.labels import CHESTXRAY14, CHEXPERT14, CTRATE18, chestxray14_to_chexpert, get_label_set
from medpriv_desktop.core.reports.sections import classification_text, split_sections, to_report_offset
from medpriv_desktop.core.reports.sentences import split_sentences
from medpriv_desktop.core.reports.thresholds import decide, f1_binary, tune_thresholds


def test_decide_uses_each_threshold_and_none_is_never_positive():
    probs = np.array([[0.6, 0.6, 0.99], [0.2, 0.8, 0.99]])
    out = decide(probs, [0.5, 0.7, None])
    assert out.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert decide(np.array([[0.5]]), [0.5]).tolist() == [[1]]  # the threshold itself is positive
    with pytest.raises(ValueError):
        decide(probs, [0.5])


def test_tune_thresholds_separates_validation_and_keeps_default_without_positives():
    probs = np.array([[0.1, 0.3], [0.35, 0.2], [0.4, 0.9], [0.8, 0.1]])
    labels = np.array([[0, 0], [0, 0], [1, 0], [1, 0]])
    th = tune_thresholds(probs, labels, default=0.5)
    assert 0.35 < th[0] <= 0.4  # between the best negative and the worst positive
    assert th[1] == 0.5  # no positives: the default stays
    assert f1_binary(labels[:, 0], decide(probs, th)[:, 0]) == 1.0


def test_tune_thresholds_prefers_fewer_false_alarms_on_ties():
    probs = np.array([[0.9], [0.2], [0.1]])
    labels = np.array([[1], [0], [0]])
    assert tune_thresholds(probs, labels)[0] > 0.2


def test_f1_binary():
    assert f1_binary(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])) == pytest.approx(0.5)
    assert f1_binary(np.array([0, 0]), np.array([0, 0])) == 0.0


def test_sections_and_offsets_round_trip():
    text = "INDICATION: cough.\nFINDINGS: Small effusion.\nIMPRESSION: Effusion.\n"
    names = [s.name for s in split_sections(text)]
    assert names == ["indication", "findings", "impression"]
    joined, pieces = classification_text(text)
    assert "cough" not in joined and "Small effusion." in joined and "Effusion." in joined
    i = joined.index("Effusion.")
    j = to_report_offset(i, pieces)
    assert text[j:j + 9] == "Effusion."


def test_report_without_headings_is_used_whole():
    text = "Trachea open. Thoracic CT within normal limits"
    joined, pieces = classification_text(text)
    assert joined == text and pieces == [(0, 0, len(text))]


def test_sentences_keep_decimals_and_offsets():
    text = "A 1.5 cm nodule. No effusion!\nImpression: stable"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["A 1.5 cm nodule.", "No effusion!", "Impression: stable"]


def test_label_sets_and_mapping():
    assert len(CHESTXRAY14) == 14 and len(CHEXPERT14) == 14 and len(CTRATE18) == 18
    assert get_label_set("CT-RATE").index("Bronchiectasis") == 16
    m = chestxray14_to_chexpert({"Effusion": 1, "Nodule": 0, "Mass": 1, "Hernia": 0})
    assert m == {"Pleural Effusion": 1, "Lung Lesion": 1, "No Finding": 0}
    assert chestxray14_to_chexpert({"Effusion": 0})["No Finding"] == 1
    with pytest.raises(KeyError):
        get_label_set("MIMIC")
