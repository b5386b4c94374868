"""Does distillation beat plain pseudo-label training? On-premises students, several seeds, the same budget.

Two arms of ``medpriv-train seg distill --teacher`` on the same unlabelled scans, the same held-back scans, the same
steps (and minutes cap), the same student widths:

- **distill**: pseudo-label DiceCE + logit KD + region + context terms (weights 1, 1, 1, 1; the default);
- **pseudo-label**: pseudo-label DiceCE alone (KD, region and context weights 0).

Score: each student's mean Dice ratio to the teacher (agreement with the teacher's label maps) on the held-back scans,
through the app's ``segment_volume``; mean and standard deviation over the seeds. The teacher's cache is computed once
and shared by every run (hard links). Without ``--unlabelled`` the scans are generated: procedural torso phantoms
synthesised as CT (``training/seg/phantom.py``, ``synth.py``) written as NIfTI, which stand in for a site's scans.
Not run in CI. Writes ``benchmarks/results/seg_distill_vs_pseudolabel.json`` and prints a Markdown table.

    python benchmarks/seg_distill_vs_pseudolabel.py --seeds 0,1,2 --steps 200 --widths 0.25 [--unlabelled DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

ARMS = {"distill": {"seg": 1.0, "kd": 1.0, "region": 1.0, "context": 1.0},
        "pseudo-label": {"seg": 1.0, "kd": 0.0, "region": 0.0, "context": 0.0}}


def make_scans(folder: Path, n: int, seed: int) -> Path:
    """``n`` generated CT-like torso scans (3 mm, random field of view) as NIfTI files in ``folder``."""
    import nibabel as nib
    import numpy as np

    from medpriv_desktop.core.jobs import run_job
    from training.seg.data import generate_phantoms, phantom_path
    from training.seg.phantom import PhantomSpec
    from training.seg.synth import synthesize

    ph = folder / "phantoms"
    run_job(generate_phantoms(ph, n, seed=1000 + seed, spec=PhantomSpec(spacing=3.0)))
    out = folder / "scans"
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img, _ = synthesize(np.load(phantom_path(ph, i)), "CT", np.random.default_rng(seed * 100 + i), 3.0,
                            crop=True, factor=1)
        nib.save(nib.Nifti1Image(img.astype(np.int16), np.diag([3.0, 3.0, 3.0, 1.0])), str(out / f"s{i:02d}.nii.gz"))
    return out


def _share_cache(src: Path, dst: Path) -> None:
    """Hard-link the finished teacher cache of one run into another (the run then skips the teacher)."""
    for d in (src / "cache").glob("scan-*"):
        if (d / "meta.json").exists() and not (dst / "cache" / d.name).exists():
            shutil.copytree(d, dst / "cache" / d.name, copy_function=os.link)


def main(argv: list[str] | None = None) -> int:
    """Run every arm and seed, print the table, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher", default=str(REPO / "resources" / "models" / "seg-torso-teacher"))
    ap.add_argument("--unlabelled", help="site scans (default: generated CT phantoms)")
    ap.add_argument("--n-scans", type=int, default=6, help="generated scans when --unlabelled is not given")
    ap.add_argument("--holdout", type=int, default=None)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--widths", default="0.25")
    ap.add_argument("--base-channels", default="32,64,128,256,320")
    ap.add_argument("--patch", default=None, help="X,Y,Z (default the teacher's)")
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", help="folder for the runs (default: a temporary one)")
    args = ap.parse_args(argv)

    from _machine import write_result

    from medpriv_desktop.core.jobs import run_job
    from training.seg.onprem.run import DistillOptions, distill_on_site

    tmp = None if args.work else tempfile.TemporaryDirectory()
    work = Path(args.work or tmp.name)
    scans = Path(args.unlabelled) if args.unlabelled else make_scans(work, args.n_scans, seed=0)
    teacher = args.teacher
    if Path(teacher).is_dir():
        # A private copy: every run reads the same bytes even if the bundle in the checkout is edited meanwhile.
        copy = work / "teacher" / Path(teacher).name
        if not copy.exists():
            shutil.copytree(teacher, copy)
        teacher = str(copy)
    seeds = [int(s) for s in args.seeds.split(",")]
    widths = [float(w) for w in args.widths.split(",")]
    results: dict = {}
    first: Path | None = None
    for arm, weights in ARMS.items():
        for seed in seeds:
            out = work / f"{arm}-seed{seed}"
            if first is not None:
                _share_cache(first, out)
            opts = DistillOptions(
                teacher=teacher, unlabelled=scans, out=out, widths=widths, steps=args.steps,
                max_minutes=args.max_minutes, holdout=args.holdout,
                base_channels=[int(c) for c in args.base_channels.split(",")],
                patch=[int(p) for p in args.patch.split(",")] if args.patch else None, batch_size=args.batch_size,
                weights=weights, seed=seed, threads=args.threads, command="benchmarks/seg_distill_vs_pseudolabel.py")
            rep = run_job(distill_on_site(opts))
            first = first or out
            for sid, ev in rep["evaluation"]["students"].items():
                st = rep["students"][sid]
                results.setdefault(arm, {}).setdefault(st["width_fraction"], []).append(
                    {"seed": seed, "mean_dice_ratio": ev["mean_dice_ratio"], "minutes": st["train"]["minutes"],
                     "steps": st["train"]["steps_done"], "dice_ratio": ev["dice_ratio"]})
            n_scans = (rep["scans"]["n_distill"], rep["scans"]["n_holdout"])
    lines = [f"Scans: {n_scans[0]} for distillation, {n_scans[1]} held back; {args.steps} steps, batch "
             f"{args.batch_size}, {args.threads} thread(s); seeds {seeds}.", "",
             "| arm | width | mean Dice ratio to teacher (mean +- sd over seeds) | per seed | minutes per student |",
             "|---|---|---|---|---|"]
    for arm, by_w in results.items():
        for w, runs in by_w.items():
            vals = [r["mean_dice_ratio"] for r in runs]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            lines.append(f"| {arm} | {w:g} | {statistics.mean(vals):.3f} +- {sd:.3f} | "
                         f"{', '.join(f'{v:.3f}' for v in vals)} | "
                         f"{statistics.mean(r['minutes'] for r in runs):.1f} |")
    table = "\n".join(lines)
    print(table)
    path = write_result("seg_distill_vs_pseudolabel", {"args": vars(args), "results": results, "table": table})
    print(f"\nwritten: {path}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
