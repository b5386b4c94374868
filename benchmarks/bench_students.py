"""Teacher vs students of the phantom torso family, in one run, on the same data.

For every bundled ``seg-torso-*`` model (teacher first): Dice and HD95 per structure on held-out generated phantoms
(each synthesised as CT and as MR-like), Dice against TotalSegmentator's label maps on the shared real CT and MR
volumes (through the app's reader, preprocessing and sliding window), parameters, FLOPs and ONNX Runtime CPU latency
of one patch; ratios student/teacher. Needs the phantoms (``medpriv-train seg generate -c
training/configs/seg_teacher.yaml``); the real-volume part needs ``../shared/data`` (skipped without it).
Writes ``benchmarks/results/students.json`` and prints the Markdown table.

    python benchmarks/run.py students [--cases N] [--threads T]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

ORDER = ("seg-torso-teacher", "seg-torso-student-h", "seg-torso-student-q", "seg-torso-student-e")


def main(argv: list[str] | None = None) -> int:
    """Evaluate the bundled family and write the result."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=None, help="held-out phantoms (default: all)")
    ap.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    ap.add_argument("--config", default=str(REPO / "training" / "configs" / "seg_teacher.yaml"))
    args = ap.parse_args(argv)

    from _machine import write_result

    from medpriv_desktop.core.jobs import run_job
    from training.seg.config import load_config
    from training.seg.data import phantom_path
    from training.seg.report import evaluate_models

    cfg = load_config(args.config)
    models = {m: str(REPO / "resources" / "models" / m) for m in ORDER
              if (REPO / "resources" / "models" / m / "model_card.json").exists()}
    if "seg-torso-teacher" not in models:
        print("no bundled seg-torso-teacher: nothing to compare")
        return 1
    if not phantom_path(cfg.data.phantom_dir, cfg.data.n_phantoms - 1).exists():
        print(f"held-out phantoms missing in {cfg.data.phantom_dir}: run 'medpriv-train seg generate -c {args.config}'")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        res = run_job(evaluate_models(cfg, models, Path(tmp), n_cases=args.cases, latency_threads=args.threads))
        table = (Path(tmp) / "results.md").read_text()
    print(table)
    slim = {n: {k: v for k, v in m.items() if k != "phantom_cases"} for n, m in res["models"].items()}
    path = write_result("students", {"held_out_phantoms": res["held_out_phantoms"], "patch": res["patch"],
                                     "threads": args.threads, "models": slim, "table_md": table})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
