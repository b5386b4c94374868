"""Export any local Hugging Face causal LM folder to a ``causal-lm`` bundle the app runs with ONNX Runtime.

The graph takes ``input_ids`` and ``attention_mask`` (int64, dynamic batch and sequence) and returns ``logits``
``(batch, sequence, vocab)``; no key/value cache is exported (the runtime recomputes the sequence, see
``core/notes/synth/engines/onnx_lm.py``), which keeps the graph identical for GPT-2, Llama and most decoder-only
families. Opset 17, ``dynamo=False`` (works without onnxscript). Parity: the last-position logits of torch and ONNX
on a few prompts, and the greedy continuations, must agree. Optional int8 dynamic quantisation (weights only).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

PARITY_PROMPTS = ["Write a nursing note that uses these keywords: fever, cough.\nNote:\n",
                  "Patient resting comfortably, vital signs stable."]


class _CausalLogits(torch.nn.Module):
    """Returns only the logits, cache off (the traced graph then has one output with a stable name)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


@dataclass
class LmExport:
    """What the export produced and how well it matches torch."""

    model_path: Path
    sha256: str
    size_bytes: int
    max_abs_diff: float
    greedy_agreement: float
    quantized: bool


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _greedy_torch(model: torch.nn.Module, ids: list[int], n: int) -> list[int]:
    out = list(ids)
    with torch.no_grad():
        for _ in range(n):
            x = torch.tensor([out])
            out.append(int(model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False).logits[0, -1].argmax()))
    return out[len(ids):]


def export_causal_lm(model: torch.nn.Module, tokenizer: Any, out_dir: str | Path, *, quantize: bool = False,
                     parity_prompts: list[str] | None = None, greedy_tokens: int = 8) -> LmExport:
    """Write ``model.onnx`` and ``tokenizer.json`` into ``out_dir`` and check parity with torch."""
    import onnxruntime as ort

    from training.text.export import save_tokenizer_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval().to("cpu")
    wrapper = _CausalLogits(model).eval()
    ids = torch.tensor([tokenizer(PARITY_PROMPTS[0])["input_ids"]], dtype=torch.long)
    target = out / "model.onnx"
    fp32 = out / "model.fp32.onnx" if quantize else target
    with torch.no_grad():
        torch.onnx.export(wrapper, (ids, torch.ones_like(ids)), str(fp32), input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], opset_version=17, dynamo=False, do_constant_folding=True,
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "logits": {0: "batch", 1: "sequence"}})
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()
    save_tokenizer_json(tokenizer, out)
    sess = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    diffs, agree, total = [], 0, 0
    for prompt in parity_prompts or PARITY_PROMPTS:
        p_ids = tokenizer(prompt)["input_ids"]
        x = np.asarray([p_ids], dtype=np.int64)
        got = sess.run(["logits"], {"input_ids": x, "attention_mask": np.ones_like(x)})[0][0, -1]
        with torch.no_grad():
            ref = wrapper(torch.from_numpy(x), torch.ones(x.shape, dtype=torch.long))[0, -1].numpy()
        diffs.append(float(np.max(np.abs(ref - got))))
        # greedy continuation through ONNX, token by token, against torch's
        seq = list(p_ids)
        for tok in _greedy_torch(model, p_ids, greedy_tokens):
            xx = np.asarray([seq], dtype=np.int64)
            nxt = int(sess.run(["logits"], {"input_ids": xx, "attention_mask": np.ones_like(xx)})[0][0, -1].argmax())
            agree += nxt == tok
            total += 1
            seq.append(tok)
    return LmExport(target, _sha(target), target.stat().st_size, max(diffs), agree / max(total, 1), quantize)


def write_lm_card(out_dir: str | Path, res: LmExport, model_id: str, tokenizer: Any, config: Any, *,
                  title: str | None = None, license: str = "see the source model's licence", source: str = "",
                  max_new_tokens: int = 200, datasets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write a ``causal-lm`` model card for an exported LM (validated against the app's schema)."""
    from medpriv_desktop.core.models.card import ModelCard

    max_pos = int(getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 1024))
    card = {
        "id": model_id, "title": title or f"Local causal LM {model_id}", "version": "0.1.0", "task": "causal-lm",
        "description": f"Causal language model exported from {source or 'a local folder'} for note synthesis.",
        "intended_use": "Generating synthetic clinical notes from de-identified keywords; outputs must be checked "
                        "with 'medpriv eval synth'. Not for diagnostic use.",
        "license": license, "sha256": res.sha256, "size_bytes": res.size_bytes,
        "text_input": {"tokenizer_file": "tokenizer.json", "max_tokens": min(max_pos, 8192)},
        "outputs": {"output_name": "logits", "activation": "none", "generation": {
            "bos_token_id": getattr(tokenizer, "bos_token_id", None), "eos_token_id": getattr(tokenizer, "eos_token_id", None),
            "pad_token_id": getattr(tokenizer, "pad_token_id", None), "max_new_tokens": max_new_tokens,
            "uses_past_key_values": False}},
        "training": {"datasets": datasets or [{"name": "unknown (pre-trained elsewhere)", "license": license}],
                     "command": f"medpriv-train synth export-lm {source} -o {out_dir} --id {model_id}",
                     "date": _dt.date.today().isoformat(),
                     "config": {"quantized_int8": res.quantized, "opset": 17}},
        "metrics": {"values": [
            {"name": "parity_max_abs_logit_diff", "value": res.max_abs_diff, "split": "parity-prompts"},
            {"name": "parity_greedy_agreement", "value": res.greedy_agreement, "split": "parity-prompts"}]},
    }
    ModelCard.model_validate(card)
    Path(out_dir, "model_card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def export_lm_folder(source: str | Path, out_dir: str | Path, model_id: str, quantize: bool = False,
                     license: str = "see the source model's licence") -> dict[str, Any]:
    """Load a local HF causal-LM folder (offline, eager attention) and write a complete bundle."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(source), attn_implementation="eager")
    tok = AutoTokenizer.from_pretrained(str(source))
    res = export_causal_lm(model, tok, out_dir, quantize=quantize)
    card = write_lm_card(out_dir, res, model_id, tok, model.config, license=license, source=str(source))
    Path(out_dir, "README.md").write_text(f"# {model_id}\n\nExported with `medpriv-train synth export-lm` from "
                                          f"`{source}`. Parity: max |logit diff| {res.max_abs_diff:.2e}, greedy "
                                          f"agreement {res.greedy_agreement:.3f}.\n", encoding="utf-8")
    Path(out_dir, "LICENSE").write_text(f"{license}\n", encoding="utf-8")
    return card
