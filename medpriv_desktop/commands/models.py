"""``medpriv models list|show|import|verify|schema|allowlist migrate``."""

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
    ip.add_argument("--allow-shadow", action="store_true",
                    help="let this bundle replace a bundled or site model with the same id (recorded in the audit log)")
    vp = msub.add_parser("verify", help="check every model's files, print its manifest hash and root")
    vp.add_argument("model_id", nargs="?")
    sc = msub.add_parser("schema", help="print the model card JSON schema")
    sc.add_argument("-o", "--output", type=Path)
    ap = msub.add_parser("allowlist", help="site allow-list tools for IT")
    asub = ap.add_subparsers(dest="allowlist_command", metavar="ACTION", required=True)
    mp = asub.add_parser("migrate", help="rewrite a legacy allow-list (model.onnx hashes) as bundle manifests")
    mp.add_argument("-o", "--output", type=Path, help="write here instead of replacing the allow-list in force")
    mp.add_argument("--include-user", action="store_true", help="also admit bundles in your own models folder")
    p.set_defaults(handler=_run)


def _list(reg: Any, args: argparse.Namespace) -> int:
    entries = reg.entries(args.task)
    if args.json:
        print(json.dumps([{"id": e.card.id, "version": e.card.version, "task": e.card.task.value,
                           "root": e.root, "path": str(e.path)} for e in entries], indent=2))
        return 0
    if not entries:
        print("no models installed")
    for e in entries:
        print(f"{e.card.id:38s} {e.card.version:9s} {e.card.task.value:22s} {e.root:8s} {e.card.title}")
    for prob in reg.problems + reg.shadowed:
        print(f"skipped: {prob.message}")
    return 0


def _verify(reg: Any, args: argparse.Namespace) -> int:
    entries = [reg.get(args.model_id)] if args.model_id else reg.entries()
    print(reg.policy.describe())
    bad = 0
    for e in entries:
        try:
            reg.verified_model_path(e)
            print(f"ok      {e.card.id} {e.card.version}  sha256 {e.card.sha256}  manifest {e.manifest}  {e.root}")
        except Exception as exc:  # report every model, then fail
            bad += 1
            print(f"FAILED  {e.card.id} {e.card.version}  {e.root}: {getattr(exc, 'message', exc)}")
    if not args.model_id:
        for prob in reg.problems:
            bad += 1
            print(f"FAILED  {prob.message}")
        for prob in reg.shadowed:
            print(f"skipped: {prob.message}")
    return 1 if bad else 0


def _import(reg: Any, args: argparse.Namespace) -> int:
    from medpriv_desktop.core.app import Context, import_model
    from medpriv_desktop.core.jobs import run_job

    e = run_job(import_model(Context.build(registry=reg), args.bundle, overwrite=args.overwrite,
                             allow_shadow=args.allow_shadow))
    print(f"imported {e.card.id} {e.card.version} into {e.path}  manifest {e.manifest}")
    if args.allow_shadow:
        print(f"{e.card.id} may replace the bundled or site model of the same id (--allow-shadow, audited)")
    return 0


def _migrate(reg: Any, args: argparse.Namespace) -> int:
    from medpriv_desktop.core.fileio import atomic_write_text
    from medpriv_desktop.core.models.migrate import migrate_allowlist

    result = migrate_allowlist(reg, include_user=args.include_user)
    if result.already_v2:
        print(f"{reg.policy.allowlist_path} already lists bundle manifests (version 2); nothing to do")
        return 0
    for e, manifest in result.admitted:
        print(f"admit   {e.card.id} {e.card.version}  {e.root}  manifest {manifest}")
    for prob in result.skipped:
        print(f"skipped: {prob.message}")
    for sha in result.unmatched:
        print(f"dropped model.onnx hash {sha}: no visible bundle holds it")
    target = args.output or reg.policy.allowlist_path
    atomic_write_text(target, json.dumps(result.document, indent=2) + "\n")
    print(f"wrote {target} ({len(result.document['manifest_sha256'])} manifests); review it")
    return 0


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.settings import load_settings

    reg = ModelRegistry.from_settings(load_settings())
    action = args.models_command
    if action == "list":
        return _list(reg, args)
    if action == "show":
        e = reg.get(args.model_id)
        print(e.card.model_dump_json(indent=2, exclude_none=True))
        print(f"# bundle: {e.path} ({e.root})")
        return 0
    if action == "import":
        return _import(reg, args)
    if action == "verify":
        return _verify(reg, args)
    if action == "allowlist":
        return _migrate(reg, args)
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
