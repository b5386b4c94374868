"""Reusable export of a Hugging Face text encoder to an ONNX bundle payload (shared by every text model).

Contract (other modules rely on it):

``export_encoder(model, tokenizer, out_dir, kind=..., quantize=True, parity_texts=[...]) -> ExportResult``

- ``model``: a torch ``PreTrainedModel`` with an encoder, loaded with ``attn_implementation="eager"`` (use
  :func:`load_hf_model`). ``kind`` is one of ``"token-classification"`` / ``"sequence-classification"`` (ONNX output
  ``logits``) or ``"embedding"`` (ONNX output ``embeddings`` = attention-masked mean of the last hidden state; set
  ``normalize=True`` for L2-normalised sentence vectors).
- ONNX: opset 17, ``dynamo=False``, inputs ``input_ids`` and ``attention_mask`` (int64, dynamic ``batch`` and
  ``sequence`` axes), plus ``token_type_ids`` only when the model's forward needs it (``include_token_type_ids``);
  the result lists the input names so the card's ``text_input.input_names`` can be filled from it.
- Files written to ``out_dir``: ``model.onnx`` (int8 dynamic-quantised weights when ``quantize``; the float model is
  kept as ``model.fp32.onnx`` only when ``keep_fp32``), ``tokenizer.json`` (the fast tokenizer's own file).
- Parity: torch vs onnxruntime on ``parity_texts``; ``ExportResult.parity`` holds the max abs difference and, for
  classifiers, the share of argmax (token/sequence) decisions that agree. ``ExportResult.sha256`` is the hash of
  ``model.onnx`` for the model card.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

ExportKind = Literal["token-classification", "sequence-classification", "embedding"]
OPSET = 17


@dataclass
class ParityReport:
    """Torch vs ONNX agreement on a few texts."""

    max_abs_diff: float
    decision_agreement: float | None  # share of argmax decisions equal (None for embeddings)
    cosine_min: float | None = None  # lowest cosine between torch and ONNX vectors (embeddings)
    n_texts: int = 0

    def ok(self, atol: float, min_agreement: float = 0.98) -> bool:
        """True when the ONNX model matches torch within ``atol`` (or the decisions agree well enough)."""
        if self.decision_agreement is not None:
            return self.decision_agreement >= min_agreement
        return self.max_abs_diff <= atol or (self.cosine_min is not None and self.cosine_min >= 0.99)


@dataclass
class ExportResult:
    """What an export produced: file paths, the ONNX input/output names, sha256, size and the parity check."""

    model_path: Path
    tokenizer_path: Path
    input_names: list[str]
    output_name: str
    sha256: str
    size_bytes: int
    quantized: bool
    parity: ParityReport
    fp32_parity: ParityReport | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _EmbeddingWrapper(torch.nn.Module):
    """Encoder + attention-masked mean pooling, so the ONNX graph outputs one vector per text."""

    def __init__(self, encoder: torch.nn.Module, normalize: bool) -> None:
        super().__init__()
        self.encoder = encoder
        self.normalize = normalize

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None):
        kw = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kw).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
        return pooled


class _LogitsWrapper(torch.nn.Module):
    """Returns only the logits tensor (HF models return output objects that the tracer cannot name)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None):
        kw = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **kw).logits


def load_hf_model(path: str | Path, kind: ExportKind, **kw: Any) -> torch.nn.Module:
    """Load a local HF model for ``kind`` with eager attention (the exporter cannot trace SDPA variants reliably)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import transformers

    cls = {
        "token-classification": transformers.AutoModelForTokenClassification,
        "sequence-classification": transformers.AutoModelForSequenceClassification,
        "embedding": transformers.AutoModel,
    }[kind]
    return cls.from_pretrained(str(path), attn_implementation="eager", **kw)


def _needs_token_type_ids(model: torch.nn.Module) -> bool:
    """Whether the model uses token_type_ids with more than one type (BERT with type_vocab_size 1 or 2 ignores it
    when all zeros, so we leave the input out to keep the runtime contract small)."""
    cfg = getattr(model, "config", None)
    return bool(cfg is not None and getattr(cfg, "type_vocab_size", 0) > 2)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def save_tokenizer_json(tokenizer: Any, out_dir: Path) -> Path:
    """Write the fast tokenizer's ``tokenizer.json`` (what the runtime loads with the ``tokenizers`` library)."""
    out = Path(out_dir) / "tokenizer.json"
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    if backend is None:
        raise ValueError("a fast tokenizer is needed (tokenizer.json); load it with use_fast=True")
    backend.save(str(out))
    return out


def _encode(tokenizer: Any, texts: list[str], max_len: int, with_types: bool) -> dict[str, np.ndarray]:
    enc = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="np")
    feed = {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64)}
    if with_types:
        feed["token_type_ids"] = enc.get("token_type_ids", np.zeros_like(enc["input_ids"])).astype(np.int64)
    return feed


def check_parity(wrapper: torch.nn.Module, onnx_path: Path, feed: dict[str, np.ndarray], kind: ExportKind) -> ParityReport:
    """Compare the torch wrapper and the ONNX file on one batch; decisions only on real (unpadded) tokens."""
    import onnxruntime as ort

    with torch.no_grad():
        ref = wrapper(**{k: torch.from_numpy(v) for k, v in feed.items()}).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    got = sess.run(None, {k: v for k, v in feed.items() if k in names})[0]
    diff = float(np.max(np.abs(ref - got))) if ref.size else 0.0
    n = int(feed["input_ids"].shape[0])
    if kind == "embedding":
        num = (ref * got).sum(-1)
        den = np.linalg.norm(ref, axis=-1) * np.linalg.norm(got, axis=-1) + 1e-12
        return ParityReport(diff, None, float(np.min(num / den)), n)
    if kind == "token-classification":
        mask = feed["attention_mask"].astype(bool)
        agree = float(np.mean(ref.argmax(-1)[mask] == got.argmax(-1)[mask]))
    else:
        agree = float(np.mean(ref.argmax(-1) == got.argmax(-1)))
    return ParityReport(diff, agree, None, n)


def export_encoder(
    model: torch.nn.Module,
    tokenizer: Any,
    out_dir: str | Path,
    kind: ExportKind,
    *,
    quantize: bool = True,
    keep_fp32: bool = False,
    parity_texts: list[str] | None = None,
    max_len: int = 128,
    normalize: bool = False,
    include_token_type_ids: bool | None = None,
    per_channel: bool = False,
    reduce_range: bool = False,
) -> ExportResult:
    """Export ``model`` (+ ``tokenizer``) to ``out_dir/model.onnx`` and ``tokenizer.json``; see the module contract."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval().to("cpu")
    with_types = _needs_token_type_ids(model) if include_token_type_ids is None else include_token_type_ids
    if kind == "embedding":
        wrapper: torch.nn.Module = _EmbeddingWrapper(model, normalize)
        output_name = "embeddings"
        out_axes = {0: "batch"}
    else:
        wrapper = _LogitsWrapper(model)
        output_name = "logits"
        out_axes = {0: "batch", 1: "sequence"} if kind == "token-classification" else {0: "batch"}
    wrapper.eval()
    texts = parity_texts or ["A short example sentence.", "Another, somewhat longer example text for the parity check."]
    feed = _encode(tokenizer, texts, max_len, with_types)
    input_names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    fp32_path = out_dir / "model.fp32.onnx"
    axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    axes[output_name] = out_axes
    args = tuple(torch.from_numpy(feed[n]) for n in input_names)
    with torch.no_grad():
        torch.onnx.export(
            wrapper, args, str(fp32_path), input_names=input_names, output_names=[output_name],
            dynamic_axes=axes, opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )
    fp32_parity = check_parity(wrapper, fp32_path, feed, kind)
    final = out_dir / "model.onnx"
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # per-channel weight scales keep int8 much closer to fp32 (sentence vectors especially)
        # reduce_range: 7-bit weights, so AVX2's u8s8 kernel (16-bit pair sums) cannot saturate and gives the same
        # result as VNNI's exact one: the same outputs on every x64 CPU at full int8 speed
        quantize_dynamic(str(fp32_path), str(final), weight_type=QuantType.QInt8, per_channel=per_channel,
                         reduce_range=reduce_range)
        parity = check_parity(wrapper, final, feed, kind)
        if not keep_fp32:
            fp32_path.unlink()
    else:
        shutil.move(str(fp32_path), str(final))
        parity = fp32_parity
    tok_path = save_tokenizer_json(tokenizer, out_dir)
    return ExportResult(
        model_path=final, tokenizer_path=tok_path, input_names=input_names, output_name=output_name,
        sha256=_sha256(final), size_bytes=final.stat().st_size, quantized=quantize, parity=parity,
        fp32_parity=fp32_parity if quantize else None,
        extra={"opset": OPSET, "signature": list(inspect.signature(wrapper.forward).parameters)},
    )
