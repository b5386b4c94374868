"""End-to-end ``segment`` time and peak memory, split into read / preprocess / inference / post-process / export.

Cases:
- the shared example CTs (``../shared/data/imaging/totalsegmentator``: ``example_ct_sm.nii.gz``, ``example_ct.nii.gz``
  and the JPEG 2000 DICOM series ``example_ct_dicom``), each with two model sizes: the bundled segmentation teacher
  and student from ``resources/models`` when both are installed, else two synthetic ONNX conv nets of different width
  (random weights, same shape of computation: two 3x3x3 convs + a 1x1x1 head) -- the output says which;
- a synthetic 512x512x400 CT (0.8x0.8x1.0 mm) segmented at 1 mm with a tiny model, to check the peak-memory bound
  (< 4 GB).

Every case runs in a fresh child process so its peak resident memory (``ru_maxrss``) is its own. Threads follow the
app's rule (cores minus one) unless ``--threads`` says otherwise. Writes ``benchmarks/results/segment.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "unit" / "imaging"))

STAGES = ("read", "preprocess", "inference", "postprocess", "export")
MEMORY_LIMIT_GB = 4.0


def _data_dir() -> Path | None:
    env = os.environ.get("MEDPRIV_DATA")
    p = Path(env) if env else REPO.parent / "shared" / "data"
    p = p / "imaging" / "totalsegmentator"
    return p if p.is_dir() else None


def _bundled_pair() -> tuple[str, str] | None:
    """(student id, teacher id) of one family among the bundled segmentation models, if present."""
    from medpriv_desktop.core.models.registry import ModelRegistry

    reg = ModelRegistry()
    seg = reg.entries("segmentation")
    for s in seg:
        if s.card.role != "student" or not s.card.family:
            continue
        for t in seg:
            if t.card.family == s.card.family and t.card.role == "teacher":
                return s.card.id, t.card.id
    return None


def _synthetic_models(root: Path) -> dict[str, str]:
    """Two random conv nets (width 8 and 24) and the tiny nearest-centre model, as bundles in ``root``."""
    from _imaging_fixtures import build_conv_model, make_bundle

    make_bundle(root, "bench-conv-w8", builder=build_conv_model, builder_kwargs={"width": 8},
                spacing=(3.0, 3.0, 3.0), patch=(64, 64, 64), overlap=0.5, role="student", family="bench")
    make_bundle(root, "bench-conv-w24", builder=build_conv_model, builder_kwargs={"width": 24},
                spacing=(3.0, 3.0, 3.0), patch=(64, 64, 64), overlap=0.5, role="teacher", family="bench")
    make_bundle(root, "bench-tiny-1mm", spacing=(1.0, 1.0, 1.0), patch=(128, 128, 128), overlap=0.25,
                family="bench-big")
    return {"small": "bench-conv-w8", "large": "bench-conv-w24", "big": "bench-tiny-1mm"}


def _synthetic_big_ct(path: Path, shape=(512, 512, 400), spacing=(0.8, 0.8, 1.0)) -> None:
    """A torso-like CT written slice by slab (never more than a few slices of float in memory)."""
    import nibabel as nib
    import numpy as np

    rng = np.random.default_rng(0)
    nx, ny, nz = shape
    x = (np.arange(nx) - nx / 2)[:, None] * spacing[0]
    y = (np.arange(ny) - ny / 2)[None, :] * spacing[1]
    body = (x / 170) ** 2 + (y / 120) ** 2 <= 1
    spine = (x / 18) ** 2 + ((y + 70) / 18) ** 2 <= 1
    organ = ((x + 60) / 70) ** 2 + ((y - 10) / 55) ** 2 <= 1
    arr = np.empty(shape, np.int16)
    for k in range(nz):
        sl = np.full((nx, ny), -1000.0)
        sl[body] = 30
        if k % 30 < 24:
            sl[spine] = 700
        if 100 < k < 300:
            sl[organ] = 60
        sl += rng.normal(0, 15, sl.shape)
        arr[:, :, k] = np.clip(sl, -1024, 3071)
    aff = np.diag([*spacing, 1.0])
    nib.save(nib.Nifti1Image(arr, aff), str(path))


def _child(args: argparse.Namespace) -> int:
    """Run one case and print its JSON line (timings and peak memory of this process)."""
    from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.models.registry import ModelRegistry

    reg = ModelRegistry(bundled_dir=Path(args.models), user_dir=Path(args.models) / ".none", site_dir=None) \
        if args.models else ModelRegistry()
    entry = reg.get(args.model)
    t = time.perf_counter()
    res = run_job(segment_study(Context.build(registry=reg), Path(args.input), entry,
                                output=Path(args.out),
                                options=SegmentOptions(stats=True, threads=args.threads or None, formats=("nii.gz",))))
    wall = time.perf_counter() - t
    tm = res.timings
    out = {
        "read": tm.get("read", 0.0),
        "preprocess": tm.get("preprocess", 0.0) + tm.get("load_model", 0.0),
        "inference": tm.get("inference", 0.0),
        "postprocess": tm.get("resample", 0.0) + tm.get("postprocess", 0.0) + tm.get("stats", 0.0),
        "export": tm.get("export", 0.0),
        "total": wall, "tiles": res.segmentation.n_tiles, "threads": res.segmentation.threads,
        "input_shape": list(res.volume.shape), "model_grid": list(res.segmentation.labels_model.shape),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    print("RESULT " + json.dumps(out))
    return 0


def _run_case(model: str, models_dir: Path | None, inp: Path, threads: int | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-seg-") as out:
        cmd = [sys.executable, __file__, "--child", "--model", model, "--input", str(inp), "--out", out]
        if models_dir:
            cmd += ["--models", str(models_dir)]
        if threads:
            cmd += ["--threads", str(threads)]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        for line in r.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        raise RuntimeError(f"case failed: {r.stderr[-2000:]}")


def main() -> int:
    """Run all cases, print the table and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model")
    ap.add_argument("--models")
    ap.add_argument("--input")
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=0, help="inference threads (default: cores minus one)")
    ap.add_argument("--skip-big", action="store_true", help="skip the 512x512x400 memory run")
    args = ap.parse_args()
    if args.child:
        return _child(args)

    from _machine import write_result

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-seg-models-") as tmp:
        tmp_path = Path(tmp)
        synth = _synthetic_models(tmp_path / "models")
        pair = _bundled_pair()
        if pair:
            models = [("student", pair[0], None), ("teacher", pair[1], None)]
            source = f"bundled models {pair[0]} (student) and {pair[1]} (teacher)"
        else:
            models = [("small (w8)", synth["small"], tmp_path / "models"),
                      ("large (w24)", synth["large"], tmp_path / "models")]
            source = ("synthetic ONNX conv nets of width 8 and 24 (random weights; no bundled segmentation "
                      "teacher/student installed yet)")
        print(f"models: {source}")
        data = _data_dir()
        inputs = []
        if data is None:
            print("shared example CTs not found: skipping them")
        else:
            inputs = [data / "example_ct_sm.nii.gz", data / "example_ct.nii.gz", data / "example_ct_dicom"]
        for inp in inputs:
            for label, mid, mdir in models:
                r = _run_case(mid, mdir, inp, args.threads)
                r.update(case=inp.name, model=label, model_id=mid)
                rows.append(r)
                print(f"  {inp.name:22s} {label:12s} total {r['total']:6.2f}s  peak {r['peak_rss_mb']:7.0f} MB",
                      flush=True)
        big = None
        if not args.skip_big:
            ct = tmp_path / "big_ct.nii"
            t = time.perf_counter()
            _synthetic_big_ct(ct)
            print(f"  synthetic 512x512x400 CT written in {time.perf_counter() - t:.1f}s", flush=True)
            big = _run_case(synth["big"], tmp_path / "models", ct, args.threads)
            big.update(case="synthetic 512x512x400 CT", model="tiny 1x1x1 conv @1 mm", model_id=synth["big"])
            rows.append(big)

    header = f"{'case':26s} {'model':20s} " + " ".join(f"{s:>11s}" for s in STAGES) + \
        f" {'total s':>8s} {'tiles':>6s} {'peak MB':>8s}"
    print("\n" + header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['case'][:26]:26s} {r['model'][:20]:20s} " + " ".join(f"{r[s]:11.2f}" for s in STAGES) +
              f" {r['total']:8.2f} {r['tiles']:6d} {r['peak_rss_mb']:8.0f}")
    ratios = {}
    for inp in {r["case"] for r in rows if r.get("model_id") != synth["big"]}:
        pair_rows = [r for r in rows if r["case"] == inp]
        if len(pair_rows) == 2:
            ratios[inp] = round(pair_rows[1]["inference"] / max(pair_rows[0]["inference"], 1e-9), 2)
    if ratios:
        print(f"\ninference time ratio large/small model: {ratios}")
    if big:
        ok = big["peak_rss_mb"] / 1024 < MEMORY_LIMIT_GB
        print(f"512x512x400 CT peak memory {big['peak_rss_mb'] / 1024:.2f} GB "
              f"({'under' if ok else 'OVER'} the {MEMORY_LIMIT_GB:g} GB bound), threads {big['threads']}")
    path = write_result("segment", {"models": source, "rows": rows, "inference_ratio_large_small": ratios,
                                    "memory_limit_gb": MEMORY_LIMIT_GB})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
