"""``medpriv``: headless commands over ``core``.

Each subcommand lives in its own module under ``medpriv_desktop/commands`` exposing ``register(subparsers)``; heavy
imports happen inside the handlers so ``medpriv --help`` stays fast. Every handler returns an exit code. Failures are
one line on stderr, never a traceback: a :class:`MedPrivError` as its message and exit code; an OS error (no space,
permission denied, read-only file system, file exists...) as ``error: PATH: reason``; running out of memory and a
value the code could not handle as one sentence each (exit 2). The log gets the exception's type and stack frames
only (its message may hold a path or a value from the input).
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
from medpriv_desktop.core.logging import frames_only

#: Modules that add subcommands; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "medpriv_desktop.commands.models",
    "medpriv_desktop.commands.demo",
    "medpriv_desktop.commands.audit",
    "medpriv_desktop.commands.segment",
    "medpriv_desktop.commands.classify",
    "medpriv_desktop.commands.synth",
    "medpriv_desktop.commands.deid",
    "medpriv_desktop.commands.deid_dicom",
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
    try:
        setup_logging()  # inside: an unwritable log folder is one sentence too
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
    except BrokenPipeError:
        # The reader of our output went away (``medpriv models list | head``): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (OSError, MemoryError, ValueError) as exc:
        print(f"error: {describe_failure(exc, args)}", file=sys.stderr)
        log.error("command %s failed: %s", args.command, frames_only(exc.__traceback__, type(exc)))
        return 2


def describe_failure(exc: BaseException, args: argparse.Namespace) -> str:
    """One sentence for an OS error, a MemoryError or a ValueError: the path when known, the reason, never a value
    from the input (a ValueError's own message may quote one, so it is not shown)."""
    if isinstance(exc, OSError):
        reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else "") or "input/output error"
        reason = reason[:1].lower() + reason[1:]
        paths = [p for p in (exc.filename, exc.filename2) if p is not None]
        if paths:
            names = " -> ".join(os.fsdecode(p) if isinstance(p, (str, bytes)) else str(p) for p in paths)
            return f"{names}: {reason}"
        return f"{reason} while running '{args.command}'"
    where = getattr(args, "input", None) or getattr(args, "corpus", None)
    prefix = f"{where}: " if where is not None else ""
    if isinstance(exc, MemoryError):
        return (f"{prefix}out of memory while running '{args.command}' "
                "(try a smaller input, a smaller --batch-size or fewer --threads)")
    return f"{prefix}cannot be processed: a value in it is not what '{args.command}' expects ({type(exc).__name__})"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
