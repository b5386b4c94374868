"""De-identification benchmark: MedPriv `medpriv deid` vs Presidio's default recognizers, side by side, through the
shared harness (``../shared/tools/deid_eval.py``) on the PhysioNet deid notes: token recall/precision per category
and notes/s of the whole CLI (start-up included).

Usage: python benchmarks/bench_deid.py [--runs 1] [--skip-presidio] [--extra-args "--rules-only"]
                                       [--presidio-spacy-model PATH_OR_PACKAGE]
Presidio's default configuration needs a spaCy NER model, which is not a dependency of the project: pass one with
``--presidio-spacy-model`` (or ``MEDPRIV_PRESIDIO_SPACY_MODEL``), e.g. an unpacked ``en_core_web_sm`` 3.8 folder;
the column is then ``presidio-default-<model>``. Without one the column is ``presidio-default-blank`` (Presidio's
default recognizers on a blank pipeline, no NER), which is not the out-of-the-box configuration.
The machine's load average is recorded (other processes share the 2 cores), and `medpriv deid` is also timed
alone on the same notes: wall clock and CPU seconds (start-up included).
Prints a table and writes ``benchmarks/results/deid.json``. Skips with a message when the shared data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """``MEDPRIV_DATA`` or ../shared/data."""
    env = os.environ.get("MEDPRIV_DATA")
    p = Path(env) if env else REPO.parent / "shared" / "data"
    return p if (p / "notes" / "physionet-deid").is_dir() else None


def run_harness(data: Path, binary: str, extra: str = "", env: dict | None = None) -> dict:
    """Run the harness once; parse its per-category lines and summary."""
    tool = data.parent / "tools" / "deid_eval.py"
    cmd = [sys.executable, str(tool), str(data), binary] + ([f"--extra-args={extra}"] if extra else [])
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO), env=env)
    out = r.stdout
    res: dict = {"raw": out.strip().splitlines()[-4:], "categories": {}}
    for m in re.finditer(r"^\s+(\S+)\s+token recall ([\d.]+) \((\d+)/(\d+)\)", out, re.M):
        res["categories"][m.group(1)] = {"recall": float(m.group(2)), "hit": int(m.group(3)), "total": int(m.group(4))}
    m = re.search(r"([\d.]+) notes/s", out)
    res["notes_per_s"] = float(m.group(1)) if m else None
    m = re.search(r"token recall ([\d.]+) precision ([\d.]+) \(tp (\d+) fp (\d+) fn (\d+)\)", out)
    if m:
        res.update(recall=float(m.group(1)), precision=float(m.group(2)), tp=int(m.group(3)), fp=int(m.group(4)),
                   fn=int(m.group(5)))
    m = re.search(r"span recall ([\d.]+)", out)
    res["span_recall"] = float(m.group(1)) if m else None
    if r.returncode != 0:
        res["error"] = (r.stdout + r.stderr)[-500:]
    return res


def time_cli(data: Path, binary: str, extra: str = "", runs: int = 1) -> list[dict]:
    """Wall-clock and CPU seconds (user + system, from the child's rusage) of ``medpriv deid IN -o OUT`` on the 591
    notes, start-up included. On a shared machine the wall clock depends on the other processes; the CPU seconds say
    what one free core would take."""
    import resource
    import time

    text = (data / "notes" / "physionet-deid" / "id.text").read_text(encoding="latin-1")
    recs = re.findall(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", text, re.S)
    out = []
    with tempfile.TemporaryDirectory() as td:
        src = Path(td) / "in"
        src.mkdir()
        for p, n, body in recs:
            (src / f"p{int(p):04d}_n{int(n):04d}.txt").write_text(body, encoding="utf-8")
        chars = sum(len(b) for _, _, b in recs)
        for k in range(runs):
            dst = Path(td) / f"out{k}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            t0 = time.perf_counter()
            r = subprocess.run([binary, "deid", str(src), "-o", str(dst), "-q"] + extra.split(), capture_output=True)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            out.append({"notes": len(recs), "mean_chars": round(chars / max(len(recs), 1)), "wall_s": round(wall, 2),
                        "cpu_s": round(cpu, 2), "notes_per_s_wall": round(len(recs) / wall, 1),
                        "notes_per_cpu_s": round(len(recs) / max(cpu, 1e-9), 1), "load_avg_1min_before": load,
                        "returncode": r.returncode})
    return out


def main() -> int:
    """Run both systems and print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1, help="repeat our run for a speed median")
    ap.add_argument("--skip-presidio", action="store_true")
    ap.add_argument("--extra-args", default="", help="extra arguments for medpriv deid")
    ap.add_argument("--presidio-spacy-model", default=os.environ.get("MEDPRIV_PRESIDIO_SPACY_MODEL"),
                    help="spaCy model (folder or package) for Presidio's default configuration")
    a = ap.parse_args()
    data = shared_dir()
    if data is None:
        print("skipped: ../shared/data/notes/physionet-deid (or MEDPRIV_DATA) not present")
        return 0
    ours_bin = str(Path(sys.executable).parent / "medpriv")
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    runs = [run_harness(data, ours_bin, a.extra_args) for _ in range(a.runs)]
    load_after_ours = os.getloadavg() if hasattr(os, "getloadavg") else None
    ours = runs[-1]
    speeds = sorted(r["notes_per_s"] for r in runs if r.get("notes_per_s"))
    ours["notes_per_s_median"] = speeds[len(speeds) // 2] if speeds else None
    ours["cli_timing"] = time_cli(data, ours_bin, a.extra_args, max(a.runs, 1))
    systems = {"medpriv": ours}
    if not a.skip_presidio:
        with tempfile.TemporaryDirectory() as td:
            shim = Path(td) / "presidio-default"
            shim.write_text(f"#!/bin/sh\nexec {sys.executable} {REPO / 'benchmarks' / 'presidio_default_deid.py'} \"$@\"\n")
            shim.chmod(0o755)
            env = dict(os.environ)
            env.pop("MEDPRIV_PRESIDIO_SPACY_MODEL", None)
            label = "presidio-default-blank"
            if a.presidio_spacy_model:
                env["MEDPRIV_PRESIDIO_SPACY_MODEL"] = a.presidio_spacy_model
                stem = Path(a.presidio_spacy_model).name.lower()
                label = "presidio-default-" + ("sm" if "_sm" in stem else "lg" if "_lg" in stem else "md" if "_md" in stem else stem)
            systems[label] = run_harness(data, str(shim), env=env)
    cats = sorted({c for s in systems.values() for c in s["categories"]})
    names = list(systems)
    print(f"{'category':20s}" + "".join(f"{n:>26s}" for n in names))
    for c in cats:
        row = ""
        for n in names:
            d = systems[n]["categories"].get(c)
            cell = f"{d['recall']:.3f} ({d['hit']}/{d['total']})" if d else "-"
            row += f"{cell:>26s}"
        print(f"{c:20s}{row}")
    for key in ("recall", "precision", "span_recall", "notes_per_s", "notes_per_s_median"):
        print(f"{key:20s}" + "".join(f"{str(systems[n].get(key)):>26s}" for n in names))
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "load_avg_before": load_before, "load_avg_after_medpriv": load_after_ours,
                          "load_avg_end": os.getloadavg() if hasattr(os, "getloadavg") else None},
              "presidio_spacy_model": a.presidio_spacy_model,
              "reference": {"deid.pl": {"recall": 0.974, "precision": 0.738, "notes_per_s": 18.8},
                            "presidio-default-sm (published)": {"recall": 0.582, "precision": 0.058, "notes_per_s": 26}},
              "systems": systems}
    out = REPO / "benchmarks" / "results" / "deid.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for t in ours["cli_timing"]:
        print(f"medpriv deid alone: {t['notes']} notes of ~{t['mean_chars']} chars, wall {t['wall_s']} s "
              f"({t['notes_per_s_wall']} notes/s), CPU {t['cpu_s']} s ({t['notes_per_cpu_s']} notes per CPU second), "
              f"1-min load before {t['load_avg_1min_before']}")
    print(f"load average before {load_before}, after medpriv runs {load_after_ours}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
