"""Evaluation of segmentation bundles / checkpoints: Dice and HD95 per structure, latency, real-volume Dice.

Held-out phantoms (indices after the training ones) are synthesised with fixed seeds, once as CT and once as MR,
and segmented with the app's own sliding-window code (``core.imaging.sliding_window``) through ONNX Runtime, so
the numbers are those of the shipped path. Real volumes go through the app's reader and preprocessing
(``core.imaging.io.read_volume`` and ``preprocess.to_model_space``) and are scored against TotalSegmentator's
label maps mapped onto our labels (structures we do not predict are ignored).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from medpriv_desktop.core.imaging.sliding_window import sliding_window
from medpriv_desktop.core.jobs import Job, Progress, run_job
from training.seg.data import phantom_path, prepare_volume
from training.seg.labels import N_SEG, SEG_LABELS, totalseg_lookup
from training.seg.synth import pool_factor, synthesize

EVAL_SEED = 777


def dice(pred: np.ndarray, ref: np.ndarray, value: int) -> float | None:
    """Dice of one label; None when absent from both."""
    p, r = pred == value, ref == value
    s = p.sum() + r.sum()
    return None if s == 0 else float(2 * (p & r).sum() / s)


def hd95(pred: np.ndarray, ref: np.ndarray, value: int, spacing: float) -> float | None:
    """95th-percentile symmetric Hausdorff distance (mm) between the label's surfaces; None if either is empty."""
    p, r = pred == value, ref == value
    if not p.any() or not r.any():
        return None
    sp = p ^ ndimage.binary_erosion(p)
    sr = r ^ ndimage.binary_erosion(r)
    dr = ndimage.distance_transform_edt(~sr, sampling=spacing)
    dp = ndimage.distance_transform_edt(~sp, sampling=spacing)
    return float(max(np.percentile(dr[sp], 95), np.percentile(dp[sr], 95)))


def onnx_predictor(path: str | Path, threads: int = 1):
    """A ``predict(batch) -> logits`` function over an ONNX file (the app's contract)."""
    from training.seg.export import onnx_session

    sess = onnx_session(path, threads)
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})[0]


def heldout_cases(phantom_dir: str | Path, indices: list[int], modalities=("CT", "MR"), spacing: float = 3.0,
                  phantom_spacing: float = 1.5):
    """Fixed synthetic evaluation volumes at the model ``spacing``: (name, normalised image, labels, modality)."""
    from training.seg.data import check_phantom_spacing

    check_phantom_spacing(phantom_dir, phantom_spacing)
    for i in indices:
        gen = np.load(phantom_path(phantom_dir, i))
        for m in modalities:
            rng = np.random.default_rng(EVAL_SEED + 10 * i + (m == "MR"))
            img, seg = synthesize(gen, m, rng, phantom_spacing, crop=False,
                                  factor=pool_factor(spacing, phantom_spacing))
            yield f"phantom{i:04d}-{m}", prepare_volume(img, m), seg, m


def evaluate_phantoms(predict, patch, cases, spacing: float = 3.0) -> Job[dict]:
    """Per-case and mean Dice / HD95 per label over ``cases`` (from :func:`heldout_cases`)."""
    cases = list(cases)
    per_case = []
    for k, (name, img, seg, modality) in enumerate(cases):
        pad = float(img.min())
        from training.seg.data import normalized_pad

        if modality == "CT":
            pad = normalized_pad("CT")
        pred, _, _ = run_job(sliding_window(img, predict, patch, N_SEG, overlap=0.5, pad_value=pad))
        rec = {"case": name, "modality": modality, "dice": {}, "hd95": {}}
        for lb in SEG_LABELS[1:]:
            d = dice(pred, seg, lb.value)
            if d is not None:
                rec["dice"][lb.name] = d
                h = hd95(pred, seg, lb.value, spacing)
                if h is not None:
                    rec["hd95"][lb.name] = h
        per_case.append(rec)
        yield Progress((k + 1) / len(cases), f"evaluated {name}")
    return {"cases": per_case, **summarise(per_case)}


def summarise(per_case: list[dict]) -> dict:
    """Mean Dice / HD95 per label, per modality and overall."""
    out: dict = {}
    for scope in ("all", "CT", "MR"):
        rows = [r for r in per_case if scope == "all" or r["modality"] == scope]
        if not rows:
            continue
        d = {lb.name: float(np.mean([r["dice"][lb.name] for r in rows if lb.name in r["dice"]]))
             for lb in SEG_LABELS[1:] if any(lb.name in r["dice"] for r in rows)}
        h = {lb.name: float(np.mean([r["hd95"][lb.name] for r in rows if lb.name in r["hd95"]]))
             for lb in SEG_LABELS[1:] if any(lb.name in r["hd95"] for r in rows)}
        out[scope] = {"dice": d, "hd95": h, "mean_dice": float(np.mean(list(d.values()))) if d else 0.0,
                      "mean_hd95": float(np.mean(list(h.values()))) if h else 0.0}
    return out


REAL_PAIRS = (("example_ct_sm.nii.gz", "example_seg.nii.gz", "total", "CT"),
              ("example_mr_sm.nii.gz", "example_seg_mr.nii.gz", "total_mr", "MR"))


def evaluate_real(predict, card_input, data_dir: str | Path, save_overlay: str | Path | None = None) -> Job[dict]:
    """Dice against TotalSegmentator's label maps on the shared CT and MR examples (app reader + preprocessing)."""
    from medpriv_desktop.core.imaging.io import read_volume
    from medpriv_desktop.core.imaging.preprocess import to_model_space

    root = Path(data_dir) / "imaging" / "totalsegmentator"
    class_map = json.loads((root / "class_map.json").read_text())
    out = {}
    for k, (img_name, seg_name, task, modality) in enumerate(REAL_PAIRS):
        vol = read_volume(root / img_name, modality=modality)
        ms = to_model_space(vol, card_input)
        pred_m, _, _ = yield from _scaled(sliding_window(ms.array, predict, card_input.patch_size, N_SEG,
                                                          overlap=card_input.overlap, pad_value=ms.pad_value),
                                          k / len(REAL_PAIRS), (k + 1) / len(REAL_PAIRS))
        pred = ms.labels_to_input(pred_m).array
        ref_raw = read_volume(root / seg_name).array.astype(np.int64)
        ref = totalseg_lookup(class_map[task])[np.clip(ref_raw, 0, 255)]
        ignore = ref == 255  # TotalSegmentator structures we do not predict
        pred_eval = np.where(ignore | (pred == 1), 0, pred)  # 'body' has no counterpart: scored as background
        ref_eval = np.where(ignore, 0, ref)
        scores = {}
        for lb in SEG_LABELS[2:]:
            if (ref_eval == lb.value).any():
                scores[lb.name] = dice(pred_eval, ref_eval, lb.value)
        out[img_name] = {"modality": modality, "dice": scores,
                         "mean_dice": float(np.mean(list(scores.values()))) if scores else 0.0}
        if save_overlay:
            from medpriv_desktop.core.imaging.volume import apply_reorient, reorient_transform

            perm, flips = reorient_transform(vol.orientation_codes(), "RAS")
            _overlay(*(apply_reorient(a, perm, flips) for a in (vol.array, pred, ref_eval)), Path(save_overlay).with_name(
                Path(save_overlay).stem + f"_{modality}.png"), modality)
    return out


def _scaled(job, a, b):
    from medpriv_desktop.core.jobs import scaled

    return scaled(job, a, b)


def _overlay(image: np.ndarray, pred: np.ndarray, ref: np.ndarray, path: Path, modality: str) -> None:
    """Mid axial slice of RAS arrays in radiological view (patient's right on the left, anterior up): image,
    prediction and reference side by side, for a person to look at."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    z = image.shape[2] // 2
    cmap = ListedColormap([np.array(lb.color) / 255 for lb in SEG_LABELS])
    fig, ax = plt.subplots(1, 3, figsize=(15, 5))
    lo, hi = (-250, 350) if modality == "CT" else np.percentile(image, [1, 99])
    for a, lab, title in zip(ax, (None, pred, ref), ("image", "model", "TotalSegmentator (mapped)")):
        a.imshow(image[::-1, :, z].T, cmap="gray", vmin=lo, vmax=hi, origin="lower")
        if lab is not None:
            sl = lab[::-1, :, z].T
            a.imshow(np.ma.masked_where(sl == 0, sl), cmap=cmap, vmin=0,
                     vmax=len(SEG_LABELS) - 1, alpha=0.5, origin="lower", interpolation="nearest")
        a.set_title(title)
        a.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def latency_ms(path: str | Path, patch, threads: int = 2, repeats: int = 5) -> float:
    """Median ONNX Runtime CPU time (ms) of one patch."""
    predict = onnx_predictor(path, threads)
    x = np.random.default_rng(0).normal(0, 1, (1, 1, *patch)).astype(np.float32)
    predict(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        predict(x)
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))
