"""The PHI token classifier (a ``phi-ner`` bundle) wrapped as a Presidio recognizer.

The bundle's ONNX model gives BIO logits per sub-word token (:mod:`medpriv_desktop.core.text.encoder` does the
windowing). A token counts as PHI when ``1 - P(O)`` reaches the threshold; findings grow to whole words (the unit a
reader and the evaluation see) and neighbouring words of one type join into one span.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np

from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.text.encoder import TextEncoder, merge_token_scores

log = logging.getLogger(__name__)

#: Coarse model labels -> PHI categories.
LABEL_TO_CATEGORY = {"NAME": "NAME", "DATE": "DATE", "LOCATION": "LOCATION", "CONTACT": "PHONE", "ID": "ID", "AGE": "AGE"}
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


class PhiModelRecognizer(MedPrivRecognizer):
    """Runs the PHI model on a note and returns word-level spans."""

    NAME = "phi-model"
    CATEGORIES = tuple(sorted(set(LABEL_TO_CATEGORY.values())))

    def __init__(self, encoder: TextEncoder, labels: list[str], model_id: str = "phi-model", threshold: float = 0.5) -> None:
        super().__init__()
        self.encoder = encoder
        self.labels = labels
        self.model_id = model_id
        self.threshold = threshold
        # label index -> coarse type (B-/I- folded)
        self.types = [lab.split("-", 1)[1] if "-" in lab else None for lab in labels]
        self.type_names = sorted({t for t in self.types if t})

    def _type_probs(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = logits - logits.max(-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(-1, keepdims=True)
        per_type = np.stack([p[:, [i for i, t in enumerate(self.types) if t == name]].sum(-1) for name in self.type_names], -1)
        return 1.0 - p[:, self.types.index(None)], per_type

    def find(self, text: str) -> list[PhiSpan]:
        if not text.strip():
            return []
        chunks = self.encoder.logits([text])[0]
        offsets, logits = merge_token_scores(chunks)
        if not offsets:
            return []
        p_phi, per_type = self._type_probs(logits.astype(np.float32))
        words: dict[tuple[int, int], tuple[float, str]] = {}
        for (s, e), p, pt in zip(offsets, p_phi, per_type):
            if p < self.threshold or e <= s:
                continue
            # grow the sub-word to its whole word
            ws, we = s, e
            while ws > 0 and text[ws - 1].isalnum():
                ws -= 1
            while we < len(text) and text[we].isalnum():
                we += 1
            kind = self.type_names[int(np.argmax(pt))]
            if (ws, we) not in words or words[(ws, we)][0] < p:
                words[(ws, we)] = (float(p), kind)
        out = []
        for (s, e), (p, kind) in sorted(words.items()):
            cat = LABEL_TO_CATEGORY.get(kind, "NAME")
            if out and out[-1].category == cat and s - out[-1].end <= 1 and not text[out[-1].end: s].strip():
                prev = out[-1]
                out[-1] = self.span(prev.start, e, cat, max(prev.score, p))
            else:
                out.append(self.span(s, e, cat, p))
        return out


def load_default_model_recognizer(model_id: str | None = None, threshold: float | None = None) -> Any:
    """The installed PHI model (``model_id`` or the default ``phi-ner`` bundle) as a recognizer, or None when none
    is installed and none was asked for."""
    from medpriv_desktop.core.models.registry import ModelRegistry

    reg = ModelRegistry()
    entry = reg.get(model_id) if model_id else reg.default_for("phi-ner")
    if entry is None:
        log.info("no phi-ner model installed; rules only")
        return None
    encoder = TextEncoder.from_entry(entry, reg)
    labels = [lb.name for lb in sorted(entry.card.outputs.labels, key=lambda lb: lb.value)]
    th = threshold
    if th is None:
        th = next((lb.threshold for lb in entry.card.outputs.labels if lb.threshold is not None), None) or 0.5
    return PhiModelRecognizer(encoder, labels, entry.card.id, th)
