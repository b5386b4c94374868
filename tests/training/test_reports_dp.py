"""DP-LoRA on a tiny random BERT: one DP step moves the LoRA weights, huge epsilon tracks the non-private run,
export + the app runtime agree with torch, and the accountant behaves."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")
pytest.importorskip("peft")

from training.reports.accounting import compute_epsilon, default_delta, noise_for_epsilon  # noqa: E402
from training.reports.data import ReportDataset  # noqa: E402
from training.reports.model import LogitsOutput, lora_parameters  # noqa: E402
from training.reports.train import TrainConfig, build_model, predict_proba, train_classifier  # noqa: E402

WORDS = ("no small left right effusion nodule lung clear heart size normal there is a the seen findings impression "
         "pleural mass stable").split()
LABELS = ["Effusion", "Nodule"]


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    """A 2-layer, 32-wide random BERT + WordPiece tokenizer saved as a local Hugging Face folder."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    d = tmp_path_factory.mktemp("tiny_bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + list(WORDS)
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]").save_pretrained(d)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(d)
    return d


def _data(n: int = 16) -> ReportDataset:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i in range(n):
        eff, nod = int(rng.random() < 0.5), int(rng.random() < 0.5)
        parts = ["there is a small left effusion ." if eff else "no pleural effusion .",
                 "right lung nodule ." if nod else "lung clear .", "heart size normal ."]
        texts.append(" ".join(parts))
        labels.append([eff, nod])
    return ReportDataset("tiny", "tiny", LABELS, [str(i) for i in range(n)], texts, np.array(labels, np.float32))


def _no_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    return model


def test_one_dp_step_moves_lora_weights(backbone):
    cfg = TrainConfig(method="dp-lora", target_epsilon=8.0, backbone=str(backbone), batch_size=8,
                      physical_batch_size=4, max_tokens=32, epochs=1, accountant="rdp")
    model, tok = build_model(cfg, len(LABELS))
    refs = {n: p for n, p in model.named_parameters() if "lora_B" in n}
    before = lora_parameters(model)
    head_before = model.head.weight.detach().clone()
    res = train_classifier(cfg, _data(), model, tok, log=lambda m: None, max_steps=1)
    assert res.steps == 1
    moved = [n for n, p in refs.items() if not torch.equal(p.detach(), before[n])]
    assert len(moved) == len(refs) > 0, "every LoRA B matrix must change after one DP step"
    assert not torch.equal(res.model.head.weight.detach(), head_before)
    assert 0 < res.privacy["epsilon"] < 8.0 and res.privacy["noise_multiplier"] > 0
    assert res.privacy["delta"] == pytest.approx(default_delta(16))
    # The merged encoder has no adapters left and differs from the base weights.
    assert not any("lora_" in n for n, _ in res.model.named_parameters())


def test_huge_epsilon_tracks_non_private(backbone):
    runs = {}
    # No clipping (C = 100 exceeds every per-example norm) and noise std sigma*C = 1e-5: DP must equal plain SGD.
    for method, sigma in (("lora", None), ("dp-lora", 1e-7)):
        cfg = TrainConfig(method=method, target_epsilon=math.inf, noise_multiplier=sigma, backbone=str(backbone),
                          batch_size=16, physical_batch_size=16, max_tokens=32, epochs=6, lr=5e-3,
                          max_grad_norm=100.0, accountant="rdp")
        torch.manual_seed(0)  # same initial head and adapters for both runs
        model, tok = build_model(cfg, len(LABELS))
        res = train_classifier(cfg, _data(), _no_dropout(model), tok, log=lambda m: None)
        runs[method] = res.losses
    np_losses, dp_losses = np.array(runs["lora"]), np.array(runs["dp-lora"])
    assert len(np_losses) == len(dp_losses) == 6
    assert np_losses[-1] < np_losses[0] - 0.01, "non-private training must reduce the loss"
    np.testing.assert_allclose(dp_losses, np_losses, atol=2e-3)


def test_torch_onnx_parity_and_runtime_windows(backbone, tmp_path):
    from medpriv_desktop.core.reports.classifier import ReportModel
    from medpriv_desktop.core.text.encoder import TextEncoder
    from training.text.export import export_encoder

    cfg = TrainConfig(method="dp-lora", target_epsilon=8.0, backbone=str(backbone), batch_size=8, max_tokens=32,
                      accountant="rdp")
    res = train_classifier(cfg, _data(), log=lambda m: None, max_steps=1)
    texts = [t for t in _data(4).texts]
    exp = export_encoder(LogitsOutput(res.model), res.tokenizer, tmp_path, "sequence-classification",
                         quantize=False, parity_texts=texts, max_len=32, include_token_type_ids=False)
    enc = TextEncoder.from_files(exp.model_path, exp.tokenizer_path, max_tokens=32, stride=4)
    rm = ReportModel(enc, LABELS, [0.5, 0.5])
    onnx_p, windows = rm.probabilities(texts)
    torch_p = predict_proba(res.model, res.tokenizer, texts, max_tokens=32)
    assert windows == [1] * len(texts)
    np.testing.assert_allclose(onnx_p, torch_p, atol=1e-4)
    # A long report is split into windows, and its probability is the max over them.
    long = " ".join(["lung clear ."] * 20 + ["there is a small left effusion ."])
    p_long, w_long = rm.probabilities([long])
    assert w_long[0] > 1
    chunks = enc.logits([long])[0]
    per_window = 1 / (1 + np.exp(-np.stack([c.logits for c in chunks])))
    np.testing.assert_allclose(p_long[0], per_window.max(0), atol=1e-6)


def test_rdp_closed_form_at_full_sampling():
    from opacus.accountants.analysis.rdp import compute_rdp

    for sigma, steps, alpha in ((1.0, 10, 2.0), (2.5, 100, 8.0), (0.7, 3, 32.0)):
        rdp = compute_rdp(q=1.0, noise_multiplier=sigma, steps=steps, orders=[alpha])
        assert rdp[0] == pytest.approx(steps * alpha / (2 * sigma**2), rel=1e-9)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_epsilon_grows_with_steps_and_shrinks_with_noise(accountant):
    q, delta = 0.02, 1e-5
    eps = [compute_epsilon(1.0, q, t, delta, accountant) for t in (10, 100, 1000)]
    assert eps[0] < eps[1] < eps[2]
    assert compute_epsilon(2.0, q, 100, delta, accountant) < eps[1]
    assert compute_epsilon(0.0, q, 100, delta, accountant) == math.inf


def test_noise_for_epsilon_meets_target_or_says_so():
    q, steps, delta = 0.05, 60, 1e-4
    loose, tight = (noise_for_epsilon(e, q, steps, delta, "rdp") for e in (8.0, 1.0))
    assert loose.reached and tight.reached
    assert loose.epsilon <= 8.0 and tight.epsilon <= 1.0 and tight.epsilon > 0.9
    assert tight.noise_multiplier > loose.noise_multiplier
    impossible = noise_for_epsilon(1e-6, 1.0, 10_000, delta, "rdp", max_noise=50.0)
    assert not impossible.reached and impossible.epsilon > 1e-6 and "not reachable" in impossible.note


def test_cached_lower_layers_match_the_full_forward(backbone):
    from training.reports.model import TopClassifier, lower_states
    from training.reports.train import tokenize

    cfg = TrainConfig(method="lora", backbone=str(backbone), lora_layers=1, max_tokens=32)
    model, tok = build_model(cfg, len(LABELS))
    # Adapters only on the top layer (layer 1 of 2); the bottom one stays plain and frozen.
    lora_names = [n for n, _ in model.named_parameters() if "lora_" in n]
    assert lora_names and all(".layer.1." in n for n in lora_names)
    for n, p in model.named_parameters():
        if "lora_B" in n:
            torch.nn.init.normal_(p, std=0.1)  # non-zero adapters, so the top layer differs from the base
    model.eval()
    texts = _data(6).texts + ["lung clear ."]
    ids, mask = tokenize(tok, texts, 32)
    states = lower_states(model.encoder, ids, mask, n_frozen=1)
    with torch.no_grad():
        full = model(ids, mask)
        top = TopClassifier(model, 1).eval()(states, mask)
    np.testing.assert_allclose(top.numpy(), full.numpy(), atol=2e-3)  # float16 cache


def test_dp_step_on_cached_states_moves_only_top_adapters(backbone):
    cfg = TrainConfig(method="dp-lora", target_epsilon=8.0, backbone=str(backbone), batch_size=8,
                      physical_batch_size=4, max_tokens=32, epochs=1, accountant="rdp", lora_layers=1)
    model, tok = build_model(cfg, len(LABELS))
    refs = {n: p for n, p in model.named_parameters() if "lora_B" in n}
    before = lora_parameters(model)
    base_before = {n: p.detach().clone() for n, p in model.named_parameters() if ".layer.0." in n}
    res = train_classifier(cfg, _data(), model, tok, log=lambda m: None, max_steps=2)
    assert res.steps == 2 and 0 < res.privacy["epsilon"] < 8.0
    assert all(not torch.equal(p.detach(), before[n]) for n, p in refs.items())
    merged = dict(res.model.named_parameters())
    # The frozen (cached) bottom layer is untouched by training and by the merge.
    for n, p in base_before.items():
        key = n.replace("base_model.model.", "")
        assert torch.equal(merged[key].detach(), p), key
    assert not any("lora_" in n for n in merged)


def test_dp_head_trains_only_the_head_and_huge_epsilon_tracks_non_private(backbone):
    """Head-only DP (the CPU recipe): the encoder stays the pretrained one, the head moves, and DP with no clipping
    and negligible noise reproduces the non-private head run step for step."""
    data = _data()
    runs = {}
    for method, sigma in (("head", None), ("dp-head", 1e-7)):
        cfg = TrainConfig(method=method, target_epsilon=math.inf, noise_multiplier=sigma, backbone=str(backbone),
                          batch_size=16, max_tokens=32, epochs=6, lr=5e-2, max_grad_norm=100.0, accountant="rdp")
        torch.manual_seed(0)
        model, tok = build_model(cfg, len(LABELS))
        enc_before = {n: p.detach().clone() for n, p in model.encoder.named_parameters()}
        head_before = model.head.weight.detach().clone()
        res = train_classifier(cfg, data, _no_dropout(model), tok, log=lambda m: None, norm_texts=data.texts[:8])
        assert all(torch.equal(p, enc_before[n]) for n, p in res.model.encoder.named_parameters())
        assert not torch.equal(res.model.head.weight, head_before)
        runs[method] = res
    a, b = np.array(runs["head"].losses), np.array(runs["dp-head"].losses)
    assert len(a) == len(b) == 6 and a[-1] < a[0] - 0.01
    np.testing.assert_allclose(b, a, atol=2e-3)
    assert runs["dp-head"].privacy["noise_multiplier"] == pytest.approx(1e-7)


def test_cached_prediction_equals_the_full_model(backbone):
    """The sweep scores val/test from cached frozen-layer outputs; that must equal running the whole merged model
    (head-only: standardisation folded into the head; LoRA on the top layer: cached lower states)."""
    from training.reports.train import predict_cached

    data = _data()
    # ffn-out caches the (wide) block inputs in float16: probabilities agree to ~2e-4, not to float32 precision.
    for method, extra, tol in (("dp-head", {}, 1e-5), ("dp-lora", {"lora_layers": 1}, 1e-5),
                               ("dp-lora", {"lora_layers": 1, "lora_scope": "ffn-out"}, 1e-3)):
        cfg = TrainConfig(method=method, target_epsilon=8.0, backbone=str(backbone), batch_size=8,
                          physical_batch_size=4, max_tokens=32, epochs=1, accountant="rdp", **extra)
        res = train_classifier(cfg, data, log=lambda m: None, max_steps=2, norm_texts=data.texts[:8])
        texts = _data(12).texts + ["no pleural effusion ."]
        np.testing.assert_allclose(predict_cached(cfg, res.model, res.tokenizer, texts, log=lambda m: None),
                                   predict_proba(res.model, res.tokenizer, texts, max_tokens=32), atol=tol)


def test_ffn_out_lora_moves_one_adapter_and_huge_epsilon_tracks_non_private(backbone):
    """The CPU DP-LoRA recipe: a single adapter on the top layer's FFN output projection, trained from cached block
    inputs. One DP step moves it (and nothing below it); DP with negligible noise and no clipping reproduces the
    non-private run; the merged model carries no adapter and differs from the pretrained projection."""
    data = _data()
    runs = {}
    for method, sigma in (("lora", None), ("dp-lora", 1e-7)):
        cfg = TrainConfig(method=method, target_epsilon=math.inf, noise_multiplier=sigma, backbone=str(backbone),
                          batch_size=16, physical_batch_size=16, max_tokens=32, epochs=5, lr=0.3,
                          max_grad_norm=100.0, accountant="rdp", lora_layers=1, lora_scope="ffn-out",
                          optimizer="sgd")  # Adam would blow the 1e-5 noise on lora_A (zero gradient at B = 0) up

        torch.manual_seed(0)
        model, tok = build_model(cfg, len(LABELS))
        names = [n for n, _ in model.named_parameters() if "lora_" in n]
        assert names and all(".layer.1.output.dense." in n for n in names), names
        before = lora_parameters(model)
        frozen = {n: p.detach().clone() for n, p in model.named_parameters() if ".layer.0." in n}
        w0 = dict(model.named_parameters())["encoder.base_model.model.encoder.layer.1.output.dense.base_layer.weight"]
        w0 = w0.detach().clone()
        adapters = {n: p for n, p in model.named_parameters() if "lora_" in n}
        res = train_classifier(cfg, data, _no_dropout(model), tok, log=lambda m: None, norm_texts=data.texts[:8])
        assert all(not torch.equal(p.detach(), before[n]) for n, p in adapters.items())
        merged = dict(res.model.named_parameters())
        assert not any("lora_" in n for n in merged)
        assert not torch.allclose(merged["encoder.encoder.layer.1.output.dense.weight"], w0)
        for n, p in frozen.items():
            assert torch.equal(merged[n.replace("base_model.model.", "")].detach(), p), n
        runs[method] = res
    a, b = np.array(runs["lora"].losses), np.array(runs["dp-lora"].losses)
    assert len(a) == len(b) == 5 and a[-1] < a[0] - 0.01
    np.testing.assert_allclose(b, a, atol=2e-3)


def test_dp_head_reports_reached_from_the_spent_epsilon(backbone):
    """The spent epsilon is computed with the noise search's own PRV error bound, and "target reached" is read
    from it (they once used different bounds, so a run could spend more than its target and still say reached)."""
    from training.reports.accounting import search_error

    data = _data()
    cfg = TrainConfig(method="dp-head", target_epsilon=0.5, backbone=str(backbone), batch_size=8, max_tokens=32,
                      epochs=2, lr=5e-2)
    res = train_classifier(cfg, data, log=lambda m: None)
    p = res.privacy
    again = compute_epsilon(p["noise_multiplier"], p["sampling_rate"], p["steps"], p["delta"], "prv",
                            eps_error=search_error(0.5))
    assert p["epsilon"] == pytest.approx(again)
    assert p["target_epsilon_reached"] is (p["epsilon"] <= 0.5)
