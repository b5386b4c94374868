"""Reports use case: ``classify_reports`` (a CSV or a folder of ``.txt`` reports to a labels CSV).

Written once here, driven alike by ``medpriv classify``, the Reports workspace and a batch runner: the model comes
from the Context's registry (default: the ``default_report_model`` setting, else the registry's default), its
session from the Context's thread policy, the reports from the one text reader; one audit entry
``reports.classify`` with the same fields whatever the front end.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.app import actions
from medpriv_desktop.core.app.context import Context
from medpriv_desktop.core.errors import InputError, ModelError
from medpriv_desktop.core.jobs import Job, Progress

#: ``model_id`` that selects the rule labeler instead of a model bundle.
RULES = "rules"

_cache_lock = threading.Lock()
_cache: dict[tuple[int, str, str, int], tuple[Any, Any]] = {}


def report_model_entry(ctx: Context, model_id: str | None = None) -> Any:
    """The registry entry to classify with: ``model_id``, else the ``default_report_model`` setting, else the
    registry's default report classifier. Raises :class:`ModelError` when there is none."""
    from medpriv_desktop.core.models.card import Task

    wanted = model_id or ctx.settings.default_report_model
    if wanted:
        return ctx.registry.get(wanted)
    entry = ctx.registry.default_for(Task.REPORT_CLASSIFICATION)
    if entry is None:
        raise ModelError("no report-classification model installed", hint="import one with 'medpriv models import'")
    return entry


def load_report_model(ctx: Context, entry: Any) -> Any:
    """The :class:`ReportModel` of a registry entry, loaded once per registry, model (id, sha256) and thread count:
    the registry checks the bundle (manifest, allow-list) on the first load. Keyed on the registry object, so a
    window (one registry) reuses its models while every command (a new registry) checks the bundle again."""
    key = (id(ctx.registry), entry.card.id, entry.card.sha256, ctx.sessions.threads)
    with _cache_lock:
        if key not in _cache:
            from medpriv_desktop.core.reports.classifier import ReportModel

            # the registry is kept with its model, so its id cannot be reused by another registry meanwhile
            _cache[key] = (ctx.registry, ReportModel.from_entry(entry, ctx.registry, ctx.sessions.threads))
        return _cache[key][1]


def forget_report_models() -> None:
    """Drop the loaded models (the installed models changed)."""
    with _cache_lock:
        _cache.clear()


@dataclass
class ClassifyRequest:
    """What to classify and how; ``model_id`` None: the default (:func:`report_model_entry`); ``"rules"``: the
    rule labeler with ``label_set``. Several text columns (a list, or ``findings+impression``) are joined."""

    input: Path
    output: Path
    model_id: str | None = None
    label_set: str | None = None
    text_column: str | list[str] | None = None
    id_column: str | None = None
    probabilities: bool = False
    evidence: Path | None = None
    batch_size: int = 256
    decimal_comma: bool = False


def resolve_model(ctx: Context, request: ClassifyRequest) -> tuple[Any, dict[str, Any], str]:
    """``(model, audit fields, display name)`` for a request: a model bundle, or the rule labeler."""
    if request.model_id == RULES:
        from medpriv_desktop.core.reports.rules_model import RULES_MODEL_ID, RuleModel

        model = RuleModel(request.label_set or "ChestX-ray14")
        return model, {"model_id": RULES_MODEL_ID, "kind": model.label_set}, f"the rule labeler ({model.label_set})"
    if request.label_set:
        raise InputError("--label-set applies to --model rules only (a model's card names its label set)")
    entry = report_model_entry(ctx, request.model_id)
    return load_report_model(ctx, entry), dict(entry.audit_fields()), entry.card.id


def classify_reports(ctx: Context, request: ClassifyRequest, *, model: Any = None,
                     fields: dict[str, Any] | None = None, reports: Any = None) -> Job[Any]:
    """Read the reports, classify them into ``request.output`` (atomically), then record ``reports.classify``
    (model identity, counts of reports, empty reports, token windows and positives per label; no text).

    ``model`` with its audit ``fields`` replaces the model lookup (a window that already loaded one); ``reports``
    (a ``ReportInput`` the caller already read to check the input early) replaces the reading.
    Returns the engine's ``BatchSummary``.
    """
    from medpriv_desktop.core.reports import batch

    if request.model_id == RULES and (request.probabilities or request.evidence):
        raise InputError("the rule labeler gives decisions, not probabilities", hint="drop --probabilities")
    ctx.audit.preflight()  # before anything is written
    if reports is None:
        yield Progress(None, "reading reports")
        reports = batch.read_reports(Path(request.input), request.text_column, request.id_column)
    if model is None:
        yield Progress(None, "loading the model")
        model, fields, _ = resolve_model(ctx, request)
    summary = yield from batch.classify_reports(model, reports, Path(request.output),
                                                probabilities=request.probabilities, evidence_path=request.evidence,
                                                batch_size=request.batch_size, decimal_comma=request.decimal_comma)
    actions.record(ctx.audit, actions.REPORTS_CLASSIFY, **(fields or {}), n_reports=summary.n_reports,
                   n_empty=summary.n_empty, n_windows=summary.windows, positives=summary.positives)
    return summary
