"""The rule labeler behind the same interface as :class:`~.classifier.ReportModel`, for ``medpriv classify --model
rules`` and for comparisons: same sections, same :class:`~.classifier.ReportPrediction` results.

Decisions are ``RuleLabeler.binary(uncertain_as=1)`` (an uncertain mention counts as positive, as in the app's
second opinion); there are no probabilities (``None`` for every label). Evidence for a positive label is each
positive or uncertain mention's sentence, with offsets into the original report.
"""

from __future__ import annotations

from typing import Any

from medpriv_desktop.core.reports.classifier import Evidence, ReportPrediction
from medpriv_desktop.core.reports.labeler import NEGATIVE, MENTIONS, RuleLabeler
from medpriv_desktop.core.reports.sections import USED_SECTIONS, classification_text, to_report_offset
from medpriv_desktop.core.reports.sentences import split_sentences

RULES_MODEL_ID = "rules"
RULE_LABEL_SETS: tuple[str, ...] = tuple(MENTIONS)


def rule_label_set_of(card: Any) -> str | None:
    """The rule labeler's label set matching a model card (``outputs.label_set``, else the label names)."""
    name = card.outputs.label_set
    if name in RULE_LABEL_SETS:
        return name
    names = {lb.name for lb in card.outputs.labels}
    for ls in RULE_LABEL_SETS:
        if names and names <= set(RuleLabeler(ls).labels):
            return ls
    return None


class RuleModel:
    """The rule labeler as a report classifier of one label set."""

    def __init__(self, label_set: str, sections: tuple[str, ...] = USED_SECTIONS) -> None:
        self.labeler = RuleLabeler(label_set)
        self.label_set = label_set
        self.label_names = list(self.labeler.labels)
        self.thresholds: list[float | None] = [0.5] * len(self.label_names)  # decisions only; kept for callers
        self.sections = tuple(sections) or USED_SECTIONS

    def classify(self, reports: list[str], evidence: bool = False, top_k: int = 2) -> list[ReportPrediction]:
        """Label reports (full texts; findings and impression are picked out as the model does)."""
        out = []
        for report in reports:
            text, pieces = classification_text(report, self.sections)
            if not text.strip():
                out.append(ReportPrediction({n: None for n in self.label_names}, {n: 0 for n in self.label_names},
                                            windows=0, empty=True))
                continue
            res = self.labeler.label(text)
            dec = res.binary(uncertain_as=1)
            pred = ReportPrediction({n: None for n in self.label_names}, {n: int(dec[n]) for n in self.label_names})
            if evidence:
                sentences = split_sentences(text)
                for m in res.mentions:
                    if m.status == NEGATIVE or not dec.get(m.label):
                        continue
                    s, e = next(((a, b) for a, b in sentences if a <= m.start < b), (m.start, m.end))
                    ev = Evidence(m.label, to_report_offset(s, pieces), to_report_offset(e, pieces), 1.0)
                    items = pred.evidence.setdefault(m.label, [])
                    if ev not in items and len(items) < top_k:
                        items.append(ev)
            out.append(pred)
        return out
