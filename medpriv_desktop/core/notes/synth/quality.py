"""Quality of a synthetic note against its source: ROUGE-1/2/L (our implementation, :mod:`.rouge`) and cosine
similarity of MiniLM sentence vectors (the ``embedding`` bundle run by :class:`~medpriv_desktop.core.text.encoder.
TextEncoder`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.notes.synth.rouge import rouge_scores

DEFAULT_EMBEDDING_ID = "minilm-embedding"


def load_embedding_encoder(model_id: str | None = None, registry: Any = None, threads: int | None = None) -> Any:
    """The embedding bundle ``model_id`` (default: ``minilm-embedding``, else any installed embedding model), from
    ``registry`` (the Context's; without one, a registry from the saved settings: the same site rule)."""
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.settings import load_settings
    from medpriv_desktop.core.text.encoder import TextEncoder

    registry = registry if registry is not None else ModelRegistry.from_settings(load_settings())
    entries = registry.entries("embedding")
    wanted = model_id or DEFAULT_EMBEDDING_ID
    entry = next((e for e in entries if e.card.id == wanted), None)
    if entry is None and model_id is None and entries:
        entry = entries[0]
    if entry is None:
        raise ModelError(f"no embedding model '{wanted}' is installed",
                         hint="install the minilm-embedding bundle or pass --no-cosine")
    return TextEncoder.from_entry(entry, registry=registry, threads=threads)


def rouge_row(source: str, synthetic: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures."""
    return {k: v.fmeasure for k, v in rouge_scores(source, synthetic).items()}


def cosine_pairs(encoder: Any, sources: list[str], synthetics: list[str]) -> np.ndarray:
    """Cosine similarity of each (source, synthetic) pair (the encoder's vectors are L2-normalised)."""
    if not sources:
        return np.zeros(0, dtype=np.float32)
    a = encoder.embed(list(sources))
    b = encoder.embed(list(synthetics))
    return np.sum(a * b, axis=1)


def summarize_quality(rows: list[dict[str, float]]) -> dict[str, float]:
    """Means of every numeric column over the rows."""
    if not rows:
        return {}
    keys = sorted({k for r in rows for k in r})
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}
