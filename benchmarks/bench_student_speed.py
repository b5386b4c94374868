"""Speed of on-premises students against an nnU-Net-size teacher, end to end on a 512 x 512 x 300 CT (issue 19 item 5).

What it builds, with no download:

1. A **stand-in TotalSegmentator part**: an nnU-Net v2 results folder (``plans.json`` in the 2.4+ schema,
   ``dataset.json``, ``fold_0/checkpoint_final.pth``) with the "total" task's network shape: ``3d_fullres``
   PlainConvUNet, 6 stages of 32-64-128-256-320-320 features, 128^3 patches, 1.5 mm, CT normalisation, no mirroring,
   24 structures (TotalSegmentator's Dataset291 organs part has 24). The weights are **random** (seeded): the time a
   network takes does not depend on its weights, but what it predicts does, so this benchmark says nothing about
   Dice. TotalSegmentator's real "total" teacher is five such parts; ``--parts 5`` builds five (and takes five times
   the teacher's time). With one part the teacher is a fifth of the real one, so the speed-ups below understate it.
2. ``import_nnunet`` turns it into an ONNX teacher bundle, exactly as ``medpriv-train seg import-nnunet`` does.
3. ``medpriv-train seg distill --teacher ... --unlabelled ...`` (the real on-premises path, its real cache and loss,
   but only ``--steps`` steps on two small generated CTs: enough to produce the student bundles it ships, at 1/2, 1/4
   and 1/8 of nnU-Net's widths). Its ``report.json`` gives the network time per 128^3 tile of teacher and students.
4. Teacher and each student segment the same generated 512 x 512 x 300 CT (0.8 x 0.8 x 1.5 mm) through the app's
   ``segment`` path (read, resample to 1.5 mm, 64 tiles with Gaussian blending, clean-up, labels back to the scan's
   grid, export), each in a fresh child process, with the same threads and precision (fp32, ONNX Runtime CPU).

Post-processing time depends on the label map a network predicts (components to clean, labels to map back), and a
random network's map is not a real one: the stage split is printed so the inference share can be read on its own.

``python benchmarks/run.py student_speed [--threads=2] [--parts=1] [--steps=2] [--keep=DIR]``; writes
``benchmarks/results/student_speed.json``. About 25 minutes on 2 cores with one part (the teacher alone is a third of
it: 64 tiles of about 7.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "training"))  # _nnunet_tiny: the repository's one writer of nnU-Net plans

#: The "total" task's parts in TotalSegmentator v2 (dataset ids; the structures per part are 24, 26, 23, 24, 21).
TS_PARTS = ((291, 24), (292, 26), (293, 23), (294, 24), (295, 21))
PATCH = [128, 128, 128]
SPACING = [1.5, 1.5, 1.5]
WIDTHS = "0.5,0.25,0.125"


def write_standin_part(results: Path, dataset_id: int, n_structures: int, first_label: int, seed: int) -> Path:
    """One nnU-Net results folder shaped like a TotalSegmentator part, with seeded random weights."""
    import torch
    from _nnunet_tiny import write_dataset_json, write_plans

    from training.seg.nnunet.network import build_network
    from training.seg.nnunet.plans import read_part

    folder = results / f"Dataset{dataset_id}_StandIn" / "nnUNetTrainerNoMirroring__nnUNetPlans__3d_fullres"
    write_plans(folder / "plans.json", dataset=f"Dataset{dataset_id}_StandIn", patch=PATCH, spacing=SPACING,
                base=32, max_features=320, n_stages=6)
    labels = {"background": 0, **{f"structure_{first_label + i:03d}": i + 1 for i in range(n_structures)}}
    write_dataset_json(folder / "dataset.json", labels)
    ck = folder / "fold_0" / "checkpoint_final.pth"
    ck.parent.mkdir(parents=True, exist_ok=True)
    ck.touch()  # read_part looks for the checkpoint before the network is built
    torch.manual_seed(seed)
    net = build_network(read_part(folder))
    torch.save({"network_weights": net.state_dict(), "trainer_name": "nnUNetTrainerNoMirroring",
                "inference_allowed_mirroring_axes": None, "current_epoch": 0}, ck)
    return folder


def _run(cmd: list[str], what: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {r.returncode}): {r.stderr[-3000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="threads for teacher and students alike (default 2)")
    ap.add_argument("--parts", type=int, default=1, choices=range(1, 6), help="TotalSegmentator parts (default 1)")
    ap.add_argument("--steps", type=int, default=2, help="distillation steps per student (speed does not need more)")
    ap.add_argument("--widths", default=WIDTHS, help=f"student width fractions (default {WIDTHS})")
    ap.add_argument("--shape", default="512,512,300", help="voxels of the generated CT (x,y,z)")
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    args = ap.parse_args()

    from bench_segment import STAGES, _run_case, _synthetic_big_ct
    from _machine import write_result

    from medpriv_desktop.core.jobs import run_job
    from training.seg.nnunet.importer import import_nnunet

    tmp = None
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-student-speed-")
        work = Path(tmp.name)
    try:
        t0 = time.perf_counter()
        models = work / "models"
        teacher_dir = models / "ts-standin-teacher"
        if not (teacher_dir / "model_card.json").exists():
            folders, first = [], 1
            for i, (ds, n) in enumerate(TS_PARTS[:args.parts]):
                folders.append(write_standin_part(work / "nnUNet_results", ds, n, first, seed=i))
                first += n
            shutil.rmtree(teacher_dir, ignore_errors=True)
            run_job(import_nnunet(folders, teacher_dir, model_id="ts-standin-teacher",
                                  source="benchmark stand-in: random weights in TotalSegmentator's network shape",
                                  license_="none (random weights)"))
        print(f"teacher imported ({args.parts} part(s)) in {time.perf_counter() - t0:.0f}s", flush=True)

        unl = work / "unlabelled"
        if not unl.exists():
            unl.mkdir()
            for i in range(2):  # a field of view with air around the body, so that it is read as CT
                _synthetic_big_ct(unl / f"scan{i}.nii", (240, 200, 90), (1.6, 1.6, 1.6))
        run = work / "distill"
        t = time.perf_counter()
        _run([sys.executable, "-m", "training.cli", "seg", "distill", "--teacher", str(teacher_dir),
              "--unlabelled", str(unl), "-o", str(run), "--steps", str(args.steps), "--holdout", "1",
              "--widths", args.widths, "--threads", str(args.threads), "--batch-size", "1"],
             "seg distill")
        report = json.loads((run / "report.json").read_text())
        print(f"students distilled ({args.steps} steps each) and timed per tile in {time.perf_counter() - t:.0f}s",
              flush=True)
        for b in (run / "bundles").iterdir():
            if not (models / b.name).exists():
                shutil.copytree(b, models / b.name)

        nx, ny, nz = (int(v) for v in args.shape.split(","))
        ct = work / f"ct_{nx}x{ny}x{nz}.nii"
        if not ct.exists():
            _synthetic_big_ct(ct, (nx, ny, nz), (0.8, 0.8, 1.5))
        ev = report["evaluation"]
        ids = [*sorted(ev["students"]), ev["teacher"]["id"]]
        rows = []
        for mid in ids:
            r = _run_case(mid, models, ct, args.threads)
            r.update(model_id=mid)
            rows.append(r)
            print(f"  {mid:34s} total {r['total']:7.1f}s (inference {r['inference']:.1f}s, {r['tiles']} tiles, "
                  f"peak {r['peak_rss_mb']:.0f} MB)", flush=True)
        teacher_row = rows[-1]
        header = f"{'model':34s} {'tile ms':>9s} " + " ".join(f"{s:>11s}" for s in STAGES) + \
            f" {'total s':>8s} {'x tile':>7s} {'x e2e':>7s} {'peak MB':>8s}"
        print(f"\n{nx} x {ny} x {nz} CT (0.8 x 0.8 x 1.5 mm), model grid {teacher_row['model_grid']}, "
              f"{args.threads} threads, fp32, teacher = {args.parts} stand-in TotalSegmentator part(s)\n" + header)
        print("-" * len(header))
        out_rows = []
        for r in rows:
            mid = r["model_id"]
            s = ev["students"].get(mid)
            tile = s["tile_ms"] if s else ev["teacher"]["tile_ms"]
            x_tile = ev["teacher"]["tile_ms"] / tile
            x_e2e = teacher_row["total"] / r["total"]
            out_rows.append({**r, "tile_ms": tile, "tile_speedup": x_tile, "e2e_speedup": x_e2e})
            print(f"{mid[:34]:34s} {tile:9.0f} " + " ".join(f"{r[st]:11.2f}" for st in STAGES) +
                  f" {r['total']:8.1f} {x_tile:7.1f} {x_e2e:7.1f} {r['peak_rss_mb']:8.0f}")
        print("\nDice is not measured here: the stand-in teacher has random weights (see the module docstring).")
        path = write_result("student_speed", {
            "teacher": f"{args.parts} stand-in TotalSegmentator part(s), random weights", "threads": args.threads,
            "ct_shape": [nx, ny, nz], "ct_spacing_mm": [0.8, 0.8, 1.5], "distill_steps": args.steps,
            "rows": out_rows, "teacher_tile_ms": ev["teacher"]["tile_ms"]})
        print(f"wrote {path}")
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
