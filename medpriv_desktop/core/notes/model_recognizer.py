"""The PHI token classifier (a ``phi-ner`` bundle) wrapped as a Presidio recognizer.

The bundle's ONNX model gives BIO logits per sub-word token (:mod:`medpriv_desktop.core.text.encoder` does the
windowing). A token counts as PHI when ``1 - P(O)`` reaches the threshold; findings grow to whole words (the unit a
reader and the evaluation see) and neighbouring words of one type join into one span.

Gating (default on): the small model's own findings are noisy on drug names and misspellings, while the rules are
strong on dates, numbers and cued names. So the model is used where the rules leave doubt: only its NAME and
LOCATION words, and only words that look like proper nouns (capitalised inside a mixed-case note, or a census name)
and are not ordinary English or clinical words. With the earlier rules this raised token recall on a held-out fold
0.929 -> 0.961 at precision 0.980 -> 0.961; ungated it cost far more precision than it gained recall. Since the rules
were extended (names after verbal cues, facilities, wards, dwellings), the gated model at threshold 0.9 adds no recall
on the held-out cross-validation folds measured and a few false positives (drug names); it stays as the second stage
for notes unlike the development corpus. Windows are 80 characters either side of a doubtful word (160 gave the same
findings on folds 0, 3 and 4 at twice the model time).
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import numpy as np

from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer, cased_note
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

    def __init__(self, encoder: TextEncoder, labels: list[str], model_id: str = "phi-model", threshold: float = 0.5,
                 gate: bool = True, audit_fields: dict[str, Any] | None = None) -> None:
        super().__init__()
        #: The bundle's identity for audit entries and resume manifests (id, version, manifest hash, root).
        self.audit_fields = dict(audit_fields or {"model_id": model_id})
        self.gate = gate
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
        mixed = None
        for (s, e), (p, kind) in sorted(words.items()):
            cat = LABEL_TO_CATEGORY.get(kind, "NAME")
            if self.gate:
                if mixed is None:
                    mixed = cased_note(text)
                if not self._proper_noun_like(text[s:e], cat, mixed):
                    continue
            if out and out[-1].category == cat and s - out[-1].end <= 1 and not text[out[-1].end: s].strip():
                prev = out[-1]
                out[-1] = self.span(prev.start, e, cat, max(prev.score, p))
            else:
                out.append(self.span(s, e, cat, p))
        return out


    def _proper_noun_like(self, word: str, category: str, mixed: bool) -> bool:
        """The gate: NAME/LOCATION words that look like proper nouns and are not ordinary or clinical words."""
        from medpriv_desktop.core.notes import lexicons as lx

        up = word.upper()
        if up.endswith("'S"):
            up = up[:-2]
        if category not in ("NAME", "LOCATION") or up in lx.clinical_words() or up in lx.common_words() \
                or up in lx.NOT_NAMES:
            return False
        titled = word[:1].isupper() and word[1:].islower()
        return (mixed and titled) or up in lx.first_names() or up in lx.surnames()


    def candidates(self, text: str, covered: list[PhiSpan]) -> list[tuple[int, int]]:
        """Words where the rules leave doubt: proper-noun-like words (see the gate) that no rule span covers."""
        mixed = cased_note(text)
        out = []
        for m in _WORD.finditer(text):
            w = m.group()
            if len(w) < 3 or any(ch.isdigit() for ch in w) or ("'" in w and not w.upper().endswith("'S")) \
                    or not self._proper_noun_like(w, "NAME", mixed):
                continue
            # section headers ("Resp:", "NEURO-") and words opening a line or a sentence are rarely names
            # (a name found elsewhere in the note is still tagged there: see find_where_doubt)
            before = text[: m.start()].rstrip(" \t")
            if not before or before[-1] in "\n.!?;*" or text[m.end(): m.end() + 1] in (":", "-"):
                continue
            if any(m.start() < c.end and c.start < m.end() for c in covered):
                continue
            out.append(m.span())
        return out

    def find_where_doubt(self, text: str, covered: list[PhiSpan], context: int = 80) -> list[PhiSpan]:
        """Run the model only around the doubtful words (none: no model call at all); keep findings on them."""
        if not self.gate:
            return self.find(text)
        cands = self.candidates(text, covered)
        if not cands:
            return []
        # one window of text around each group of nearby candidates, cut at whitespace
        found: list[PhiSpan] = []
        i = 0
        while i < len(cands):
            start = max(0, cands[i][0] - context)
            end = min(len(text), cands[i][1] + context)
            j = i
            while j + 1 < len(cands) and cands[j + 1][0] < end:
                j += 1
                end = min(len(text), cands[j][1] + context)
            while start > 0 and not text[start - 1].isspace():
                start -= 1
            while end < len(text) and not text[end].isspace():
                end += 1
            for sp in self.find(text[start:end]):
                s, e = sp.start + start, sp.end + start
                if any(s < ce and cs < e for cs, ce in cands[i: j + 1]):
                    found.append(self.span(s, e, sp.category, sp.score))
            i = j + 1
        # a word the model named is named everywhere in the note (also where it opens a sentence)
        words = {text[f.start:f.end].upper(): f for f in found if " " not in text[f.start:f.end]}
        if words:
            for m in _WORD.finditer(text):
                f = words.get(m.group().upper())
                if f is not None and not any(m.start() < c.end and c.start < m.end() for c in covered + found):
                    found.append(self.span(m.start(), m.end(), f.category, f.score))
        return found


def load_default_model_recognizer(model_id: str | None = None, threshold: float | None = None) -> Any:
    """The installed PHI model (``model_id`` or the default ``phi-ner`` bundle) as a recognizer, or None when none
    is installed and none was asked for."""
    from medpriv_desktop.core.models.registry import ModelRegistry

    reg = ModelRegistry()
    entry = reg.get(model_id) if model_id else reg.default_for("phi-ner")
    if entry is None:
        log.info("no phi-ner model installed; rules only")
        return None
    # One intra-op thread: the model sees short windows, and on a shared 2-core machine a second onnxruntime thread
    # waits more than it helps (measured 46 vs 71 ms a window under load). MEDPRIV_ORT_THREADS still overrides.
    threads = int(os.environ["MEDPRIV_ORT_THREADS"]) if os.environ.get("MEDPRIV_ORT_THREADS", "").isdigit() else 1
    encoder = TextEncoder.from_entry(entry, reg, threads=threads)
    labels = [lb.name for lb in sorted(entry.card.outputs.labels, key=lambda lb: lb.value)]
    th = threshold
    if th is None:
        th = next((lb.threshold for lb in entry.card.outputs.labels if lb.threshold is not None), None) or 0.5
    return PhiModelRecognizer(encoder, labels, entry.card.id, th, audit_fields=entry.audit_fields())
