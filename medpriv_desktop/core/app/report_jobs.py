"""Job generators the Reports workspace runs: classify one report (model + rule labeler), classify a batch.

Plain Python (no Qt). onnxruntime and the tokenizer are imported inside the job (worker thread); a loaded model is
cached by ``core.app`` (id, sha256, threads) so the second report classifies at once. The batch is
``core.app.classify_reports``, the use case ``medpriv classify`` drives too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress


def load_model(entry: Any, registry: Any) -> Any:
    """The :class:`ReportModel` of a registry entry, loaded once per thread count (``core.app``'s cache; the
    registry checks the bundle on first load) with the Preferences thread count."""
    from medpriv_desktop.core.app import Context, load_report_model

    return load_report_model(Context.build(registry=registry), entry)


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
    """``core.app.classify_reports`` (CSV or folder of .txt to an output CSV, its audit entry) with the model chosen
    in the window; returns its ``BatchSummary``. Several text columns are joined into one report; ``decimal_comma``
    writes ``;``-separated cells with decimal commas."""
    from medpriv_desktop.core.app import ClassifyRequest, Context, classify_reports, load_report_model

    ctx = Context.build(registry=registry)
    request = ClassifyRequest(Path(source), Path(output), entry.card.id, text_column=text_column,
                              id_column=id_column, probabilities=probabilities, decimal_comma=decimal_comma)
    yield Progress(None, f"loading {entry.card.id}")
    model = load_report_model(ctx, entry)
    summary = yield from classify_reports(ctx, request, model=model, fields=dict(entry.audit_fields()))
    return summary
