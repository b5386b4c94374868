"""Child process of the offline test: run the app's CLI jobs again and again for at least N seconds.

``python _driver.py WORKDIR SECONDS [--bypass]``. With ``--bypass`` it imports onnxruntime *before* the app (so the
app cannot switch its telemetry off in time) and then clears the app's guard: the control run, which must show the
attempts the real run must not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run demo, deid, classify and segment in a loop until the time is up; exit 0 only if every run worked."""
    work, seconds = Path(argv[0]), float(argv[1])
    if "--bypass" in argv:
        import onnxruntime  # noqa: F401  - before the app: its telemetry starts with the first session

        from medpriv_desktop import _offline

        _offline.onnxruntime_loaded_too_early = False
    from medpriv_desktop.cli import main as cli

    demo = work / "demo"
    if cli(["-q", "demo", "-o", str(demo)]) != 0:
        return 1
    start, i = time.monotonic(), 0
    while True:
        out = work / f"run{i}"
        codes = [
            cli(["-q", "deid", str(demo / "notes"), "-o", str(out / "notes")]),
            cli(["-q", "classify", str(demo / "reports"), "-o", str(out / "labels.csv")]),
            cli(["-q", "segment", str(demo / "demo_ct.nii.gz"), "-o", str(out / "seg")]),
        ]
        if any(codes):
            print(f"a run failed: exit codes {codes}", file=sys.stderr)
            return 1
        i += 1
        if time.monotonic() - start >= seconds:
            break
    print(f"runs={i} seconds={time.monotonic() - start:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
