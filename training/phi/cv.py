"""Patient-grouped cross-validation of ``medpriv deid`` with the shared harness.

For each fold, the fold's notes are written in the corpus format to a temporary folder (never into the repository)
and ``../shared/tools/deid_eval.py`` runs ``medpriv deid`` on them, optionally with that fold's PHI model bundle (a
model trained without the fold's patients, put in a temporary site-models folder). Counts are summed over folds.

Usage: python -m training.phi.cv [--folds 5] [--only 0] [--bundle-pattern /tmp/phi/fold{k}] [--extra-args ...]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from training.phi.physionet import patient_folds, read_physionet, write_physionet

REPO = Path(__file__).resolve().parents[2]


def run_fold(notes, binary: str, extra: str, bundle: Path | None) -> str:
    """Harness output for one fold's notes."""
    with tempfile.TemporaryDirectory() as td:
        data = Path(td) / "data"
        write_physionet(notes, data / "notes" / "physionet-deid")
        env = dict(os.environ)
        if bundle is not None:
            site = Path(td) / "site"
            shutil.copytree(bundle, site / bundle.name)
            env["MEDPRIV_SITE_MODELS"] = str(site)
        tool = REPO.parent / "shared" / "tools" / "deid_eval.py"
        args = [sys.executable, str(tool), str(data), binary] + ([f"--extra-args={extra}"] if extra else [])
        return subprocess.run(args, capture_output=True, text=True, env=env).stdout


def main(argv: list[str] | None = None) -> int:
    """Run the folds and print per-category and overall token recall/precision."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "notes" / "physionet-deid")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--only", type=int, action="append", help="run only these folds")
    ap.add_argument("--bundle-pattern", help="per-fold bundle folder, e.g. /tmp/phi/fold{k}")
    ap.add_argument("--extra-args", default="")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    notes = read_physionet(a.data)
    folds = patient_folds(notes, a.folds)
    binary = str(Path(sys.executable).parent / "medpriv")
    hit, tot = collections.Counter(), collections.Counter()
    tp = fp = fn = 0
    speeds = []
    for k, pats in enumerate(folds):
        if a.only and k not in a.only:
            continue
        fold_notes = [n for n in notes if n.patient in pats]
        bundle = Path(a.bundle_pattern.format(k=k)) if a.bundle_pattern else None
        out = run_fold(fold_notes, binary, a.extra_args, bundle)
        for m in re.finditer(r"^\s+(\S+)\s+token recall [\d.]+ \((\d+)/(\d+)\)", out, re.M):
            hit[m.group(1)] += int(m.group(2))
            tot[m.group(1)] += int(m.group(3))
        m = re.search(r"\(tp (\d+) fp (\d+) fn (\d+)\)", out)
        if not m:
            print(out[-2000:])
            return 1
        tp, fp, fn = tp + int(m.group(1)), fp + int(m.group(2)), fn + int(m.group(3))
        s = re.search(r"([\d.]+) notes/s", out)
        speeds.append(float(s.group(1)) if s else 0.0)
        print(f"fold {k}: {len(fold_notes)} notes, {len(pats)} patients: {out.strip().splitlines()[-1]}", flush=True)
    for c in sorted(tot):
        print(f"  {c:18s} token recall {hit[c] / tot[c]:.3f} ({hit[c]}/{tot[c]})")
    rec, prec = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
    print(f"pooled: token recall {rec:.4f} precision {prec:.4f} (tp {tp} fp {fp} fn {fn})")
    if a.json:
        a.json.write_text(json.dumps({"recall": rec, "precision": prec, "tp": tp, "fp": fp, "fn": fn,
                                      "categories": {c: [hit[c], tot[c]] for c in tot}, "notes_per_s": speeds}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
