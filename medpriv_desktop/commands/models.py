"""``medpriv models list|show|import|verify|schema``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import add_parser


def register(sub: Any) -> None:
    """Add the ``models`` command."""
    p = add_parser(sub, "models", "list, inspect, verify and import model bundles")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lp = msub.add_parser("list", help="list installed models")
    lp.add_argument("--task", help="only this task (segmentation, report-classification, phi-ner, ...)")
    lp.add_argument("--json", action="store_true", help="machine-readable output")
    sp = msub.add_parser("show", help="show one model card")
    sp.add_argument("model_id")
    ip = msub.add_parser("import", help="validate a bundle folder and copy it into your models folder")
    ip.add_argument("bundle", type=Path)
    ip.add_argument("--overwrite", action="store_true")
    vp = msub.add_parser("verify", help="check every installed model's sha256 and the site allow-list")
    vp.add_argument("model_id", nargs="?")
    sc = msub.add_parser("schema", help="print the model card JSON schema")
    sc.add_argument("-o", "--output", type=Path)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.settings import load_settings

    reg = ModelRegistry.from_settings(load_settings())
    action = args.models_command
    if action == "list":
        entries = reg.entries(args.task)
        if args.json:
            print(json.dumps([{"id": e.card.id, "version": e.card.version, "task": e.card.task.value,
                               "root": e.root, "path": str(e.path)} for e in entries], indent=2))
            return 0
        if not entries:
            print("no models installed")
        for e in entries:
            print(f"{e.card.id:38s} {e.card.version:9s} {e.card.task.value:22s} {e.root:8s} {e.card.title}")
        for prob in reg.problems:
            print(f"skipped: {prob.message}")
        return 0
    if action == "show":
        e = reg.get(args.model_id)
        print(e.card.model_dump_json(indent=2, exclude_none=True))
        print(f"# bundle: {e.path} ({e.root})")
        return 0
    if action == "import":
        from medpriv_desktop.core.audit import AuditLog

        e = reg.import_bundle(args.bundle, overwrite=args.overwrite)
        AuditLog().record("models.import", model_id=e.card.id, model_version=e.card.version)
        print(f"imported {e.card.id} {e.card.version} into {e.path}")
        return 0
    if action == "verify":
        entries = [reg.get(args.model_id)] if args.model_id else reg.entries()
        bad = 0
        for e in entries:
            try:
                reg.verified_model_path(e)
                print(f"ok      {e.card.id} {e.card.version}  sha256 {e.card.sha256}")
            except Exception as exc:  # report every model, then fail
                bad += 1
                print(f"FAILED  {e.card.id} {e.card.version}: {getattr(exc, 'message', exc)}")
        return 1 if bad else 0
    if action == "schema":
        from medpriv_desktop.core.models.card import card_json_schema

        text = json.dumps(card_json_schema(), indent=2, sort_keys=True) + "\n"
        if args.output:
            from medpriv_desktop.core.fileio import atomic_write_text

            atomic_write_text(args.output, text)
        else:
            print(text, end="")
        return 0
    return 2
