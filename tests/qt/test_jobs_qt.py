"""The Qt job adapter: work runs off the GUI thread, progress arrives, Cancel stops between steps, errors notify."""

from __future__ import annotations

import threading
import time

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Progress
from medpriv_desktop.gui.job_status import JobStatusWidget
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notify import NotificationManager, message_for


def slow_job(steps: int, done: list[int], threads: list[int]):
    threads.append(threading.get_ident())
    for i in range(steps):
        time.sleep(0.02)
        done.append(i)
        yield Progress((i + 1) / steps, f"step {i + 1}")
    return "finished"


def test_job_runs_off_gui_thread_and_reports(qtbot):
    runner = JobRunner()
    status = JobStatusWidget(runner)
    done: list[int] = []
    threads: list[int] = []
    progress: list[Progress] = []
    runner.progressed.connect(progress.append)
    with qtbot.waitSignal(runner.succeeded, timeout=10000) as blocker:
        assert runner.start("Counting", lambda: slow_job(5, done, threads))
        assert status.isVisibleTo(status.parentWidget() or status) or runner.busy
        assert not runner.start("Second", lambda: slow_job(1, [], []))  # one job at a time
    assert blocker.args == ["finished"]
    assert threads[0] != threading.get_ident()
    assert [p.fraction for p in progress] == [0.2, 0.4, 0.6, 0.8, 1.0]
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert not status.isVisible()


def test_cancel_stops_between_steps(qtbot):
    runner = JobRunner()
    status = JobStatusWidget(runner)
    done: list[int] = []
    runner.progressed.connect(lambda p: status.cancel_button.click() if p.fraction and p.fraction >= 0.02 else None)
    with qtbot.waitSignal(runner.cancelled, timeout=10000):
        runner.start("Long", lambda: slow_job(100, done, []))
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert 1 <= len(done) < 100
    assert status.cancel_button.text() == "Cancelling..."


def test_error_in_job_reaches_user_as_message(qtbot):
    runner = JobRunner()
    received: list[BaseException] = []

    def failing():
        yield Progress(0.1, "reading")
        raise InputError("file is truncated", path="/data/ct.nii.gz")

    with qtbot.waitSignals([runner.failed, runner.finished], timeout=10000):
        runner.start("Failing", failing, on_error=received.append)
    assert isinstance(received[0], InputError)
    assert message_for(received[0]) == "/data/ct.nii.gz: file is truncated"
    unexpected = message_for(ZeroDivisionError("secret"), "Segmenting")
    assert unexpected.startswith("Segmenting failed because of an unexpected ZeroDivisionError")
    assert "secret" not in unexpected


def test_notification_manager_keeps_history(qtbot):
    mgr = NotificationManager()
    with qtbot.waitSignal(mgr.notified):
        mgr.error(InputError("bad", path="x"))
    assert mgr.history[-1].level == "error" and mgr.history[-1].text == "x: bad"


def test_runner_lets_go_of_callbacks_when_the_job_ends(qtbot):
    """Callbacks kept past the job would tie widgets to the runner (cycles collected on a worker thread)."""
    import weakref

    class Target:
        def __init__(self):
            self.got = []

        def on_done(self, result):
            self.got.append(result)

    runner = JobRunner()
    target = Target()
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start("Counting", lambda: slow_job(2, [], []), on_success=target.on_done)
    assert target.got == ["finished"]
    ref = weakref.ref(target)
    del target
    assert ref() is None, "the runner still holds the job's callback"
