"""Run planned partition tasks in this process or on a Dask cluster, commit each finished part, report progress.

The runner is a generator job (``core/jobs.py``): the command drives it with the usual progress bar, and the message
says how many partitions are done, the rate in rows (notes, reports, studies) per second and the time left. Every
task is a module-level function and a picklable spec; it returns a :class:`PartResult` and never raises (a failure is
its ``failure`` reason), so a bad partition is an entry in the errors table and the run goes on. When the worker
running a task dies, Dask gives the task to another worker; after several deaths it gives up on that partition only.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.scaleout.parts import PartStore, RowError


@dataclass
class PartResult:
    """What one partition task did (counts and a temporary file; never text)."""

    index: int
    temp: str | None
    rows_done: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    #: One reason when the whole partition failed (nothing written); its rows are redone by the next run.
    failure: str | None = None
    #: 64-bit digests of the patients seen (for a distinct count; held in the driver's memory only).
    patients: set[int] = field(default_factory=set)
    unplaced: int = 0
    peak_rss_mb: float = 0.0
    pid: int = 0


@dataclass
class Task:
    """One partition (or study) to run: ``fn(spec)`` returns a :class:`PartResult`."""

    index: int
    rows: int
    fn: Callable[[Any], PartResult]
    spec: Any


@dataclass
class RunSummary:
    """The whole run: partitions done now and before, rows, errors, counts; what the command prints and audits."""

    partitions: int
    already_done: int = 0
    done: int = 0
    failed: list[RowError] = field(default_factory=list)
    rows_done: int = 0
    row_errors: int = 0
    counts: Counter = field(default_factory=Counter)
    patients: set[int] = field(default_factory=set)
    unplaced: int = 0
    seconds: float = 0.0
    peak_rss_mb: dict[int, float] = field(default_factory=dict)
    errors_table_rows: int = 0


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (what a worker reports with each part)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def format_eta(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``12s``."""
    s = int(max(seconds, 0))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class InProcess:
    """Run tasks one after the other in this process (Parquet input or ``--shard`` without ``--cluster``)."""

    workers = 1

    def run(self, tasks: list[Task]) -> Iterator[PartResult]:
        """Results in task order."""
        for t in tasks:
            yield t.fn(t.spec)


class DaskExecutor:
    """Submit every task to a Dask client; results as they complete. A task whose workers kept dying becomes a
    failed partition, named by index and the kind of failure only."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.workers = max(len(client.scheduler_info().get("workers", {})), 1)

    def run(self, tasks: list[Task]) -> Iterator[PartResult]:
        """Results in completion order."""
        from distributed import as_completed

        futures = {}
        for t in tasks:
            fut = self.client.submit(t.fn, t.spec, pure=False, key=f"medpriv-part-{t.index}-{time.time_ns()}")
            futures[fut] = t.index
        for fut in as_completed(list(futures)):
            index = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost connection: the partition fails alone
                yield PartResult(index, None, failure=f"the task failed on the cluster ({type(exc).__name__})")
            finally:
                fut.release()


def run_tasks(store: PartStore, tasks: list[Task], executor: Any, own: list[int],
              unit: str = "rows") -> Job[RunSummary]:
    """Run ``tasks`` with ``executor``, commit each part into ``store``, rebuild the errors table at the end.

    ``own`` lists every partition of this run or shard (finished earlier ones included: the errors table covers
    them all)."""
    already_done = len(own) - len(tasks)
    summary = RunSummary(len(own), already_done=already_done)
    rows_of = {t.index: t.rows for t in tasks}
    todo_rows = sum(rows_of.values())
    start = time.monotonic()
    yield Progress(0.0, f"{len(tasks)} of {summary.partitions} partitions to do on {executor.workers} worker(s)")
    rows_seen = 0
    for n, res in enumerate(executor.run(tasks), start=1):
        rows_seen += rows_of.get(res.index, 0)
        if res.failure is not None or res.temp is None:
            summary.failed.append(RowError(res.index, None, res.failure or "no output"))
        else:
            store.commit(res.index, res.temp, res.errors)
            summary.done += 1
            summary.rows_done += res.rows_done
            summary.row_errors += len(res.errors)
            summary.counts.update(res.counts)
            summary.patients |= res.patients
            summary.unplaced += res.unplaced
        if res.pid:
            summary.peak_rss_mb[res.pid] = max(summary.peak_rss_mb.get(res.pid, 0.0), res.peak_rss_mb)
        elapsed = time.monotonic() - start
        rate = rows_seen / elapsed if elapsed > 0 else 0.0
        left = (todo_rows - rows_seen) / rate if rate > 0 else 0.0
        yield Progress(n / max(len(tasks), 1),
                       f"partitions {already_done + n}/{summary.partitions}, {rate:.0f} {unit}/s, "
                       f"~{format_eta(left)} left")
    summary.seconds = time.monotonic() - start
    store.clean_temps(own)  # every task has ended: a temporary file left now belongs to a worker that died
    summary.errors_table_rows = store.write_errors_table(sorted(own), summary.failed)
    return summary


def guarded_part(index: int, run: Callable[[], PartResult]) -> PartResult:
    """Run one partition's work in a worker: prepare the process (offline switches, log filter), then ``run``; a
    failure becomes the part's failure reason (a MedPrivError's sentence, else the type and frames only: a message
    may hold a value), so a partition never raises into Dask."""
    import os

    from medpriv_desktop.core.errors import MedPrivError
    from medpriv_desktop.core.logging import frames_only
    from medpriv_desktop.scaleout.worker import prepare_process

    try:
        prepare_process()
        return run()
    except MedPrivError as exc:
        return PartResult(index, None, failure=exc.reason, pid=os.getpid())
    except Exception as exc:  # noqa: BLE001 - see the docstring
        return PartResult(index, None, failure=frames_only(exc.__traceback__, type(exc)), pid=os.getpid())
