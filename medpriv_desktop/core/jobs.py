"""Long work as generators that yield :class:`Progress`.

A job is a generator function such as ``segment_volume(...)``: it ``yield``s ``Progress(fraction, message)`` between
steps and ``return``s its result. Whoever drives it (the CLI progress bar, the Qt worker, a test) may stop it between
two yields; the generator is then closed, so its ``finally`` blocks run and no half-written output is left behind.

Composition: a job calls a sub-job with ``result = yield from scaled(sub_job(...), 0.2, 0.8)`` so the sub-job's
0..1 maps onto a slice of the parent's progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from medpriv_desktop.core.errors import JobCancelled

T = TypeVar("T")

#: What every job function returns: a generator of Progress whose return value is the job's result.
Job = Generator["Progress", None, T]


@dataclass(frozen=True)
class Progress:
    """One progress report: ``fraction`` in [0, 1] (None when unknown) and a short message with no patient text."""

    fraction: float | None
    message: str = ""

    def __post_init__(self) -> None:
        if self.fraction is not None and not (0.0 <= self.fraction <= 1.0 + 1e-9):
            raise ValueError(f"progress fraction out of range: {self.fraction}")


class CancelToken:
    """A flag another thread sets to ask a running job to stop at its next yield."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()


def scaled(job: Job[T], start: float, end: float, prefix: str = "") -> Job[T]:
    """Run ``job`` inside another job, mapping its progress onto ``[start, end]``."""
    span = end - start
    try:
        while True:
            p = next(job)
            frac = None if p.fraction is None else start + span * min(max(p.fraction, 0.0), 1.0)
            yield Progress(frac, f"{prefix}{p.message}")
    except StopIteration as stop:
        return stop.value
    finally:
        job.close()


def run_job(
    job: Job[T],
    on_progress: Callable[[Progress], Any] | None = None,
    cancel: CancelToken | None = None,
) -> T:
    """Drive ``job`` to completion and return its result.

    ``on_progress`` is called for every Progress. If ``cancel`` is set between two yields, the generator is closed
    and :class:`JobCancelled` is raised. Exceptions raised inside the job propagate unchanged.
    """
    try:
        while True:
            if cancel is not None and cancel.cancelled:
                raise JobCancelled()
            try:
                p = next(job)
            except StopIteration as stop:
                return stop.value
            if on_progress is not None:
                on_progress(p)
    finally:
        job.close()


def iterate_with_progress(items: list[Any], message: Callable[[int, int], str]) -> Iterator[tuple[Progress, Any]]:
    """Helper for batch jobs: yields ``(Progress, item)`` pairs, the fraction counting finished items."""
    n = max(len(items), 1)
    for i, item in enumerate(items):
        yield Progress(i / n, message(i, len(items))), item


class ConsoleProgressBar:
    """The CLI adapter: a one-line progress bar on a text stream (stderr), throttled to ~10 updates a second."""

    def __init__(self, stream: Any = None, width: int = 30, enabled: bool = True) -> None:
        import sys

        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self._last = 0.0
        self._shown = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        interactive = getattr(self.stream, "isatty", lambda: False)()
        # A terminal gets a live bar; a log file gets one line every few seconds.
        interval = 0.1 if interactive else 3.0
        if not self.enabled or (now - self._last < interval and (p.fraction or 0) < 1.0):
            return
        self._last = now
        if p.fraction is None:
            bar = "." * self.width
            pct = "  ?%"
        else:
            filled = int(round(self.width * p.fraction))
            bar = "#" * filled + "-" * (self.width - filled)
            pct = f"{100 * p.fraction:3.0f}%"
        line = f"[{bar}] {pct} {p.message[:60]}"
        if interactive:
            self.stream.write("\r" + line.ljust(self.width + 70))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self._shown and getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")
            self.stream.flush()
