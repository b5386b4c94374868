"""``medpriv classify INPUT -o OUT.csv --model MODEL_ID|rules [--compare]``: label radiology reports from a CSV or a
folder of .txt, with a model, with the rule labeler alone, or with both side by side."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import (add_parser, add_restart, add_scaleout_arguments, drive, positive_int,
                                              prepare_outputs)

RULE_SET_CHOICES = ("ChestX-ray14", "CT-RATE", "CheXpert")


def register(sub: Any) -> None:
    """Add the ``classify`` command."""
    p = add_parser(sub, "classify", "classify radiology reports (CSV or folder of .txt) into finding labels")
    p.add_argument("input", type=Path, help="a CSV with one report per row, or a folder of .txt reports")
    p.add_argument("-o", "--output", type=Path, required=True, help="output CSV: id + one 0/1 column per label")
    p.add_argument("--model", help="model id, or 'rules' for the rule labeler alone (default: the first installed "
                                   "report classifier)")
    p.add_argument("--label-set", choices=RULE_SET_CHOICES,
                   help="the rule labeler's label set with --model rules (default ChestX-ray14)")
    p.add_argument("--compare", action="store_true",
                   help="write the model's and the rule labeler's decisions side by side, disagreements marked")
    p.add_argument("--text-column", help="CSV column holding the report text")
    p.add_argument("--id-column", help="CSV column copied to the output as the row id (default: row number)")
    p.add_argument("--probabilities", action="store_true", help="also write one '<label> probability' column each")
    p.add_argument("--evidence", type=Path, help="write the supporting sentences (offsets) to this JSONL file")
    p.add_argument("--batch-size", type=positive_int, default=256,
                   help="reports per progress step (each report's windows run by themselves; default 256)")
    add_scaleout_arguments(p)
    add_restart(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.app import ClassifyRequest, Context, classify_reports, report_model_entry, resolve_model
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.reports.batch import read_reports
    from medpriv_desktop.core.reports.rules_model import RULES_MODEL_ID

    if args.cluster or args.shard or Path(args.input).suffix.lower() == ".parquet":
        from medpriv_desktop.scaleout.commands import run_classify_table  # the cluster extra, only when asked

        return run_classify_table(args)
    if args.restart:
        raise InputError("--restart applies to table runs (a Parquet input, --shard or --cluster)")
    rules_only = args.model == RULES_MODEL_ID
    if rules_only and args.compare:
        raise InputError("--compare needs a model to compare with the rule labeler", hint="pass --model MODEL_ID")
    if rules_only and args.probabilities:
        raise InputError("the rule labeler gives decisions, not probabilities", hint="drop --probabilities")
    if args.label_set and not rules_only:
        raise InputError("--label-set applies to --model rules only (a model's card names its label set)")
    if args.compare and (args.probabilities or args.evidence):
        raise InputError("--compare writes decisions only", hint="drop --probabilities and --evidence")
    prepare_outputs([args.input], files=[("-o", args.output), ("--evidence", args.evidence)])
    ctx = Context.build()
    request = ClassifyRequest(args.input, args.output, args.model, args.label_set, args.text_column, args.id_column,
                              args.probabilities, args.evidence, args.batch_size)
    reports = read_reports(args.input, args.text_column, args.id_column)  # a bad input fails before a model loads
    model, fields, name = resolve_model(ctx, request)
    if args.compare:
        return _compare(args, report_model_entry(ctx, args.model), model, reports, fields)
    # the use case writes the audit entry (reports.classify) the window writes for the same work
    summary = drive(classify_reports(ctx, request, reports=reports, model=model, fields=fields), args)
    print(f"classified {summary.n_reports} reports with {name} -> {summary.output}"
          + (f" ({summary.n_empty} empty)" if summary.n_empty else ""))
    return 0


def _load_model(model_id: str | None) -> tuple[Any, Any, Any]:
    """``(entry, model, registry)`` on a fresh Context. Kept for ``scaleout/`` until it calls
    :func:`medpriv_desktop.core.app.resolve_model` itself."""
    from medpriv_desktop.core.app import Context, load_report_model, report_model_entry

    ctx = Context.build()
    entry = report_model_entry(ctx, model_id)
    return entry, load_report_model(ctx, entry), ctx.registry


def _compare(args: argparse.Namespace, entry: Any, model: Any, reports: Any, fields: dict[str, Any]) -> int:
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.errors import ModelError
    from medpriv_desktop.core.reports.compare import compare_reports
    from medpriv_desktop.core.reports.rules_model import RULES_MODEL_ID, RuleModel, rule_label_set_of

    ls = rule_label_set_of(entry.card)
    if ls is None:
        raise ModelError(f"model '{entry.card.id}' predicts labels the rule labeler does not know", path=entry.path,
                         hint="--compare works with ChestX-ray14, CheXpert and CT-RATE models")
    summary = drive(compare_reports(model, RuleModel(ls, model.sections), reports, args.output, args.batch_size), args)
    AuditLog().record("reports.compare", **fields, engine=RULES_MODEL_ID, kind=ls, n_reports=summary.n_reports,
                      n_empty=summary.n_empty, n_disagreeing_reports=summary.n_disagreeing_reports,
                      disagreements=summary.disagreements)
    print(f"compared {entry.card.id} with the rule labeler on {summary.n_reports} reports -> {summary.output}; "
          f"{summary.n_disagreeing_reports} reports disagree on at least one label")
    return 0
