"""The runtime report classifier: sections -> tokenizer windows -> ONNX -> per-label probabilities -> decisions.

Built on the shared :class:`~medpriv_desktop.core.text.encoder.TextEncoder` (onnxruntime + tokenizers only). A long
report is cut into overlapping windows, never truncated; a label's probability is the maximum over windows, since a
finding stated anywhere in the report makes the report positive. Evidence for a label (positive or negative) is the
whole sentences whose removal lowers that label's probability most (occlusion: the report is classified again
without each sentence), with character offsets into the ORIGINAL report text; a list number ("2.") is part of its
sentence, never a sentence of its own.

A model whose card declares ``text_input.rule_features`` also reads the rule labeler's per-label outputs for the
whole prepared text (:mod:`.rule_features`), fed beside every window of that text; the card's labeler version must
be this app's, or the model is refused (its inputs would not be what it was trained on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.reports.rule_features import RuleFeatures
from medpriv_desktop.core.reports.sections import USED_SECTIONS, classification_text, to_report_offset
from medpriv_desktop.core.reports.sentences import split_sentences
from medpriv_desktop.core.reports.thresholds import decide


@dataclass(frozen=True)
class Evidence:
    """A sentence supporting a label: ``[start, end)`` in the original report and how much the label's probability
    falls when the sentence is removed from the report (``score``; larger = stronger evidence)."""

    label: str
    start: int
    end: int
    score: float


@dataclass
class ReportPrediction:
    """The result for one report: probabilities (None for unsupported labels), 0/1 decisions, evidence."""

    probabilities: dict[str, float | None]
    decisions: dict[str, int]
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    windows: int = 1
    empty: bool = False

    @property
    def positives(self) -> list[str]:
        """Labels decided 1."""
        return [k for k, v in self.decisions.items() if v]


#: A sentence that is only a list marker ("2.", "(3)", "-"): it belongs to the sentence after it.
_LIST_MARKER = re.compile(r"\(?\d{1,2}[.)]?|[-*\u2022]|[a-z][.)]")


def evidence_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` with list markers joined to the sentence they number ("2." + "No effusion.")."""
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for s, e in split_sentences(text):
        if _LIST_MARKER.fullmatch(text[s:e].strip()):
            pending = s if pending is None else pending
            continue
        out.append((pending if pending is not None else s, e))
        pending = None
    if pending is not None and out:  # a trailing marker with nothing after it stays with the last sentence
        out[-1] = (out[-1][0], len(text.rstrip()))
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


class ReportModel:
    """A loaded report classifier: encoder + label names + thresholds (``None`` marks an unsupported label)."""

    def __init__(self, encoder: Any, label_names: list[str], thresholds: list[float | None],
                 sections: tuple[str, ...] = USED_SECTIONS, activation: str = "sigmoid",
                 rule_features: RuleFeatures | None = None, rule_input: str = "rule_features") -> None:
        if len(label_names) != len(thresholds):
            raise ModelError("model card lists a different number of labels and thresholds")
        self.encoder = encoder
        self.rule_features = rule_features
        self.rule_input = rule_input
        self.label_names = list(label_names)
        self.thresholds = list(thresholds)
        self.sections = tuple(sections) or USED_SECTIONS
        self.activation = activation

    @classmethod
    def from_entry(cls, entry: Any, registry: Any = None, threads: int | None = None) -> ReportModel:
        """Load a registry bundle (sha256 checked before the session is created)."""
        from medpriv_desktop.core.models.card import Task
        from medpriv_desktop.core.text.encoder import TextEncoder

        card = entry.card
        if card.task is not Task.REPORT_CLASSIFICATION:
            raise ModelError(f"model '{card.id}' is a {card.task.value} model, not a report classifier",
                             path=entry.path, hint="choose a report-classification model (medpriv models list)")
        rf = rule_features_of(card, entry.path)
        enc = TextEncoder.from_entry(entry, registry, threads)
        if rf is not None and card.text_input.rule_features.input_name not in enc.input_names:
            raise ModelError(f"model '{card.id}' declares rule inputs its ONNX graph does not take", path=entry.path)
        labels = sorted(card.outputs.labels, key=lambda lb: lb.value)
        ths = [lb.threshold if lb.supported else None for lb in labels]
        sections = tuple(card.text_input.sections) if card.text_input and card.text_input.sections else USED_SECTIONS
        return cls(enc, [lb.name for lb in labels], ths, sections, card.outputs.activation, rf,
                   card.text_input.rule_features.input_name if rf is not None else "rule_features")

    def _probs(self, logits: np.ndarray) -> np.ndarray:
        if self.activation == "softmax":
            e = np.exp(logits - logits.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)
        if self.activation == "none":
            return logits
        return _sigmoid(logits)

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        """Probabilities ``(N, L)`` of already-prepared texts (max over windows) and the window count per text."""
        if not texts:
            return np.zeros((0, len(self.label_names)), dtype=np.float32), []
        if self.rule_features is None:
            out = self.encoder.logits(list(texts))
        else:
            out = window_logits(self.encoder, list(texts), {self.rule_input: self.rule_features(list(texts))})
        probs = np.stack([np.max([self._probs(np.asarray(c.logits, dtype=np.float64)) for c in chunks], axis=0)
                          for chunks in out]).astype(np.float32)
        if probs.shape[1] != len(self.label_names):
            raise ModelError(f"model gives {probs.shape[1]} outputs but its card lists {len(self.label_names)} labels")
        return probs, [len(c) for c in out]

    def classify(self, reports: list[str], evidence: bool = False, top_k: int = 2) -> list[ReportPrediction]:
        """Classify reports (full texts; findings and impression are picked out here)."""
        prepared = [classification_text(r, self.sections) for r in reports]
        idx = [i for i, (t, _) in enumerate(prepared) if t.strip()]
        probs, windows = self.probabilities([prepared[i][0] for i in idx])
        full = np.zeros((len(reports), len(self.label_names)), dtype=np.float32)
        wins = [0] * len(reports)
        for k, i in enumerate(idx):
            full[i] = probs[k]
            wins[i] = windows[k]
        dec = decide(full, self.thresholds)
        preds: list[ReportPrediction] = []
        nonempty = set(idx)
        for i in range(len(reports)):
            p = {n: (None if t is None else float(full[i, j]))
                 for j, (n, t) in enumerate(zip(self.label_names, self.thresholds))}
            d = {n: int(dec[i, j]) if i in nonempty else 0 for j, n in enumerate(self.label_names)}
            preds.append(ReportPrediction(p, d, windows=wins[i], empty=i not in nonempty))
        if evidence:
            self._add_evidence(reports, prepared, preds, top_k)
        return preds

    def _add_evidence(self, reports: list[str], prepared: list[tuple[str, list]], preds: list[ReportPrediction],
                      top_k: int) -> None:
        """Occlusion evidence for every supported label of every non-empty report: classify the report once more
        without each sentence; a sentence's score is how much the label's probability falls without it. The top
        ``top_k`` sentences with a fall above 0.001 are kept per label (none when no sentence raises the label)."""
        jobs: list[tuple[int, int, int]] = []  # (report, start, end) in the report's own offsets
        texts: list[str] = []
        for i, (text, pieces) in enumerate(prepared):
            if preds[i].empty:
                continue
            for s, e in evidence_sentences(text):
                jobs.append((i, to_report_offset(s, pieces), to_report_offset(e, pieces)))
                texts.append((text[:s] + " " + text[e:]).strip())
        if not texts:
            return
        # Without its only sentence a report is empty: the whole probability rests on that sentence.
        keep = [k for k, t in enumerate(texts) if t]
        without = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
        if keep:
            without[keep] = self.probabilities([texts[k] for k in keep])[0]
        supported = [j for j, t in enumerate(self.thresholds) if t is not None]
        by_report: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        for (i, a, b), p in zip(jobs, without):
            by_report.setdefault(i, []).append((a, b, p))
        for i, rows in by_report.items():
            for j in supported:
                lb = self.label_names[j]
                full = float(preds[i].probabilities[lb] or 0.0)
                drops = [(a, b, full - float(p[j])) for a, b, p in rows]
                ranked = sorted((d for d in drops if d[2] > 1e-3), key=lambda d: (-d[2], d[0]))[:top_k]
                if ranked:
                    preds[i].evidence[lb] = [Evidence(lb, a, b, round(d, 6)) for a, b, d in ranked]


def rule_features_of(card: Any, path: Any = None) -> RuleFeatures | None:
    """The rule inputs a card declares (None when it declares none); refuses another labeler version."""
    from medpriv_desktop.core.reports.labeler import LABELER_VERSION, MENTIONS

    spec = card.text_input.rule_features if card.text_input is not None else None
    if spec is None:
        return None
    if spec.labeler_version != LABELER_VERSION:
        raise ModelError(f"model '{card.id}' was trained on rule labeler version {spec.labeler_version}, this app has "
                         f"version {LABELER_VERSION}", path=path, hint="use a model exported for this app version")
    if spec.label_set not in MENTIONS:
        raise ModelError(f"model '{card.id}' reads rule outputs for an unknown label set", path=path)
    rf = RuleFeatures(spec.label_set, spec.encoding)
    if rf.width != spec.width:
        raise ModelError(f"model '{card.id}' expects {spec.width} rule values per report, the labeler gives {rf.width}",
                         path=path)
    return rf


def window_logits(encoder: Any, texts: list[str], per_text: dict[str, np.ndarray]) -> list:
    """:meth:`TextEncoder.logits` for a model with extra per-text inputs (``name -> (N, F)`` arrays): each window of
    text i gets row i. Each window runs by itself, as in the encoder (its output depends on that window alone)."""
    from medpriv_desktop.core.text.encoder import ChunkLogits

    chunks = encoder.encode(texts)
    flat = [(t, c) for t, cs in enumerate(chunks) for c in cs]
    arrays = iter(encoder.run_windows([c for _, c in flat],
                                      [{name: arr[t] for name, arr in per_text.items()} for t, _ in flat]))
    return [[ChunkLogits(c, next(arrays)) for c in cs] for cs in chunks]
