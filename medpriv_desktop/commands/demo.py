"""``medpriv demo``: write the generated demo study, notes and reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import add_parser, prepare_outputs


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    p = add_parser(sub, "demo", "write the generated demo data (phantom CT, notes, reports)")
    p.add_argument("-o", "--output", type=Path, help="folder (default: your MedPriv data folder / demo)")
    p.add_argument("--force", action="store_true", help="write again even if present")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.demo import demo_dir, make_demo

    prepare_outputs([], folders=[("-o", args.output or demo_dir())])
    out = make_demo(args.output, force=args.force)
    print(f"demo data in {out}")
    return 0
