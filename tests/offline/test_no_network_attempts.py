"""The CLI makes no network attempt and writes nowhere it should not, in a user's environment, for longer than ONNX
Runtime's telemetry takes to start (about 10 s after the first session on 1.32).

The child runs with the CI markers removed (ONNX Runtime keeps quiet when it sees ``CI``) and without
``ORT_DISABLE_TELEMETRY``: only the app's own switch (``medpriv_desktop/_offline.py``) can keep it offline. A control
run with that switch bypassed must show the attempts, so the test proves it can see them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import netwatch  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="strace is Linux-only"),
]
DRIVER = Path(__file__).with_name("_driver.py")
SECONDS = 35

#: Written outside the app's folders by the Python interpreter, not by the app (bytecode caches are off in the child).
ALLOWED_PATTERNS: tuple[str, ...] = (r"^/dev/(null|tty|pts/)", r"^/proc/")


def _require_strace() -> None:
    if not netwatch.strace_available():
        pytest.fail("strace is missing or cannot trace here: scripts/test.sh installs it (apt package strace)")


def _run(tmp_path: Path, bypass: bool) -> tuple[netwatch.Trace, Path, Path]:
    home, tmp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for p in (home, tmp, work):
        p.mkdir()
    env = netwatch.clean_environment(home, tmp)
    cmd = [sys.executable, str(DRIVER), str(work), str(SECONDS)] + (["--bypass"] if bypass else [])
    trace = netwatch.run_traced(cmd, env, work, tmp_path / "strace" / "log")
    return trace, home, work


@pytest.fixture
def strace_dir(tmp_path: Path) -> Path:
    (tmp_path / "strace").mkdir()
    return tmp_path


def test_cli_jobs_attempt_no_network_and_write_only_their_folders(strace_dir: Path) -> None:
    """deid, classify and segment for 35 s: no connect/sendto off loopback, no DNS, no stray files."""
    _require_strace()
    trace, home, work = _run(strace_dir, bypass=False)
    assert trace.returncode == 0, trace.stderr[-3000:]
    assert "runs=" in trace.stdout
    assert trace.attempts == [], f"network attempts: {sorted(set(trace.attempts))[:10]}"
    app_folders = [home / ".config" / "MedPriv", home / ".local" / "share" / "MedPriv",
                   home / ".local" / "state" / "MedPriv"]
    assert any(p.startswith(str(work / "run0" / "notes")) for p in trace.written), "the watcher saw no output"
    stray = trace.written_outside([work, strace_dir / "tmp", *app_folders], ALLOWED_PATTERNS)
    assert stray == [], f"files written outside the app's folders, the outputs and the temp folder: {stray[:20]}"
    assert not (home / ".cache" / "Microsoft").exists(), "ONNX Runtime's telemetry wrote its device id"


def test_control_without_the_switch_shows_the_attempts(strace_dir: Path) -> None:
    """The same jobs with onnxruntime imported before the app: ONNX Runtime's telemetry reaches for the network,
    and the watcher sees it (otherwise the test above would prove nothing)."""
    _require_strace()
    trace, home, _ = _run(strace_dir, bypass=True)
    assert trace.returncode == 0, trace.stderr[-3000:]
    assert trace.attempts, "the control run made no network attempt: the watcher cannot prove anything here"
    assert any(":53" in a for a in trace.attempts), trace.attempts[:5]
    assert (home / ".cache" / "Microsoft").exists()


def test_app_refuses_a_session_when_onnxruntime_came_first(tmp_path: Path) -> None:
    """Without the bypass, a process that imported onnxruntime before the app gets no ONNX session."""
    import subprocess

    code = ("import os; os.environ.pop('ORT_DISABLE_TELEMETRY', None); import onnxruntime\n"
            "from medpriv_desktop.core.onnx_session import import_onnxruntime\n"
            "from medpriv_desktop.core.errors import ModelError\n"
            "try:\n    import_onnxruntime()\nexcept ModelError as e:\n    print('refused:', e.message)\n")
    env = netwatch.clean_environment(tmp_path, tmp_path)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[2])
    assert "refused: onnxruntime was imported before MedPriv" in r.stdout, r.stdout + r.stderr
