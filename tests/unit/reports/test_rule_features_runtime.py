"""Rule-labeler outputs as model inputs: the encoding, the labeler version pin, and the runtime feeding them to an
ONNX model that declares them (no torch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.reports.classifier import ReportModel
from medpriv_desktop.core.reports.labeler import LABELER_VERSION
from medpriv_desktop.core.reports.labels import CHESTXRAY14
from medpriv_desktop.core.reports.rule_features import RuleFeatures, feature_names, labeler_fingerprint
from tests.unit.reports._tiny import build_bundle, build_rules_bundle

#: LABELER_VERSION -> fingerprint of the rules it names. Changing a pattern changes the fingerprint: bump
#: LABELER_VERSION and add its line here (models trained on the old rules are then refused, not misread).
PINNED = {"1": "3b6c5bdb98058187"}

EFF = CHESTXRAY14.index("Effusion")
PNA = CHESTXRAY14.index("Pneumonia")


def test_labeler_version_names_these_rules():
    assert PINNED.get(LABELER_VERSION) == labeler_fingerprint()


@pytest.mark.parametrize("text,index,expected", [
    ("Small left pleural effusion.", EFF, (1, 0, 0)),
    ("No pleural effusion.", EFF, (0, 0, 1)),
    ("Pneumonia cannot be excluded.", PNA, (0, 1, 0)),
    ("Lungs are clear.", EFF, (0, 0, 0)),
    ("No effusion. Large left effusion on the lateral view.", EFF, (1, 0, 0)),  # a positive mention wins
])
def test_status_encoding(text, index, expected):
    row = RuleFeatures("ChestX-ray14")([text])[0]
    assert row.shape == (3 * len(CHESTXRAY14),)
    assert tuple(row[3 * index:3 * index + 3]) == expected
    assert row.sum() == sum(expected)  # no other label is mentioned in these sentences


def test_feature_names_follow_label_order():
    names = feature_names("ChestX-ray14")
    assert names[3 * EFF:3 * EFF + 3] == ["Effusion:positive", "Effusion:uncertain", "Effusion:negated"]
    assert len(RuleFeatures("CT-RATE")([])) == 0 and RuleFeatures("CT-RATE").width == 54


@pytest.fixture
def rules_bundle(medpriv_home):
    return build_rules_bundle(medpriv_home / "site_models")


def _load(bundle) -> ReportModel:
    reg = ModelRegistry()
    return ReportModel.from_entry(reg.get(bundle.name), reg)


def test_runtime_feeds_rule_values_to_the_model(rules_bundle):
    # The word table knows nothing of 'effusion' here: Effusion can only come from the rule input.
    preds = _load(rules_bundle).classify(["There is a small left effusion.", "No effusion. Lung clear.",
                                          "There is a nodule.", ""])
    assert [p.decisions["Effusion"] for p in preds] == [1, 0, 0, 0]
    assert preds[2].decisions["Nodule"] == 1 and preds[3].empty


def test_every_window_of_a_long_report_gets_the_report_rule_values(rules_bundle):
    # 'effusion' sits in the first window only; the rule value belongs to the whole report, so every window sees it.
    text = "There is a small left effusion. " + "Lung clear. " * 30
    model = _load(rules_bundle)
    pred = model.classify([text])[0]
    assert pred.windows > 1 and pred.decisions["Effusion"] == 1
    from medpriv_desktop.core.reports.classifier import window_logits

    windows = window_logits(model.encoder, [text], {"rule_features": model.rule_features([text])})[0]
    assert len(windows) == pred.windows and all(w.logits[0] > 30 for w in windows)


@pytest.mark.parametrize("change,message", [({"labeler_version": "0"}, "rule labeler version 0"),
                                            ({"width": 9}, "expects 9 rule values")])
def test_a_model_trained_on_other_rules_is_refused(medpriv_home, change, message):
    b = build_rules_bundle(medpriv_home / "site_models", **change)
    with pytest.raises(ModelError, match=message):
        _load(b)


def test_card_rule_inputs_missing_from_graph_is_refused(medpriv_home):
    b = build_bundle(medpriv_home / "site_models", model_id="cxr-tiny-plain")
    card = json.loads((b / "model_card.json").read_text())
    card["text_input"]["rule_features"] = {"label_set": "ChestX-ray14", "labeler_version": LABELER_VERSION,
                                           "width": 42}
    (b / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="does not take"):
        _load(b)


def test_old_bundles_without_rule_inputs_still_load(medpriv_home):
    b = build_bundle(medpriv_home / "site_models", model_id="cxr-tiny-old")
    model = _load(b)
    assert model.rule_features is None
    assert model.classify(["There is a small left effusion."])[0].decisions["Effusion"] == 1


def test_rule_values_are_float32_rows_per_text():
    feats = RuleFeatures("ChestX-ray14")(["No effusion.", "Effusion."])
    assert feats.dtype == np.float32 and feats.shape == (2, 42)
    assert feats[0, 3 * EFF + 2] == 1 and feats[1, 3 * EFF] == 1
