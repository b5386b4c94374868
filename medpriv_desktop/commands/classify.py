"""``medpriv classify INPUT -o OUT.csv --model MODEL_ID``: label radiology reports from a CSV or a folder of .txt."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import add_parser, drive, positive_int, prepare_outputs


def register(sub: Any) -> None:
    """Add the ``classify`` command."""
    p = add_parser(sub, "classify", "classify radiology reports (CSV or folder of .txt) into finding labels")
    p.add_argument("input", type=Path, help="a CSV with one report per row, or a folder of .txt reports")
    p.add_argument("-o", "--output", type=Path, required=True, help="output CSV: id + one 0/1 column per label")
    p.add_argument("--model", help="model id (default: the first installed report classifier)")
    p.add_argument("--text-column", help="CSV column holding the report text")
    p.add_argument("--id-column", help="CSV column copied to the output as the row id (default: row number)")
    p.add_argument("--probabilities", action="store_true", help="also write one '<label> probability' column each")
    p.add_argument("--evidence", type=Path, help="write the supporting sentences (offsets) to this JSONL file")
    p.add_argument("--batch-size", type=positive_int, default=256,
                   help="reports per progress step (windows are length-sorted within it; default 256)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.errors import ModelError
    from medpriv_desktop.core.models.card import Task
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.reports.batch import classify_reports, read_reports
    from medpriv_desktop.core.reports.classifier import ReportModel
    from medpriv_desktop.core.settings import load_settings

    prepare_outputs([args.input], files=[("-o", args.output), ("--evidence", args.evidence)])
    reg = ModelRegistry.from_settings(load_settings())
    if args.model:
        entry = reg.get(args.model)
    else:
        entry = reg.default_for(Task.REPORT_CLASSIFICATION)
        if entry is None:
            raise ModelError("no report-classification model installed", hint="import one with 'medpriv models import'")
    reports = read_reports(args.input, args.text_column, args.id_column)
    model = ReportModel.from_entry(entry, reg)
    summary = drive(classify_reports(model, reports, args.output, probabilities=args.probabilities,
                                     evidence_path=args.evidence, batch_size=args.batch_size), args)
    AuditLog().record("reports.classify", **entry.audit_fields(),
                      n_reports=summary.n_reports, n_empty=summary.n_empty, n_windows=summary.windows,
                      positives=summary.positives)
    print(f"classified {summary.n_reports} reports with {entry.card.id} -> {summary.output}"
          + (f" ({summary.n_empty} empty)" if summary.n_empty else ""))
    return 0
