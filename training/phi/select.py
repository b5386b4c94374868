"""Choose the tagger's threshold on validation notes, through the app's own runtime (int8 ONNX, rules in union).

For each validation text the exported bundle is run once (:meth:`PhiModelRecognizer.word_scores`), the rule engine
once, and then every candidate threshold is scored on word tokens the way ``medpriv eval deid`` scores them
(:func:`medpriv_desktop.core.notes.evaluation.score_document`). The rule: the highest threshold whose token recall on
the validation texts reaches ``target_recall``; when none does, the threshold of the highest recall whose precision
stays at or above ``min_precision``. Validation texts are the tuning-val part of the development notes and the
shared invented-dev notes, never the locked part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.notes.evaluation import EvalReport, GoldDoc, score_document
from medpriv_desktop.core.notes.spans import merge_spans
from training.phi.data import LabelledText

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass
class ThresholdChoice:
    """The chosen threshold and the validation scores of every candidate (per validation set)."""

    threshold: float
    rule: str
    scores: dict[str, dict[float, dict[str, float]]] = field(default_factory=dict)
    rules_only: dict[str, dict[str, float]] = field(default_factory=dict)


def _summary(report: EvalReport) -> dict[str, float]:
    out = {"recall": round(report.token["ALL"].recall, 4), "precision": round(report.token["ALL"].precision, 4),
           "span_recall": round(report.span["ALL"].recall, 4)}
    for cat, c in report.token.items():
        if cat != "ALL" and not cat.startswith("pred:") and c.tp + c.fn:
            out[f"recall:{cat}"] = round(c.recall, 4)
    return out


def score_thresholds(items: Sequence[LabelledText], recognizer: Any, rule_engine: Any,
                     thresholds: Sequence[float] = THRESHOLDS, log: Callable[..., Any] = print
                     ) -> tuple[dict[float, dict[str, float]], dict[str, float]]:
    """``({threshold: scores}, rules_only_scores)`` of rules ∪ tagger on ``items``."""
    reports = {t: EvalReport() for t in thresholds}
    rules_report = EvalReport()
    for i, it in enumerate(items):
        doc = GoldDoc(it.doc_id or str(i), it.text, list(it.spans))
        rule_spans = rule_engine.analyze(it.text)
        score_document(doc, rule_spans, rules_report)
        words = recognizer.word_scores(it.text)
        for t in thresholds:
            score_document(doc, merge_spans(rule_spans + recognizer.spans_from_words(it.text, words, t)), reports[t])
        if (i + 1) % 100 == 0:
            log(f"  scored {i + 1}/{len(items)} validation texts")
    return {t: _summary(r) for t, r in reports.items()}, _summary(rules_report)


def choose_threshold(scores: dict[float, dict[str, float]], target_recall: float = 0.97,
                     min_precision: float = 0.85, also_precise: Sequence[dict[float, dict[str, float]]] = ()
                     ) -> tuple[float, str]:
    """The threshold by the module's rule, with the rule that decided it in words.

    Among thresholds whose precision is at least ``min_precision``: the highest one that reaches ``target_recall``
    (the most precise of those that find enough), else the one with the highest recall. When no threshold keeps
    that precision, the highest threshold (the most precise). ``also_precise``: further score tables (other
    validation sets) whose precision must reach ``min_precision`` too."""
    precise = [t for t, s in scores.items() if s["precision"] >= min_precision
               and all(other[t]["precision"] >= min_precision for other in also_precise)]
    if not precise:
        return max(scores), f"no threshold kept precision {min_precision}: the highest threshold"
    reaching = [t for t in precise if scores[t]["recall"] >= target_recall]
    if reaching:
        return max(reaching), (f"highest threshold with validation token recall >= {target_recall} and precision "
                               f">= {min_precision}")
    t = max(precise, key=lambda x: (scores[x]["recall"], x))
    return t, f"no threshold reached recall {target_recall}: highest recall with precision >= {min_precision}"


def select_threshold(val_sets: dict[str, Sequence[LabelledText]], recognizer: Any, rule_engine: Any,
                     decide_on: str, target_recall: float = 0.97, min_precision: float = 0.85,
                     log: Callable[..., Any] = print) -> ThresholdChoice:
    """Score every validation set; decide the threshold on ``decide_on`` (the real development notes)."""
    choice = ThresholdChoice(0.5, "")
    for name, items in val_sets.items():
        log(f"validation set {name}: {len(items)} texts")
        choice.scores[name], choice.rules_only[name] = score_thresholds(items, recognizer, rule_engine, log=log)
    others = [s for name, s in choice.scores.items() if name != decide_on]
    choice.threshold, choice.rule = choose_threshold(choice.scores[decide_on], target_recall, min_precision, others)
    if others:
        choice.rule += " (precision on every validation set)"
    return choice


#: Candidates for a type's own threshold, above the common one (:func:`raise_per_type`).
PER_TYPE_CANDIDATES = (0.9, 0.95, 0.99, 0.999)
#: The order types are raised in: those the rules already cover well first (dates, phone numbers, IDs, ages), names
#: last (the tagger's main gain over the rules).
TYPE_ORDER = ("DATE", "CONTACT", "ID", "AGE", "LOCATION", "NAME")


def _cached(items: Sequence[LabelledText], recognizer: Any, rule_engine: Any) -> list[tuple[GoldDoc, list, list]]:
    return [(GoldDoc(it.doc_id or str(i), it.text, list(it.spans)), rule_engine.analyze(it.text),
             recognizer.word_scores(it.text)) for i, it in enumerate(items)]


def _report(cache: list[tuple[GoldDoc, list, list]], recognizer: Any, base: float,
            per_type: dict[str, float]) -> EvalReport:
    report = EvalReport()
    for doc, rule_spans, words in cache:
        kept = [w for w in words if w.p_phi >= per_type.get(w.kind, base)]
        score_document(doc, merge_spans(rule_spans + recognizer.spans_from_words(doc.text, kept, 0.0)), report)
    return report


def raise_per_type(items: Sequence[LabelledText], recognizer: Any, rule_engine: Any, base: float,
                   candidates: Sequence[float] = PER_TYPE_CANDIDATES, order: Sequence[str] = TYPE_ORDER
                   ) -> dict[str, float]:
    """Per tagger type, in ``order``: the highest candidate threshold above ``base`` at which the validation texts
    lose no PHI token found at ``base`` (rules in union; earlier types' raised thresholds in effect). Types whose
    threshold cannot rise are left out (they keep ``base``). This removes the tagger's least useful findings: a
    type whose extra words the rules already cover, or which the tagger finds only with high confidence."""
    cache = _cached(items, recognizer, rule_engine)
    base_tp = _report(cache, recognizer, base, {}).token["ALL"].tp
    chosen: dict[str, float] = {}
    for kind in order:
        for t in sorted((c for c in candidates if c > base), reverse=True):
            if _report(cache, recognizer, base, {**chosen, kind: t}).token["ALL"].tp >= base_tp:
                chosen[kind] = t
                break
    return chosen


def score_per_type(items: Sequence[LabelledText], recognizer: Any, rule_engine: Any, base: float,
                   per_type: dict[str, float]) -> dict[str, float]:
    """Scores of rules ∪ tagger on ``items`` at ``base`` with the per-type thresholds ``per_type``."""
    return _summary(_report(_cached(items, recognizer, rule_engine), recognizer, base, per_type))
