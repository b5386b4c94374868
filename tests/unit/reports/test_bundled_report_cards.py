"""The bundled report classifiers' cards say what a privacy reviewer needs, and nothing epsilon does not cover; their
int8 weights cannot saturate the non-VNNI kernel (no data needed: reads resources/models)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.reports.labeler import LABELER_VERSION

MODELS = ("cxr-chestxray14-dp", "ctrate-chestct-dp")


@pytest.fixture(scope="module")
def cards():
    reg = ModelRegistry()
    out = {}
    for model_id in MODELS:
        try:
            out[model_id] = reg.get(model_id)
        except Exception:
            pytest.skip(f"{model_id} not bundled")
    return out


@pytest.mark.parametrize("model_id", MODELS)
def test_card_declares_rule_inputs_and_fixed_public_decisions(cards, model_id):
    card = cards[model_id].card
    rf = card.text_input.rule_features
    assert rf is not None and rf.labeler_version == LABELER_VERSION and rf.label_set == card.outputs.label_set
    assert rf.input_name in card.text_input.input_names and rf.width == 3 * len(card.outputs.labels)
    # Thresholds fixed in advance and every label supported: nothing here was fitted to private data.
    assert all(lb.supported and lb.threshold == 0.5 and lb.unsupported_reason is None for lb in card.outputs.labels)


@pytest.mark.parametrize("model_id", MODELS)
def test_card_publishes_no_training_label_counts(cards, model_id):
    text = cards[model_id].card.model_dump_json().lower() + (cards[model_id].path / "README.md").read_text().lower()
    import re

    # The old card said e.g. "only 7 positive reports in the training split": counts epsilon does not cover.
    assert not re.search(r"\d+ positive", text) and "positive reports in" not in text


@pytest.mark.parametrize("model_id", MODELS)
def test_privacy_block_is_consistent(cards, model_id):
    card = cards[model_id].card
    p = card.privacy
    cfg = card.training.config
    assert p is not None and p.epsilon is not None and p.epsilon <= 10
    assert p.target_epsilon_reached == (p.epsilon <= float(cfg["target_epsilon"]))
    assert p.delta == pytest.approx(1 / (10 * p.n_train))
    assert p.selection and "epsilon" in p.selection  # how the recipe was chosen and whether epsilon covers it
    assert card.metrics.get("rules_weighted_f1") is not None and card.metrics.get("f1", "Cardiomegaly") is not None
    assert card.metrics.get("weighted_f1") >= card.metrics.get("rules_weighted_f1") - 0.005


@pytest.mark.parametrize("model_id", MODELS)
def test_int8_weights_are_reduce_range(cards, model_id):
    """Every int8 weight lies in [-64, 63]: ONNX Runtime's AVX2 u8 x s8 kernel adds two products in 16 bits, and
    255 * 64 * 2 = 32640 fits, so the default kernel cannot saturate and gives the precise kernel's results."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    m = onnx.load(str(cards[model_id].model_path))
    q = [numpy_helper.to_array(i) for i in m.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(q) >= 6  # the encoder's projections are quantised
    assert max(int(np.abs(a.astype(np.int32)).max()) for a in q) <= 64
    # The head stays float32.
    floats = [i for i in m.graph.initializer if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) == 2]
    n = len(cards[model_id].card.outputs.labels)
    assert any(n in tuple(i.dims) and math.prod(i.dims) == n * (384 + 3 * n) for i in floats)


@pytest.mark.parametrize("model_id", MODELS)
def test_a_reports_probabilities_do_not_depend_on_the_other_reports(cards, model_id):
    """Both bundles quantize activations per input tensor; each window runs by itself, so a report scores the same
    alone as in a batch of others (and its occlusion evidence, which compares the two, measures the report)."""
    from medpriv_desktop.core.demo import demo_reports
    from medpriv_desktop.core.reports.classifier import ReportModel

    texts = [r["text"] for r in demo_reports(n=12, seed=3)]
    texts.append("FINDINGS: " + " ".join(r["findings"] for r in demo_reports(n=40, seed=4)))  # several windows
    model = ReportModel.from_entry(cards[model_id], threads=2)
    together, windows = model.probabilities(texts)
    assert max(windows) > 1
    alone = np.concatenate([model.probabilities([t])[0] for t in texts])
    np.testing.assert_array_equal(together, alone)
