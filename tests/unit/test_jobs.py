"""The job protocol: progress, results, cancellation between steps, errors, composition."""

from __future__ import annotations

import io

import pytest

from medpriv_desktop.core.errors import InputError, JobCancelled
from medpriv_desktop.core.jobs import CancelToken, ConsoleProgressBar, Progress, run_job, scaled


def counting_job(n: int, log: list[str]):
    try:
        for i in range(n):
            log.append(f"step{i}")
            yield Progress((i + 1) / n, f"step {i + 1} of {n}")
        return sum(range(n))
    finally:
        log.append("cleanup")


def test_run_job_returns_result_and_reports_progress():
    seen: list[Progress] = []
    log: list[str] = []
    assert run_job(counting_job(4, log), on_progress=seen.append) == 6
    assert [p.fraction for p in seen] == [0.25, 0.5, 0.75, 1.0]
    assert log[-1] == "cleanup"


def test_cancel_stops_between_steps_and_runs_cleanup():
    token = CancelToken()
    log: list[str] = []

    def on_progress(p: Progress) -> None:
        if p.fraction and p.fraction >= 0.2:
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(counting_job(10, log), on_progress=on_progress, cancel=token)
    # Cancelled after the 2nd step reported progress: step 3 never ran, and the finally block did.
    assert log == ["step0", "step1", "cleanup"]


def test_error_inside_job_propagates_unchanged():
    def bad():
        yield Progress(0.1, "reading")
        raise InputError("file is empty", path="x.txt")

    with pytest.raises(InputError) as info:
        run_job(bad())
    assert info.value.message == "x.txt: file is empty"


def test_scaled_maps_progress_and_returns_sub_result():
    log: list[str] = []

    def parent():
        yield Progress(0.0, "start")
        r = yield from scaled(counting_job(2, log), 0.5, 1.0, prefix="sub: ")
        return r * 10

    seen: list[Progress] = []
    assert run_job(parent(), on_progress=seen.append) == 10
    assert [p.fraction for p in seen] == [0.0, 0.75, 1.0]
    assert seen[1].message == "sub: step 1 of 2"


def test_progress_rejects_out_of_range():
    with pytest.raises(ValueError):
        Progress(1.5)


def test_console_bar_writes_lines_to_log_stream():
    buf = io.StringIO()
    bar = ConsoleProgressBar(stream=buf)
    log: list[str] = []
    run_job(counting_job(3, log), on_progress=bar)
    out = buf.getvalue()
    assert "100%" in out and "step 3 of 3" in out
