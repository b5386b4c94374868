"""Inputs of the rules + encoder head, computed once per text list and cached on disk (no text in file names).

- :func:`pooled_features`: the masked mean of the public MiniLM encoder's last hidden state (first ``num_layers``
  layers) over each text's first window, the same quantity the exported ONNX graph computes per window;
- :func:`rule_inputs`: the rule labeler's ``status-v1`` values (:mod:`medpriv_desktop.core.reports.rule_features`);
- :func:`public_standardisation`: mean and std of the pooled features over synthetic reports of the label set
  (:mod:`training.reports.synthetic`): public constants, so standardising costs no privacy.

Every text goes through :func:`~medpriv_desktop.core.reports.sections.classification_text` first (findings and
impression), exactly as the app's runtime prepares it.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from medpriv_desktop.core.reports.rule_features import RuleFeatures
from medpriv_desktop.core.reports.sections import classification_text

SYNTHETIC_SEED = 0  # the synthetic corpus behind the standardisation constants (never the training data)


def prepare(texts: list[str]) -> list[str]:
    """The text the runtime classifies: findings + impression (a single space for an empty report)."""
    return [classification_text(t)[0] or " " for t in texts]


def texts_key(texts: list[str], *parts: Any) -> str:
    """A short hash of ``texts`` and settings, naming a cache file."""
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode())
    for t in texts:
        h.update(t.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def pooled_features(texts: list[str], num_layers: int, max_tokens: int, backbone: str | None = None,
                    cache_dir: Path | None = None, batch_size: int = 32, log: Callable[[str], Any] = print
                    ) -> np.ndarray:
    """``(N, hidden)`` float32 pooled features of already prepared ``texts`` (first ``max_tokens`` tokens,
    special tokens included, as one runtime window); kept in ``cache_dir`` when given."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"pooled-{texts_key(texts, num_layers, max_tokens, str(backbone))}.npy"
        if path.is_file():
            return np.load(path)
    import torch

    from training.reports.model import load_backbone, masked_mean

    enc, tok = load_backbone(backbone, num_layers)
    enc.eval()
    t0 = time.time()
    out = np.zeros((len(texts), enc.config.hidden_size), np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths together: less padding
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            idx = order[i:i + batch_size]
            e = tok([texts[k] for k in idx], truncation=True, max_length=max_tokens, padding=True,
                    return_tensors="pt")
            h = enc(input_ids=e["input_ids"], attention_mask=e["attention_mask"]).last_hidden_state
            out[idx] = masked_mean(h, e["attention_mask"]).numpy()
    log(f"pooled {len(texts)} texts ({num_layers} layers, {max_tokens} tokens) in {time.time() - t0:.0f}s")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".part.npy")
        np.save(tmp, out)
        tmp.replace(path)
    return out


def rule_inputs(texts: list[str], label_set: str) -> np.ndarray:
    """``(N, 3 L)`` rule values of already prepared ``texts``."""
    return RuleFeatures(label_set)(texts)


def public_standardisation(label_set: str, num_layers: int, max_tokens: int, n: int = 2000,
                           backbone: str | None = None, cache_dir: Path | None = None,
                           log: Callable[[str], Any] = print) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of the pooled features of ``n`` synthetic reports of ``label_set``: no private text involved."""
    from training.reports.synthetic import generate

    syn = generate(label_set, n, seed=SYNTHETIC_SEED)
    feats = pooled_features(prepare(syn.texts), num_layers, max_tokens, backbone, cache_dir, log=log)
    return feats.mean(0), feats.std(0)
