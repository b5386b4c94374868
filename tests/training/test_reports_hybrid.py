"""The rules + encoder recipe (dp-rules-head): warm start at the rules, per-example gradients under opacus, the
accounting, the reproduce command, the ONNX export with reduce-range int8, and the synthetic corpus (tiny, seconds)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")

from medpriv_desktop.core.reports.labeler import RuleLabeler  # noqa: E402
from medpriv_desktop.core.reports.labels import CHESTXRAY14, CTRATE18  # noqa: E402
from medpriv_desktop.core.reports.rule_features import RuleFeatures  # noqa: E402
from training.reports.hybrid import (  # noqa: E402
    HybridConfig, HybridHead, RuleCalibration, config_dict, noise_scaled_lr, predict, train_hybrid,
)
from training.reports.hybrid_run import rule_decisions  # noqa: E402

TEXTS = ["Small left pleural effusion.", "No pleural effusion. Mild cardiomegaly.", "Pneumonia cannot be excluded.",
         "Lungs are clear.", "Possible small nodule. No pneumothorax."]


def _rules(texts=TEXTS, label_set="ChestX-ray14"):
    return RuleFeatures(label_set)(texts)


def test_untrained_head_reproduces_the_rule_labeler():
    rules = _rules()
    head = HybridHead(8, len(CHESTXRAY14), encoder_scale=1.0)
    pooled = np.random.default_rng(0).normal(size=(len(TEXTS), 8)).astype(np.float32)
    dec = (predict(head, pooled, rules) >= 0.5).astype(int)
    lab = RuleLabeler("ChestX-ray14")
    expected = np.array([[lab.label(t).binary(uncertain_as=1)[n] for n in CHESTXRAY14] for t in TEXTS])
    assert (dec == expected).all() and (rule_decisions(rules) == expected).all()
    assert expected.sum() >= 4  # the table has positives, uncertain ones included


def test_export_weights_give_the_same_logits_from_raw_inputs():
    rng = np.random.default_rng(1)
    mean, std = rng.normal(size=8).astype(np.float32), rng.uniform(0.5, 2, size=8).astype(np.float32)
    head = HybridHead(8, len(CHESTXRAY14), mean, std, encoder_scale=3.0)
    with torch.no_grad():
        head.encoder.weight.normal_()
        head.rules.weight.add_(torch.randn_like(head.rules.weight))
    pooled, rules = rng.normal(size=(5, 8)).astype(np.float32), _rules()
    w, b = head.export_weights()
    raw = np.concatenate([pooled, rules], axis=1) @ w.T + b
    with torch.no_grad():
        ref = head(head.inputs(torch.tensor(pooled), torch.tensor(rules))).numpy()
    np.testing.assert_allclose(raw, ref, rtol=1e-5, atol=1e-4)
    # A label reads only its own rule values: the rule block of the exported matrix is block-diagonal.
    block = w[:, 8:].reshape(len(CHESTXRAY14), len(CHESTXRAY14), 3)
    assert np.count_nonzero(block[~np.eye(len(CHESTXRAY14), dtype=bool)]) == 0


def test_opacus_per_example_gradients_of_the_rule_calibration_are_exact():
    from opacus import GradSampleModule

    cal = RuleCalibration(len(CHESTXRAY14), 4.0)
    gsm = GradSampleModule(cal, loss_reduction="sum")
    x, y = torch.tensor(_rules()), torch.zeros(len(TEXTS), len(CHESTXRAY14))
    y[0, CHESTXRAY14.index("Effusion")] = 1
    torch.nn.functional.binary_cross_entropy_with_logits(gsm(x), y, reduction="sum").backward()
    for i in range(len(TEXTS)):
        ref = RuleCalibration(len(CHESTXRAY14), 4.0)
        torch.nn.functional.binary_cross_entropy_with_logits(ref(x[i:i + 1]), y[i:i + 1], reduction="sum").backward()
        torch.testing.assert_close(cal.weight.grad_sample[i], ref.weight.grad)
        torch.testing.assert_close(cal.bias.grad_sample[i], ref.bias.grad)


def _toy(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, len(CHESTXRAY14))) < 0.2).astype(np.float32)
    rules = np.zeros((n, 3 * len(CHESTXRAY14)), np.float32)
    rules[:, 0::3] = y  # the rules see every positive...
    rules[:, 3 * 2] = 1.0 - y[:, 2]  # ...except that label 2's rule fires exactly on its negatives
    pooled = rng.normal(size=(n, 8)).astype(np.float32)
    return pooled, rules, y


def test_dp_run_accounting_reports_spent_epsilon_with_one_error_bound():
    from training.reports.accounting import compute_epsilon, search_error

    pooled, rules, y = _toy()
    cfg = HybridConfig(target_epsilon=2.0, steps=30, max_tokens=16)
    res = train_hybrid(cfg, pooled, rules, y, None, None, log=lambda m: None)
    p = res.privacy
    assert p["steps"] == 30 and p["sampling_rate"] == pytest.approx(1 / 3)
    again = compute_epsilon(p["noise_multiplier"], p["sampling_rate"], 30, p["delta"], "prv",
                            eps_error=search_error(2.0))
    assert p["epsilon"] == pytest.approx(again) and p["epsilon"] <= 2.0
    assert p["target_epsilon_reached"] is (p["epsilon"] <= 2.0)
    assert p["delta"] == pytest.approx(1 / (10 * len(y)))
    assert p["lr"] == pytest.approx(noise_scaled_lr(cfg, p["noise_multiplier"], len(y) / 3))


def test_noise_caps_the_learning_rate_and_non_private_runs_are_uncapped():
    cfg = HybridConfig(lr=1.0, noise_lr=0.005, steps=400, max_grad_norm=1.0)
    assert noise_scaled_lr(cfg, sigma=10.0, expected_batch=100.0) == pytest.approx(0.005 / (0.1 * 20))
    assert noise_scaled_lr(cfg, sigma=1e-6, expected_batch=100.0) == 1.0
    pooled, rules, y = _toy()
    res = train_hybrid(HybridConfig(method="rules-head", target_epsilon=math.inf, steps=200), pooled, rules, y, None,
                       None, log=lambda m: None)
    assert res.privacy["lr"] == 1.0 and math.isinf(res.privacy["epsilon"])
    # Non-private training learns what the rules get wrong (label 2 is inverted in the toy data).
    dec = predict(res.head, pooled, rules) >= 0.5
    assert (dec[:, 2] == y[:, 2].astype(bool)).mean() > 0.95 and (rule_decisions(rules)[:, 2] == y[:, 2]).mean() == 0


def test_reproduce_command_regenerates_the_training_config():
    import shlex

    from training.cli import build_parser
    from training.reports.cli import hybrid_config
    from training.reports.export_hybrid import reproduce_command

    for cfg in (HybridConfig(max_tokens=512, target_epsilon=1.0, seed=1, encoder_scale=0.0),
                HybridConfig(max_tokens=128, target_epsilon=10.0, pos_weight=3.0, steps=120, delta=1e-5),
                HybridConfig(method="rules-head", target_epsilon=math.inf, max_tokens=128)):
        argv = shlex.split(reproduce_command("ctrate" if cfg.max_tokens == 512 else "openi", cfg))[1:]
        args = build_parser().parse_args(argv)
        assert config_dict(hybrid_config(args)) == config_dict(cfg)


def test_bundled_cards_reproduce_commands_regenerate_their_configs():
    import shlex

    from medpriv_desktop.core.models.registry import ModelRegistry
    from training.cli import build_parser
    from training.reports.cli import hybrid_config

    reg = ModelRegistry()
    seen = 0
    for model_id in ("cxr-chestxray14-dp", "ctrate-chestct-dp"):
        card = reg.get(model_id).card
        if card.training.config.get("method") != "dp-rules-head":
            continue
        args = build_parser().parse_args(shlex.split(card.training.command)[1:])
        got = {k: v for k, v in config_dict(hybrid_config(args)).items() if k != "backbone"}
        assert got == card.training.config
        seen += 1
    assert seen == 2


def test_explicit_lora_alpha_is_honoured():
    from training.cli import build_parser
    from training.reports.cli import _given

    args = build_parser().parse_args(["reports", "train", "--dataset", "openi", "--method", "dp-lora", "--lora-rank",
                                      "8", "--lora-alpha", "2", "-o", "x.pt"])
    assert _given(args)["lora_alpha"] == 2 and _given(args)["lora_rank"] == 8
    args = build_parser().parse_args(["reports", "train", "--dataset", "openi", "--method", "dp-lora", "--lora-rank",
                                      "4", "-o", "x.pt"])
    assert _given(args)["lora_alpha"] == 8  # rank alone keeps the adapter scale alpha / rank = 2


@pytest.mark.parametrize("label_set,names", [("ChestX-ray14", CHESTXRAY14), ("CT-RATE", CTRATE18)])
def test_synthetic_reports_plant_labels_in_label_order(label_set, names):
    from training.reports.synthetic import generate

    syn = generate(label_set, 300, seed=3)
    assert syn.label_names == list(names) and syn.labels.shape == (300, len(names))
    assert generate(label_set, 300, seed=3).texts == syn.texts  # deterministic
    prevalence = syn.labels.mean(0)
    assert (prevalence > 0.05).all() and (prevalence < 0.35).all()
    # Some wordings are unknown to the rules, so the rules miss some planted positives.
    miss = (rule_decisions(RuleFeatures(label_set)(syn.texts)) < syn.labels).sum()
    assert miss > 0.1 * syn.labels.sum()


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory) -> Path:
    from tests.training._text_tiny import tiny_bert, tiny_tokenizer

    d = tmp_path_factory.mktemp("tiny_minilm")
    tiny_tokenizer().save_pretrained(d)
    tiny_bert("embedding").save_pretrained(d)
    return d


def test_onnx_export_matches_torch_and_int8_weights_are_reduce_range(tiny_backbone, tmp_path):
    import onnx
    from onnx import numpy_helper

    from training.reports.model import load_backbone, masked_mean
    from training.reports.onnx_hybrid import HybridOnnx, export_onnx, quantize_int8, runtime_decisions
    from training.text.export import save_tokenizer_json

    enc, tok = load_backbone(tiny_backbone, 2)
    rng = np.random.default_rng(0)
    n_labels = len(CHESTXRAY14)
    w = rng.normal(scale=0.5, size=(n_labels, 32 + 3 * n_labels)).astype(np.float32)
    b = rng.normal(size=n_labels).astype(np.float32)
    fp32, int8 = tmp_path / "m.fp32.onnx", tmp_path / "m.onnx"
    export_onnx(HybridOnnx(enc, w, b), tok, fp32, 3 * n_labels)
    quantize_int8(fp32, int8)
    tok_path = save_tokenizer_json(tok, tmp_path)
    texts = ["no pleural effusion . small nodule", "the patient was seen today", "effusion"]
    _, probs = runtime_decisions(fp32, tok_path, texts, list(CHESTXRAY14), "ChestX-ray14", 32, 8)
    e = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = masked_mean(enc(**e).last_hidden_state, e["attention_mask"]).numpy()
    ref = 1 / (1 + np.exp(-(np.concatenate([pooled, _rules(texts)], 1) @ w.T + b)))
    np.testing.assert_allclose(probs, ref, atol=1e-4)
    # Reduce-range: every int8 weight in [-64, 63], so 255 * 64 * 2 <= 32767 and the non-VNNI kernel cannot saturate.
    m = onnx.load(str(int8))
    q = [numpy_helper.to_array(i) for i in m.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert q and max(int(np.abs(a.astype(np.int32)).max()) for a in q) <= 64
    # The head stays float32: its weight is still a float initializer of shape (labels, hidden + 3 labels).
    assert any(tuple(i.dims) in ((n_labels, 32 + 3 * n_labels), (32 + 3 * n_labels, n_labels))
               and i.data_type == onnx.TensorProto.FLOAT for i in m.graph.initializer)
    for precise in (True, False):
        _, qp = runtime_decisions(int8, tok_path, texts, list(CHESTXRAY14), "ChestX-ray14", 32, 8, precise)
        assert np.abs(qp - probs).max() < 0.05


def test_label_sets_without_rules_or_synthetic_reports_get_one_clear_error(tmp_path):
    from medpriv_desktop.core.errors import InputError
    from training.reports.data import ReportDataset
    from training.reports.hybrid_run import load_hybrid_data

    def ds(label_set, names):
        return ReportDataset("x", label_set, names, ["1"], ["No effusion."], np.zeros((1, len(names)), np.float32))

    with pytest.raises(InputError, match="label set the rule labeler knows"):
        load_hybrid_data(ds("custom", ["A"]), HybridConfig(), None, log=lambda m: None)
    from medpriv_desktop.core.reports.labels import CHEXPERT14

    with pytest.raises(InputError, match="no synthetic CheXpert reports"):
        load_hybrid_data(ds("CheXpert", list(CHEXPERT14)), HybridConfig(), None, log=lambda m: None)
