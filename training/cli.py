"""``medpriv-train``: data generation, training, distillation, evaluation and export to bundles.

Each area registers its subcommands from its own module (``register(subparsers)``), listed in
:data:`COMMAND_MODULES`; heavy imports happen inside handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from medpriv_desktop.core.errors import JobCancelled, MedPrivError

#: Modules that add subcommands; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "training.reports.cli",
    "training.seg.cli",
    "training.phi.cli",
    "training.synth.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="medpriv-train", description="Train and export MedPriv model bundles.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``medpriv-train``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except MedPrivError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except (JobCancelled, KeyboardInterrupt):
        print("\ninterrupted; checkpoints are kept, run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
