"""Export of tiny randomly initialised GPT-2 and Llama causal LMs to bundles, run by the app's ONNX engine."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from medpriv_desktop.core.models.registry import ModelRegistry  # noqa: E402
from medpriv_desktop.core.notes.synth.engines import SynthRequest, get_engine  # noqa: E402
from medpriv_desktop.core.notes.synth.engines.onnx_lm import OnnxCausalLMEngine  # noqa: E402
from medpriv_desktop.core.notes.synth.keywords import Keyword  # noqa: E402
from training.synth.export_lm import export_causal_lm, export_lm_folder, write_lm_card  # noqa: E402

WORDS = ("write a nursing note that uses these keywords fever cough pain patient resting comfortably vital signs "
         "stable note : , . \n").split(" ")


def tiny_tokenizer():
    """A word-level fast tokenizer (no downloads) with an end-of-sequence token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = ["<unk>", "<eos>"] + sorted({w for w in WORDS if w.strip()} | {":", ",", "."})
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", pad_token="<eos>")


def tiny_model(kind: str, vocab: int):
    """A randomly initialised 2-layer GPT-2 or Llama."""
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if kind == "gpt2":
        cfg = GPT2Config(vocab_size=vocab, n_positions=64, n_embd=32, n_layer=2, n_head=2, eos_token_id=1,
                         bos_token_id=1)
        return GPT2LMHeadModel(cfg).eval()
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64, eos_token_id=1,
                      bos_token_id=1, pad_token_id=1)
    return LlamaForCausalLM(cfg).eval()


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_export_parity_and_app_engine_matches_torch_greedy(tmp_path, kind):
    tok = tiny_tokenizer()
    model = tiny_model(kind, len(tok))
    res = export_causal_lm(model, tok, tmp_path / "b")
    assert res.max_abs_diff < 1e-3
    assert res.greedy_agreement == 1.0
    write_lm_card(tmp_path / "b", res, f"tiny-{kind}", tok, model.config)
    engine = OnnxCausalLMEngine.from_files(tmp_path / "b" / "model.onnx", tmp_path / "b" / "tokenizer.json",
                                           max_context=64, eos_token_id=None)
    prompt = tok("write a nursing note :")["input_ids"]
    got = engine.generate_ids(prompt, 6)
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(6):
            x = torch.tensor([ids])
            ids.append(int(model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0, -1].argmax()))
    assert got == ids[len(prompt):]


def test_bundle_loads_through_registry_and_sampling_is_seeded(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_model("gpt2", len(tok))
    src = tmp_path / "hf"
    model.save_pretrained(src)
    tok.save_pretrained(src)
    bundles = tmp_path / "models"
    export_lm_folder(src, bundles / "tiny-gpt2", "tiny-gpt2")
    reg = ModelRegistry(bundled_dir=bundles, user_dir=tmp_path / "u", site_dir=None)
    engine = get_engine("tiny-gpt2", registry=reg, top_k=5)
    req = SynthRequest("keyword", [Keyword("fever", "symptom", 0), Keyword("cough", "symptom", 1)], None,
                       "nursing", seed=3, max_new_tokens=12)
    a, b = engine.generate(req), engine.generate(req)
    assert a == b and a.strip()
    req2 = SynthRequest("keyword", req.keywords, None, "nursing", seed=4, max_new_tokens=12)
    outs = {engine.generate(SynthRequest("keyword", req.keywords, None, "nursing", seed=s, max_new_tokens=12))
            for s in range(4)}
    assert len(outs) > 1, "different seeds should give different samples with top-k 5"
    assert engine.generate(req2)
