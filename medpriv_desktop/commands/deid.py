"""``medpriv deid INPUT -o OUTPUT``: de-identify a folder of .txt notes (or a CSV column) offline.

``medpriv deid IN_DIR -o OUT_DIR`` writes one output per input ``.txt`` with the same name, tags by default.
A summary with counts per category (no text) goes to stdout and to the audit log.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import (add_parser, add_restart, drive, positive_float, prepare_outputs,
                                              probability)


def register(sub: Any) -> None:
    """Add the ``deid`` command."""
    p = add_parser(sub, "deid", "remove PHI from clinical notes (folder of .txt files or a CSV column)")
    p.add_argument("input", type=Path, help="folder of .txt notes, or a CSV file with --csv")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (or CSV file with --csv)")
    p.add_argument("--operator", choices=["tag", "mask", "surrogate"], default="tag",
                   help="tag: [NAME], [DATE]...; mask: ****; surrogate: consistent fake values (default: tag)")
    p.add_argument("--csv", action="store_true", help="input is a CSV file; de-identify one column")
    p.add_argument("--text-column", help="CSV column holding the note text")
    p.add_argument("--id-column", help="CSV column naming the patient (consistent surrogates per patient)")
    p.add_argument("--patient-id", metavar="PATTERN|MAPPING.csv",
                   help="folder mode: regex on the file name (first group = patient) or a CSV with file,patient")
    p.add_argument("--encoding", help="decode notes with this encoding instead of UTF-8 (e.g. cp1252)")
    p.add_argument("--max-size", type=positive_float, default=16.0, help="largest note in MB (default 16)")
    p.add_argument("--rules-only", action="store_true", help="do not use the PHI model, only the rule recognizers")
    p.add_argument("--model", help="id of the phi-ner model to use (default: the installed one)")
    p.add_argument("--threshold", type=probability, default=0.0,
                   help="minimum score of a PHI finding, 0-1 (default 0)")
    add_restart(p)
    p.set_defaults(handler=_run)


def _keep_torch_out() -> None:
    """spaCy (imported by Presidio) imports torch when it is installed: several seconds and hundreds of MB that the
    rule engine and onnxruntime never use. Block it unless something already loaded it."""
    if "torch" not in sys.modules and not os.environ.get("MEDPRIV_ALLOW_TORCH"):
        for name in ("torch", "tensorflow", "transformers"):
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def _run(args: argparse.Namespace) -> int:
    _keep_torch_out()
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.notes.batch import deidentify_csv, deidentify_folder
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    cfg = EngineConfig(threshold=args.threshold, use_model=not args.rules_only, model_id=args.model)

    def factory() -> DeidEngine:
        return DeidEngine(cfg)

    mapping = Path(args.patient_id) if args.patient_id and Path(args.patient_id).is_file() else None
    if args.csv:
        if not args.text_column:
            raise InputError("--csv needs --text-column", hint="name the column that holds the note text")
        from medpriv_desktop.core.resume import file_manifest_path

        if not args.input.is_file():
            raise InputError("CSV file does not exist", path=args.input)

        side = args.output.with_name(args.output.name + ".partial")
        prepare_outputs([args.input, mapping], files=[("-o", args.output), ("-o (its part file)", side),
                                                      ("-o (its run manifest)", file_manifest_path(args.output))])
        job = deidentify_csv(args.input, args.output, factory, args.text_column, args.id_column, args.operator,
                             args.encoding, restart=args.restart)
    else:
        if args.text_column or args.id_column:
            raise InputError("--text-column/--id-column need --csv")
        if not args.input.is_dir():  # before the output folder is made: a typo must not leave an empty folder
            raise InputError("input folder does not exist or is not a folder", path=args.input,
                             hint="pass --csv for a CSV file")
        prepare_outputs([args.input, mapping], folders=[("-o", args.output)])
        job = deidentify_folder(args.input, args.output, factory, args.operator, args.patient_id, args.encoding,
                                int(args.max_size * 1024 * 1024), restart=args.restart)
    summary = drive(job, args)
    AuditLog().record("notes.deid", **summary.as_audit_fields())
    print(f"de-identified {summary.done} notes ({summary.already_done} already done, {len(summary.failed)} failed); "
          f"operator {summary.operator}; model {summary.model_id or 'rules only'}")
    for cat, n in sorted(summary.counts.items()):
        print(f"  {cat:10s} {n}")
    for path, reason in summary.failed:
        print(f"error: {path}: {reason}", file=sys.stderr)
    return 1 if summary.failed else 0
