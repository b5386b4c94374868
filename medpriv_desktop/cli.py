"""``medpriv``: headless commands over ``core``.

Each subcommand lives in its own module under ``medpriv_desktop/commands`` exposing ``register(subparsers)``; heavy
imports happen inside the handlers so ``medpriv --help`` stays fast. Every handler returns an exit code; a
:class:`MedPrivError` becomes one line on stderr and its exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from medpriv_desktop import __version__
from medpriv_desktop.core.errors import JobCancelled, MedPrivError

#: Modules that add subcommands; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "medpriv_desktop.commands.models",
    "medpriv_desktop.commands.demo",
    "medpriv_desktop.commands.audit",
    "medpriv_desktop.commands.segment",
    "medpriv_desktop.commands.classify",
    "medpriv_desktop.commands.synth",
    "medpriv_desktop.commands.deid",
    "medpriv_desktop.commands.eval",
)

log = logging.getLogger("medpriv_desktop.cli")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="medpriv", description="MedPriv Desktop command line (offline).")
    parser.add_argument("--version", action="version", version=f"medpriv {__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``medpriv``."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # none used; spares an entry-point scan (see app.py)
    from medpriv_desktop.core.logging import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    setup_logging()
    try:
        return int(args.handler(args) or 0)
    except MedPrivError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        log.info("command %s failed: %s", args.command, type(exc).__name__)
        return exc.exit_code
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted; finished outputs are kept, run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
