"""Small helpers shared by subcommands."""

from __future__ import annotations

import argparse
from typing import Any, TypeVar

from medpriv_desktop.core.jobs import ConsoleProgressBar, Job, run_job

T = TypeVar("T")


def drive(job: Job[T], args: argparse.Namespace) -> T:
    """Run a job with a progress bar on stderr (none with ``--quiet``)."""
    bar = ConsoleProgressBar(enabled=not getattr(args, "quiet", False))
    try:
        return run_job(job, on_progress=bar)
    finally:
        bar.close()


def add_parser(sub: Any, name: str, help_text: str, **kw: Any) -> argparse.ArgumentParser:
    """Add a subcommand parser that also accepts ``--quiet`` after the command name."""
    p = sub.add_parser(name, help=help_text, description=help_text, **kw)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p
