"""The PHI token-classifier wrapped as a Presidio recognizer (filled in below when a phi-ner bundle exists)."""

from __future__ import annotations

from typing import Any


def load_default_model_recognizer(model_id: str | None = None) -> Any:
    """The installed PHI model as a recognizer, or None when no phi-ner bundle is installed."""
    return None
