"""Start-up time of the GUI: launch to a shown window that answers input, cold and warm.

Runs ``medpriv-desktop --report-startup --quit-after 1`` on one Xvfb display (started once, so its start is not
counted). The app prints the wall-clock time at which its event loop first ran after showing the window (a zero-delay
timer fired, so input would be answered); the benchmark subtracts the moment it launched the process.
"Cold" drops the OS page cache first when allowed (root on Linux), so libraries are read from disk again; "warm"
is the median of later runs. Compares against a bare ``python -c 'import PySide6.QtWidgets'`` floor.

Bytecode: an installed app (pip wheel or the PyInstaller build) runs from compiled ``.pyc`` files. A development
shell may set ``PYTHONDONTWRITEBYTECODE`` (this workplace does), which makes every start recompile the app's own
modules (~0.2 s here). The benchmark compiles the package once and runs the app without that variable, so it
measures what a user's start costs; ``--as-is`` keeps the caller's environment instead.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import write_result  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def _launch(env: dict) -> float:
    exe = str(Path(sys.executable).with_name("medpriv-desktop"))
    t0 = time.time()
    r = subprocess.run([exe, "--report-startup", "--quit-after", "1"], capture_output=True, text=True, env=env,
                       timeout=120)
    m = re.search(r"shown_at_epoch=([0-9.]+)", r.stdout)
    if not m:
        raise RuntimeError(f"no startup line: {r.stdout[-500:]} {r.stderr[-1000:]}")
    return float(m.group(1)) - t0


def _floor(env: dict) -> float:
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], env=env, check=True)
    return time.time() - t0


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    as_is = "--as-is" in (sys.argv[1:] if argv is None else argv)
    if shutil.which("Xvfb") is None:
        print("Xvfb not installed; cannot measure a real window")
        return 1
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, DISPLAY=display, MEDPRIV_HOME=home)
            env.pop("QT_QPA_PLATFORM", None)
            if not as_is:
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "medpriv_desktop")],
                               env=env, check=True)
            dropped = _drop_caches()
            cold = _launch(env)
            warm = [_launch(env) for _ in range(5)]
            floor = statistics.median(_floor(env) for _ in range(3))
    finally:
        xvfb.terminate()
    rows = [("cold start (page cache dropped)" if dropped else "first start (cache not dropped)", cold),
            ("warm start, median of 5", statistics.median(warm)),
            ("warm start, max of 5", max(warm)),
            ("floor: python + import PySide6.QtWidgets", floor)]
    print(f"{'measure':45s} {'seconds':>8s}")
    for name, v in rows:
        print(f"{name:45s} {v:8.2f}")
    print(f"warm/floor ratio: {statistics.median(warm) / floor:.2f}")
    print("bytecode: " + ("as the caller's environment has it" if as_is else "compiled, as an installed app runs"))
    path = write_result("startup", {"cold_s": cold, "cold_cache_dropped": dropped, "warm_s": warm,
                                    "warm_median_s": statistics.median(warm), "floor_s": floor, "goal_s": 2.0,
                                    "bytecode": "as-is" if as_is else "compiled"})
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
