"""A run killed at any moment and started again with the same command finishes without redoing finished parts and
without half-written outputs: a killed single-process run, and a worker killed mid-run on a LocalCluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.unit.scaleout.tables import note_rows, read_parts, write_table

ARGS = ["--text-column", "text", "--id-column", "note_id", "--patient-column", "mrn", "--operator", "surrogate",
        "--rules-only", "-q", "--rows-per-partition", "8"]


def _cmd(src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "medpriv_desktop.cli", "deid", str(src), "-o", str(out), *ARGS, *extra]


def _env() -> dict[str, str]:
    # the test's MEDPRIV_HOME (keys, audit log) is inherited: every process uses one deid key
    return {**os.environ, "MEDPRIV_ALLOW_TORCH": "1"}


def _wait_for_parts(proc: subprocess.Popen, out: Path, n: int, timeout: float = 120) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        done = [p for p in out.glob("part-*.csv") if not p.name.endswith(".errors.csv")] if out.is_dir() else []
        if len(done) >= n:
            return len(done)
        time.sleep(0.02)
    pytest.fail("the run ended or stalled before it wrote the parts the test waits for")


def _reference(src: Path, tmp_path: Path) -> list[dict]:
    ref = tmp_path / "ref.csv"
    subprocess.run(_cmd(src, ref), env=_env(), check=True, capture_output=True, timeout=300)
    return read_parts(ref)


@pytest.mark.slow
def test_killed_single_process_run_resumes_without_redoing_parts(tmp_path):
    src = write_table(note_rows(400), tmp_path / "notes.csv")
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(_cmd(src, out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_parts(proc, out, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("part-*.csv")}
    assert 3 <= len(finished) < 50, "the kill came too late to test anything"
    res = subprocess.run(_cmd(src, out), env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-1500:]
    assert f"{len(finished)} already done" in res.stdout
    for name, stamp in finished.items():  # finished parts were not written again
        p = out / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stamp
    assert not list(out.glob(".part-*")), "a temporary file was left behind"
    assert read_parts(out) == _reference(src, tmp_path)


@pytest.mark.slow
def test_worker_killed_mid_run_on_a_local_cluster(tmp_path):
    psutil = pytest.importorskip("psutil")
    src = write_table(note_rows(400), tmp_path / "notes.csv")
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(_cmd(src, out, "--cluster", "local:2"), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_parts(proc, out, 2, timeout=240)
    # the worker processes are the children Dask's nannies spawned with multiprocessing
    children = psutil.Process(proc.pid).children(recursive=True)
    workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
    assert workers, "no worker process found"
    workers[0].kill()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    assert "50 done now, 0 already done, 0 failed (of 50)" in stdout
    assert not list(out.glob(".part-*"))
    assert read_parts(out) == _reference(src, tmp_path)
    assert "Quimbleford" not in stdout + stderr  # worker logs (they reach the driver's stderr) hold no note text
