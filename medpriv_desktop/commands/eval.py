"""``medpriv eval ...``: measure engines on annotated data.

``eval`` is a command group. Its subcommands come from the modules in :data:`EVAL_MODULES`; each has
``register_eval(subparsers)``. This module adds ``eval deid``; another area adds e.g. ``eval synth`` by writing its own
``register_eval`` and listing its module here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import add_parser, drive, non_negative_int, prepare_outputs

#: Modules that add ``medpriv eval`` subcommands through ``register_eval(subparsers)``.
EVAL_MODULES: tuple[str, ...] = ("medpriv_desktop.commands.eval", "medpriv_desktop.commands.synth")


def register(sub: Any) -> None:
    """Add the ``eval`` command group."""
    p = add_parser(sub, "eval", "evaluate engines on annotated data (deid, ...)")
    esub = p.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    for name in EVAL_MODULES:
        importlib.import_module(name).register_eval(esub)


def register_eval(esub: Any) -> None:
    """Add ``eval deid``."""
    d = add_parser(esub, "deid", "score PHI detection on an annotated corpus (token and span precision/recall/F1)")
    d.add_argument("corpus", type=Path, help="PhysioNet deid folder, BRAT folder, or JSONL file")
    d.add_argument("--format", choices=["auto", "physionet", "brat", "jsonl"], default="auto")
    d.add_argument("--misses", type=Path, help="write missed spans with context here (contains note text)")
    d.add_argument("--json", type=Path, help="write the scores as JSON here")
    d.add_argument("--rules-only", action="store_true", help="rules without the PHI model")
    d.add_argument("--model", help="phi-ner model id")
    d.add_argument("--limit", type=non_negative_int, default=0, help="only the first N documents")
    d.add_argument("--part", choices=["all", "tuning", "locked"], default="all",
                   help="one side of the fixed patient split of the development notes (core/notes/dev_split.py); "
                        "'locked' prints totals and intervals only and refuses --misses")
    d.add_argument("--intervals", action="store_true",
                   help="add bootstrap 95%% intervals (patients resampled) and span leak rates (on by default "
                        "with --part tuning/locked)")
    d.set_defaults(handler=_run_deid)


def _run_deid(args: argparse.Namespace) -> int:
    from medpriv_desktop.commands.deid import _keep_torch_out

    _keep_torch_out()
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.fileio import atomic_write_text
    from medpriv_desktop.core.notes import eval_parts
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
    from medpriv_desktop.core.notes.evaluation import evaluate_corpus, read_corpus, write_misses

    eval_parts.check_locked_options(args.part, args.misses, args.limit)
    prepare_outputs([args.corpus], files=[("--misses", args.misses), ("--json", args.json)])
    docs = eval_parts.select_part(read_corpus(args.corpus, args.format), args.part)
    if args.limit:
        docs = docs[: args.limit]
    from medpriv_desktop.core.settings import load_settings

    engine = DeidEngine(EngineConfig(use_model=not args.rules_only, model_id=args.model,
                                     site_models_dir=load_settings().site_models_dir))
    per_doc: list = []
    report = drive(evaluate_corpus(docs, engine, per_doc), args)
    print(f"{report.docs} documents ({args.part}); model {engine.model_id or 'rules only'}")
    print(report.table())
    result = report.as_dict()
    if args.intervals or args.part != "all":
        table = eval_parts.bootstrap_table(docs, per_doc)
        print(eval_parts.format_table(table, len({eval_parts.patient_of(d) for d in docs}), len(docs)))
        result["intervals"] = eval_parts.table_as_dict(table)
    result["part"] = args.part
    if args.json:
        atomic_write_text(args.json, json.dumps(result, indent=2) + "\n")
    if args.misses:
        n = write_misses(report, docs, args.misses)
        print(f"{n} missed spans written to {args.misses} (contains note text)", file=sys.stderr)
    allc = report.token["ALL"]
    AuditLog().record("notes.eval", **engine.model_fields, site_recognizers_hash=engine.site_recognizers_hash,
                      docs=report.docs, token_tp=allc.tp, token_fp=allc.fp,
                      token_fn=allc.fn)
    return 0
