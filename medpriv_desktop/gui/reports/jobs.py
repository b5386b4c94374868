"""Job generators the Reports workspace runs: classify one report (model + rule labeler), classify a batch.

Plain Python (no Qt). onnxruntime and the tokenizer are imported inside the job (worker thread); a loaded model is
cached by (id, sha256) so the second report classifies at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress

_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], Any] = {}


def load_model(entry: Any, registry: Any) -> Any:
    """The :class:`ReportModel` of a registry entry, loaded once (sha256 checked by the registry on first load)."""
    key = (entry.card.id, entry.card.sha256)
    with _cache_lock:
        if key not in _cache:
            from medpriv_desktop.core.reports.classifier import ReportModel

            _cache[key] = ReportModel.from_entry(entry, registry)
        return _cache[key]


def modality_of(card: Any) -> str:
    """'Chest CT' or 'Chest X-ray' for the model list (CT-RATE models read chest CT reports)."""
    ls, cid = (card.outputs.label_set or "").lower(), card.id.lower()
    return "Chest CT" if ls == "ct-rate" or cid.startswith(("ctrate", "ct-")) else "Chest X-ray"


@dataclass
class ReportResult:
    """Everything the panel shows for one report (no text is copied here)."""

    model_id: str
    labels: list[str]
    thresholds: list[float | None]
    prediction: Any
    rules: Any = None
    rules_binary: dict[str, int] = field(default_factory=dict)
    rule_set: str | None = None

    def disagreements(self) -> list[str]:
        """Supported labels where the model's decision and the rule labeler's (uncertain counted as positive)
        differ; empty without a second opinion."""
        if self.rules is None:
            return []
        out = []
        for lb, th in zip(self.labels, self.thresholds):
            if th is None or lb not in self.rules_binary:
                continue
            if int(self.prediction.decisions[lb]) != int(self.rules_binary[lb]):
                out.append(lb)
        return out


def classify_report(text: str, entry: Any, registry: Any, second_opinion: bool = True) -> Job[ReportResult]:
    """Classify one report with evidence; optionally run the rule labeler beside it."""
    if not text.strip():
        raise InputError("the report is empty", hint="paste a report or open a .txt file first")
    yield Progress(None, f"loading {entry.card.id}")
    model = load_model(entry, registry)
    yield Progress(0.4, "classifying")
    pred = model.classify([text], evidence=True)[0]
    result = ReportResult(entry.card.id, list(model.label_names), list(model.thresholds), pred)
    if second_opinion:
        yield Progress(0.8, "rule labeler")
        from medpriv_desktop.core.reports.labeler import RuleLabeler
        from medpriv_desktop.core.reports.rules_model import rule_label_set_of

        ls = rule_label_set_of(entry.card)
        if ls is not None:

            rules = RuleLabeler(ls).label(text)
            result.rules, result.rule_set = rules, ls
            result.rules_binary = rules.binary(uncertain_as=1)
    yield Progress(1.0, ", ".join(pred.positives) or "no positive label")
    return result


def classify_batch(source: Path, output: Path, entry: Any, registry: Any, *,
                   text_column: str | list[str] | None = None, id_column: str | None = None,
                   probabilities: bool = True, decimal_comma: bool = False) -> Job[Any]:
    """The engine's batch job (CSV or folder of .txt) to an output CSV; returns its ``BatchSummary``. Several text
    columns are joined into one report; ``decimal_comma`` writes ``;``-separated cells with decimal commas."""
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.reports.batch import classify_reports, read_reports

    AuditLog().preflight()  # before anything is written
    yield Progress(None, "reading reports")
    reports = read_reports(Path(source), text_column, id_column)
    yield Progress(None, f"loading {entry.card.id}")
    model = load_model(entry, registry)
    summary = yield from classify_reports(model, reports, Path(output), probabilities=probabilities,
                                          decimal_comma=decimal_comma)
    AuditLog().record("reports.classify", **entry.audit_fields(),
                      n_reports=summary.n_reports, n_empty=summary.n_empty, positives=summary.positives)
    return summary
