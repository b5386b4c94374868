"""The PHI tagger (a ``phi-ner`` bundle) as a Presidio recognizer that reads every token of every note.

The bundle's ONNX model gives BIO logits per word piece (:mod:`medpriv_desktop.core.text.encoder` cuts long notes
into overlapping windows). A word piece counts as PHI when ``1 - P(O)`` reaches the card's threshold; findings grow
to whole words (the unit a reader and the evaluation see) and neighbouring words of one type join into one span.
The engine takes the union of these spans and the rule recognizers' (:mod:`medpriv_desktop.core.notes.engine`): the
tagger is not gated by the rules, so a name no rule has a cue for is still found.

The work is split in two so that a threshold can be tried without running the model again: :meth:`word_scores`
(one model pass) and :meth:`spans_from_words` (pure). Shapes the tagger's word alone may not mask (ordinary words,
states, eponyms, numbers that cannot be dates, ...) are vetoed there by :mod:`medpriv_desktop.core.notes.tagger_veto`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from medpriv_desktop.core.notes import tagger_veto
from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.text.encoder import TextEncoder, merge_token_scores

log = logging.getLogger(__name__)

#: Coarse model labels -> PHI categories.
LABEL_TO_CATEGORY = {"NAME": "NAME", "DATE": "DATE", "LOCATION": "LOCATION", "CONTACT": "PHONE", "ID": "ID", "AGE": "AGE"}


@dataclass(frozen=True)
class WordScore:
    """One word of the note the model scored: offsets, ``1 - P(O)`` (the highest of its pieces) and its type."""

    start: int
    end: int
    p_phi: float
    kind: str


class PhiModelRecognizer(MedPrivRecognizer):
    """Runs the PHI tagger on a note and returns word-level spans (see the module docstring)."""

    NAME = "phi-model"
    CATEGORIES = tuple(sorted(set(LABEL_TO_CATEGORY.values())))

    def __init__(self, encoder: TextEncoder, labels: list[str], model_id: str = "phi-model", threshold: float = 0.5,
                 audit_fields: dict[str, Any] | None = None, thresholds: dict[str, float] | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.labels = labels
        self.model_id = model_id
        self.threshold = threshold
        #: Per model type ("NAME", "DATE", ...) where the card gives one; others use ``threshold``.
        self.thresholds = dict(thresholds or {})
        #: The bundle's identity for audit entries and resume manifests (id, version, manifest hash, root).
        self.audit_fields = dict(audit_fields or {"model_id": model_id})
        # label index -> coarse type (B-/I- folded)
        self.types = [lab.split("-", 1)[1] if "-" in lab else None for lab in labels]
        self.type_names = sorted({t for t in self.types if t})
        self._type_index = [[i for i, t in enumerate(self.types) if t == name] for name in self.type_names]
        self._o = self.types.index(None)

    def _type_probs(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = logits - logits.max(-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(-1, keepdims=True)
        per_type = np.stack([p[:, idx].sum(-1) for idx in self._type_index], -1)
        return 1.0 - p[:, self._o], per_type

    def word_scores(self, text: str) -> list[WordScore]:
        """Every word the model gave any PHI probability, grown from its word pieces (one model pass)."""
        return self.word_scores_many([text])[0]

    def word_scores_many(self, texts: list[str]) -> list[list[WordScore]]:
        """:meth:`word_scores` of several texts, their windows run side by side (each by itself: the same scores as
        one text at a time)."""
        live = [i for i, t in enumerate(texts) if t.strip()]
        out: list[list[WordScore]] = [[] for _ in texts]
        if live:
            for i, chunks in zip(live, self.encoder.logits([texts[i] for i in live])):
                out[i] = self._words(texts[i], chunks)
        return out

    def _words(self, text: str, chunks: list) -> list[WordScore]:
        offsets, logits = merge_token_scores(chunks)
        if not offsets:
            return []
        p_phi, per_type = self._type_probs(logits.astype(np.float32))
        off = np.asarray(offsets, dtype=np.int64)
        real = off[:, 1] > off[:, 0]
        off, p_phi, kind = off[real], p_phi[real], per_type[real].argmax(-1)
        if not len(off):
            return []
        # Grow every piece to its whole word: the alphanumeric run its first / last character touches.
        ws, we = _word_bounds(text, off[:, 0], off[:, 1])
        # One entry per word: its highest-scoring piece (the first among equals), in text order.
        order = np.lexsort((np.arange(len(ws)), -p_phi, we, ws))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (ws[order[1:]] != ws[order[:-1]]) | (we[order[1:]] != we[order[:-1]])
        pick = order[first]
        names = self.type_names
        return [WordScore(a, b, p, names[k]) for a, b, p, k in
                zip(ws[pick].tolist(), we[pick].tolist(), p_phi[pick].tolist(), kind[pick].tolist())]

    def spans_from_words(self, text: str, words: list[WordScore], threshold: float | None = None) -> list[PhiSpan]:
        """Words at or above ``threshold`` (default: the card's, per type), neighbours of one category joined."""
        out: list[PhiSpan] = []
        for w in words:
            th = threshold if threshold is not None else self.thresholds.get(w.kind, self.threshold)
            if w.p_phi < th:
                continue
            cat = LABEL_TO_CATEGORY.get(w.kind, "NAME")
            if out and out[-1].category == cat and w.start - out[-1].end <= 1 and not text[out[-1].end: w.start].strip():
                prev = out[-1]
                out[-1] = self.span(prev.start, w.end, cat, max(prev.score, w.p_phi))
            elif out and w.start < out[-1].end:  # pieces of one word already taken
                continue
            else:
                out.append(self.span(w.start, w.end, cat, w.p_phi))
        return tagger_veto.keep(text, out)

    def find(self, text: str) -> list[PhiSpan]:
        """PHI spans of ``text`` at the card's threshold."""
        return self.spans_from_words(text, self.word_scores(text))

    def find_many(self, texts: list[str]) -> list[list[PhiSpan]]:
        """:meth:`find` of several texts in one call (the same spans as :meth:`find` of each)."""
        return [self.spans_from_words(t, w) for t, w in zip(texts, self.word_scores_many(texts))]


def load_default_model_recognizer(model_id: str | None = None, threshold: float | None = None,
                                  registry: Any = None, threads: int | None = None) -> Any:
    """The installed PHI tagger (``model_id`` or the default ``phi-ner`` bundle) as a recognizer, or None when none
    is installed and none was asked for.

    ``registry`` is the Context's (``core/app``); without one, a registry from the saved settings, so the site
    folder and allow-list are the ones IT configured either way (never the platform default alone).
    """
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.settings import load_settings

    reg = registry if registry is not None else ModelRegistry.from_settings(load_settings())
    entry = reg.get(model_id) if model_id else reg.default_for("phi-ner")
    if entry is None:
        log.info("no phi-ner model installed; rules only")
        return None
    # The Context's thread policy when given; else two (MEDPRIV_ORT_THREADS overrides): windows run side by side.
    if threads is None:
        env = os.environ.get("MEDPRIV_ORT_THREADS", "")
        threads = int(env) if env.isdigit() and int(env) > 0 else 2
    encoder = TextEncoder.from_entry(entry, reg, threads=threads)
    labels = [lb.name for lb in sorted(entry.card.outputs.labels, key=lambda lb: lb.value)]
    default, per_type = card_thresholds(entry.card.outputs.labels)
    if threshold is not None:  # one threshold asked for: it holds for every type
        default, per_type = threshold, {}
    return PhiModelRecognizer(encoder, labels, entry.card.id, default, audit_fields=entry.audit_fields(),
                              thresholds=per_type)


def card_thresholds(labels: list[Any]) -> tuple[float, dict[str, float]]:
    """``(default, {type: threshold})`` from a phi-ner card's labels (``name`` and ``threshold`` each): a type's
    threshold is the lower of its B- and I- labels'; the default is the lowest of all (0.5 when the card gives
    none)."""
    per_type: dict[str, float] = {}
    for lb in labels:
        if lb.threshold is None or "-" not in lb.name:
            continue
        kind = lb.name.split("-", 1)[1]
        per_type[kind] = min(lb.threshold, per_type.get(kind, lb.threshold))
    return (min(per_type.values()) if per_type else 0.5), per_type


#: ``str.isalnum`` of every ASCII code point.
_ASCII_ALNUM = np.array([chr(i).isalnum() for i in range(128)], dtype=bool)


def _word_bounds(text: str, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pieces ``[starts, ends)`` of ``text``, the start and end of the whole words they lie in: a start moves
    left while the character before it is alphanumeric (``str.isalnum``), an end moves right while the character at
    it is."""
    n = len(text)
    if text.isascii():
        alnum = _ASCII_ALNUM[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    else:
        alnum = np.fromiter((c.isalnum() for c in text), dtype=bool, count=n)
    idx = np.arange(n)
    prev = np.concatenate(([False], alnum[:-1]))
    nxt = np.concatenate((alnum[1:], [False]))
    # for a position inside a run: where the run starts, and where it ends (one past its last character)
    run_start = np.maximum.accumulate(np.where(alnum & ~prev, idx, 0))
    run_end = np.minimum.accumulate(np.where(alnum & ~nxt, idx + 1, n)[::-1])[::-1]
    before = np.clip(starts - 1, 0, max(n - 1, 0))
    grow_left = (starts > 0) & alnum[before]
    at = np.clip(ends, 0, max(n - 1, 0))
    grow_right = (ends < n) & alnum[at]
    return np.where(grow_left, run_start[before], starts), np.where(grow_right, run_end[at], ends)
