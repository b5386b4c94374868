"""The Qt adapter of the job protocol: run a core job generator on a worker thread.

:class:`JobRunner` owns at most one running job. The job runs in a ``QThread``; each ``Progress`` it yields is sent to
the GUI thread through a queued signal; Cancel sets a :class:`CancelToken` that the worker checks between yields. The
result, a :class:`MedPrivError`, any other exception, or the cancellation each arrive as one signal on the GUI thread,
so widgets never touch job state from another thread.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from medpriv_desktop.core.errors import JobCancelled
from medpriv_desktop.core.jobs import CancelToken, Job, Progress, run_job
from medpriv_desktop.gui.qt_compat import guard_bool_refcounts

log = logging.getLogger(__name__)


class _Worker(QObject):
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()

    def __init__(self, job_factory: Callable[[], Job[Any]], token: CancelToken) -> None:
        super().__init__()
        self._factory = job_factory
        self._token = token

    @Slot()
    def run(self) -> None:
        try:
            result = run_job(self._factory(), on_progress=self.progressed.emit, cancel=self._token)
        except JobCancelled:
            self.cancelled.emit()
        except Exception as exc:  # every failure reaches the user through one path
            log.error("job failed: %s\n%s", type(exc).__name__, _scrubbed_traceback(exc))
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()


def _scrubbed_traceback(exc: BaseException) -> str:
    """Frames only (file, line, function); exception arguments are left out since they may quote input text."""
    frames = traceback.extract_tb(exc.__traceback__)
    return "".join(f"  {f.filename}:{f.lineno} in {f.name}\n" for f in frames)


class JobRunner(QObject):
    """Runs one job at a time off the GUI thread and reports on the GUI thread.

    Signals: ``started(title)``, ``progressed(Progress)``, ``succeeded(result)``, ``failed(exception)``,
    ``cancelled()``, ``finished()`` (always last).
    """

    started = Signal(str)
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._token: CancelToken | None = None
        self.title = ""
        self.started_at = 0.0
        self._callbacks: tuple[Callable | None, Callable | None] = (None, None)
        guard_bool_refcounts()  # every progress step emits a signal; see gui/qt_compat

    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self._thread is not None

    def start(self, title: str, job_factory: Callable[[], Job[Any]],
              on_success: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None) -> bool:
        """Start ``job_factory()`` on a worker thread; False (and nothing started) if a job already runs.

        The factory is called on the worker thread, so even building the generator (which may import heavy
        libraries) happens off the GUI thread.
        """
        if self.busy:
            return False
        self.title = title
        self.started_at = time.monotonic()
        self._callbacks = (on_success, on_error)
        self._token = CancelToken()
        self._thread = QThread(self)
        self._worker = _Worker(job_factory, self._token)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self._on_worker_progressed)
        self._worker.succeeded.connect(self._on_worker_succeeded)
        self._worker.failed.connect(self._on_worker_failed)
        self._worker.cancelled.connect(self.cancelled)
        self._worker.done.connect(self._on_worker_done)
        self._thread.start()
        self.started.emit(title)
        return True

    def cancel(self) -> None:
        """Ask the running job to stop at its next step."""
        if self._token is not None:
            self._token.cancel()

    def wait(self, ms: int = 30000) -> bool:
        """Block until the worker thread ends (for shutdown and tests)."""
        return self._thread.wait(ms) if self._thread is not None else True

    @Slot(object)
    def _on_worker_progressed(self, p: Progress) -> None:
        self.progressed.emit(p)

    @Slot(object)
    def _on_worker_succeeded(self, result: Any) -> None:
        if self._callbacks[0] is not None:
            self._callbacks[0](result)
        self.succeeded.emit(result)

    @Slot(object)
    def _on_worker_failed(self, exc: BaseException) -> None:
        if self._callbacks[1] is not None:
            self._callbacks[1](exc)
        self.failed.emit(exc)

    @Slot()
    def _on_worker_done(self) -> None:
        thread = self._thread
        self._thread = None
        self._worker = None
        self._token = None
        # Drop the callbacks: kept past the job, they would tie widgets to this runner in reference cycles that
        # the garbage collector may later break on a worker thread.
        self._callbacks = (None, None)
        if thread is not None:
            thread.quit()
            thread.wait(5000)
            thread.deleteLater()
        self.finished.emit()
