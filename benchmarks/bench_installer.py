"""The frozen app: bundle size (unpacked, largest parts, archive) and start-up to a shown window, frozen vs venv.

Usage: ``python benchmarks/bench_installer.py [--bundle dist/MedPriv] [--build]``. ``--build`` runs
``installer/build.sh`` first (minutes). Start-up uses the method of ``bench_startup.py``: one Xvfb display, the app
run with ``--report-startup --quit-after 1`` prints the wall-clock time its event loop first ran after showing the
window; "cold" drops the OS page cache first when allowed (root on Linux). The same is measured for the
``medpriv-desktop`` of the virtual environment running this script, for comparison.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(REPO / "installer"))
from check_bundle import sizes  # noqa: E402

GOAL_MIB = 600


def _drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def _launch(exe: Path, env: dict) -> float:
    t0 = time.time()
    r = subprocess.run([str(exe), "--report-startup", "--quit-after", "1"], capture_output=True, text=True, env=env,
                       timeout=180)
    m = re.search(r"shown_at_epoch=([0-9.]+)", r.stdout)
    if not m:
        raise RuntimeError(f"{exe}: no startup line: {r.stdout[-500:]} {r.stderr[-1000:]}")
    return float(m.group(1)) - t0


def _startup(exe: Path, env: dict, warm_runs: int) -> dict:
    dropped = _drop_caches()
    cold = _launch(exe, env)
    warm = [_launch(exe, env) for _ in range(warm_runs)]
    return {"cold_s": round(cold, 3), "cold_cache_dropped": dropped, "warm_s": [round(w, 3) for w in warm],
            "warm_median_s": round(statistics.median(warm), 3)}


def _default_bundle() -> Path:
    for p in (REPO / "dist" / "MedPriv", REPO / "build" / "installer-test" / "dist" / "MedPriv"):
        if p.is_dir():
            return p
    return REPO / "dist" / "MedPriv"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the tables, write ``benchmarks/results/installer.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--build", action="store_true", help="run installer/build.sh first")
    ap.add_argument("--warm-runs", type=int, default=5)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    build_s = None
    if args.build:
        t = time.monotonic()
        subprocess.run(["bash", str(REPO / "installer" / "build.sh")], cwd=REPO, check=True)
        build_s = time.monotonic() - t
    bundle = args.bundle or _default_bundle()
    exe = bundle / "medpriv-desktop"
    if not exe.is_file():
        print(f"no frozen app at {exe}: run installer/build.sh (or pass --build)")
        return 1

    top_level = sizes(bundle, depth=1)
    second = sizes(bundle, depth=2)
    total = sum(top_level.values())
    archives = sorted(bundle.parent.glob("MedPriv-*.tar.gz")) + sorted(bundle.parent.glob("MedPriv-*.zip"))
    archive = {a.name: a.stat().st_size for a in archives}
    print(f"bundle {bundle}: {total / 2**20:.0f} MiB unpacked (goal < {GOAL_MIB} MiB), "
          f"{sum(1 for p in bundle.rglob('*') if p.is_file())} files")
    for name, n in archive.items():
        print(f"archive {name}: {n / 2**20:.0f} MiB")
    print(f"\n{'largest parts':50s} {'MiB':>8s}")
    for name, n in sorted(second.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{name:50s} {n / 2**20:8.1f}")

    result: dict = {"bundle": str(bundle), "total_bytes": total, "total_mib": round(total / 2**20, 1),
                    "goal_mib": GOAL_MIB, "archives": archive, "parts_top_level": top_level,
                    "parts_depth2_largest": dict(sorted(second.items(), key=lambda kv: -kv[1])[:40]),
                    "build_s": build_s}
    if shutil.which("Xvfb") is None:
        print("Xvfb not installed: start-up not measured")
    else:
        display = ":96"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        try:
            with tempfile.TemporaryDirectory() as home:
                env = dict(os.environ, DISPLAY=display, MEDPRIV_HOME=home)
                env.pop("QT_QPA_PLATFORM", None)
                result["startup_frozen"] = _startup(exe, env, args.warm_runs)
                venv_exe = Path(sys.executable).with_name("medpriv-desktop")
                if venv_exe.is_file():
                    result["startup_venv"] = _startup(venv_exe, env, args.warm_runs)
        finally:
            xvfb.terminate()
        print(f"\n{'start-up to a shown window':40s} {'cold s':>8s} {'warm s':>8s}")
        for key, label in (("startup_frozen", "frozen app (one folder)"), ("startup_venv", "virtual environment")):
            if key in result:
                s = result[key]
                mark = "" if s["cold_cache_dropped"] else " (page cache not dropped)"
                print(f"{label:40s} {s['cold_s']:8.2f} {s['warm_median_s']:8.2f}{mark}")
        if "startup_venv" in result:
            ratio = result["startup_frozen"]["warm_median_s"] / result["startup_venv"]["warm_median_s"]
            result["warm_ratio_frozen_over_venv"] = round(ratio, 2)
            print(f"warm frozen/venv ratio: {ratio:.2f}")
    path = write_result("installer", result)
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
