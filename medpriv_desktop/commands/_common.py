"""Small helpers shared by subcommands: driving a job, option types argparse checks, and the checks every command
that writes runs before it starts (output guard, writable folders, audit preflight)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
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


# -- option types: a bad value is argparse's usage error (exit 2), never a traceback or a silently empty output ------

def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type for whole numbers ``>= low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"int>={low}"
    return parse


def float_between(low: float, high: float | None, *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type for finite numbers in ``[low, high]`` (``(low, high]`` with ``low_open``; no upper bound when
    ``high`` is None)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            bound = f"{'above' if low_open else 'at least'} {low:g}"
            bound += f" and at most {high:g}" if high is not None else ""
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
probability = float_between(0.0, 1.0)
positive_float = float_between(0.0, None, low_open=True)


def add_restart(p: argparse.ArgumentParser) -> None:
    """Add ``--restart``: discard what an earlier run into the same output wrote, and start over."""
    p.add_argument("--restart", action="store_true",
                   help="start over: remove what an earlier run wrote into this output (only that) and redo all")


# -- before any work ----------------------------------------------------------------------------------------------

def prepare_outputs(inputs: Iterable[Path | None], files: Sequence[tuple[str, Path | None]] = (),
                    folders: Sequence[tuple[str, Path | None]] = ()) -> None:
    """Refuse outputs that are, lie inside or contain an input; probe every output folder (created when missing);
    check the audit log can take an entry. ``files``/``folders`` are ``(option, path)`` pairs; None paths are skipped.
    Call it first thing in a command that writes, before models load."""
    from medpriv_desktop.core.outputs import Output, guard_outputs

    outs = [Output(Path(p), folder=False, option=o) for o, p in files if p is not None]
    outs += [Output(Path(p), folder=True, option=o) for o, p in folders if p is not None]
    guard_outputs([Path(p) for p in inputs if p is not None], outs)
    audit_preflight()


def audit_preflight() -> None:
    """Let the audit log refuse before work starts (a damaged tail must not let outputs be written unaudited)."""
    from medpriv_desktop.core.audit import AuditLog

    AuditLog().preflight()


def add_scaleout_arguments(p: argparse.ArgumentParser) -> None:
    """Options of a scale-out run (``medpriv_desktop.scaleout``, the ``cluster`` extra): a Parquet input or any of
    these selects table mode, which writes a folder of parts; without them the single-machine path runs."""
    g = p.add_argument_group("scale-out (table in, folder of parts out; needs the 'cluster' extra)")
    g.add_argument("--cluster", metavar="local[:N]|tcp://HOST:PORT|tls://HOST:PORT|slurm",
                   help="run partitions on a Dask cluster (default: in this process)")
    g.add_argument("--shard", metavar="K/N", help="do only the K-th of N slices of the partitions (job arrays)")
    g.add_argument("--cluster-config", type=Path, metavar="SLURM.yaml", help="settings of --cluster slurm")
    g.add_argument("--dashboard", action="store_true", help="serve the Dask dashboard on 127.0.0.1:8787")
    g.add_argument("--worker-memory", metavar="SIZE", help="memory limit per local worker, e.g. 4GB (default: "
                                                           "the machine's memory shared out)")
    g.add_argument("--rows-per-partition", type=positive_int, help="CSV rows per partition (default 2000)")
    for name in ("ca", "cert", "key"):
        g.add_argument(f"--tls-{name}", metavar="FILE", help=f"TLS {name} file for a tls:// scheduler")
