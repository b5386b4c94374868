"""Students against their teacher on scans held back from distillation, through the app's own path.

Every held-back scan is read with the app's reader and segmented by ``segment_volume`` (the code the window and
``medpriv segment`` run: preprocessing, tiling, blending, post-processing), once by the teacher and once by each
student, with the same thread count. With no annotations the teacher's label map is the reference, so each number is
*agreement with the teacher*: the teacher scores 1 by definition and a student's per-structure Dice is its Dice ratio
to the teacher. HD95 (MONAI's ``compute_hausdorff_distance``, 95th percentile, mm) is taken on the model grid both
share. Latency: the network alone on one tile of the card's patch (median of 5 after a warm-up), and end to end per
scan (``segment_volume`` from the volume in memory to the post-processed label map, the one-off session start
excluded). A held-back scan the teacher does not take (another modality) is left out and counted.
"""

from __future__ import annotations

import time

import numpy as np

from medpriv_desktop.core.errors import InputError, ModelError
from medpriv_desktop.core.imaging.inference import get_segmenter, segment_volume
from medpriv_desktop.core.jobs import Job, Progress, run_job, scaled
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry
from training.seg.onprem.scans import ScanRef


def dice(a: np.ndarray, b: np.ndarray, value: int) -> float | None:
    """Dice of one label between two label maps; None when absent from both."""
    pa, pb = a == value, b == value
    s = int(pa.sum()) + int(pb.sum())
    return None if s == 0 else float(2 * np.logical_and(pa, pb).sum() / s)


def hd95(a: np.ndarray, b: np.ndarray, value: int, spacing) -> float | None:
    """MONAI's 95th-percentile Hausdorff distance (mm) of one label; None unless both maps hold it."""
    import torch
    from monai.metrics import compute_hausdorff_distance

    pa, pb = a == value, b == value
    if not pa.any() or not pb.any():
        return None
    ya = torch.from_numpy(pa[None, None].astype(np.float32))
    yb = torch.from_numpy(pb[None, None].astype(np.float32))
    d = compute_hausdorff_distance(ya, yb, include_background=True, percentile=95, spacing=list(spacing))
    return float(d.reshape(-1)[0])


def tile_latency_ms(registry: ModelRegistry, entry: ModelEntry, threads: int, repeats: int = 5) -> float:
    """Median time (ms) of the network alone on one tile of the card's patch."""
    seg = get_segmenter(registry, entry, threads)
    tile = np.zeros((1, 1, *entry.card.image_input.patch_size), np.float32)
    seg(tile)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        seg(tile)
        times.append(1000 * (time.perf_counter() - t))
    return float(np.median(times))


def evaluate_holdout(holdout: list[ScanRef], teacher: tuple[ModelEntry, ModelRegistry],
                     students: dict[str, tuple[ModelEntry, ModelRegistry]], threads: int) -> Job[dict]:
    """Per-structure agreement Dice and HD95 of each student with the teacher, and latencies; a job."""
    t_entry, t_reg = teacher
    names = {lb.value: lb.name for lb in t_entry.card.outputs.labels if lb.value != 0}
    spacing = t_entry.card.image_input.spacing_mm
    per: dict[str, dict[str, list[float]]] = {s: {"dice": {}, "hd95": {}} for s in students}
    e2e: dict[str, list[float]] = {s: [] for s in [t_entry.card.id, *students]}
    n = max(len(holdout), 1)
    skipped = 0
    for i, scan in enumerate(holdout):
        span = 1.0 / n
        try:
            vol = yield from scaled(scan.read(), i * span, (i + 0.1) * span, "reading: ")
            t = time.perf_counter()
            ref = run_job(segment_volume(vol, t_entry, t_reg, threads=threads))
        except (InputError, ModelError):  # unreadable, or a modality the teacher does not take: left out, counted
            skipped += 1
            continue
        # Opening a session happens once per model in the app: end to end here is from the volume in memory to
        # the post-processed label map, without it.
        e2e[t_entry.card.id].append(time.perf_counter() - t - ref.timings.get("load_model", 0.0))
        for sid, (entry, reg) in students.items():
            t = time.perf_counter()
            res = run_job(segment_volume(vol, entry, reg, threads=threads))
            e2e[sid].append(time.perf_counter() - t - res.timings.get("load_model", 0.0))
            for value, name in names.items():
                d = dice(res.labelmap.array, ref.labelmap.array, value)
                if d is not None:
                    per[sid]["dice"].setdefault(name, []).append(d)
                h = hd95(res.labels_model.array, ref.labels_model.array, value, spacing)
                if h is not None:
                    per[sid]["hd95"].setdefault(name, []).append(h)
        yield Progress((i + 1) * span, f"held-back scan {i + 1}/{len(holdout)}")
    out = {"n_scans": len(holdout) - skipped, "n_skipped": skipped, "threads": threads, "teacher": {
        "id": t_entry.card.id, "tile_ms": tile_latency_ms(t_reg, t_entry, threads),
        "scan_s": float(np.median(e2e[t_entry.card.id])) if e2e[t_entry.card.id] else None}, "students": {}}
    for sid, (entry, reg) in students.items():
        dice_s = {k: float(np.mean(v)) for k, v in per[sid]["dice"].items()}
        hd_s = {k: float(np.mean(v)) for k, v in per[sid]["hd95"].items()}
        tile = tile_latency_ms(reg, entry, threads)
        scan_s = float(np.median(e2e[sid])) if e2e[sid] else None
        out["students"][sid] = {
            "dice_ratio": dice_s, "mean_dice_ratio": float(np.mean(list(dice_s.values()))) if dice_s else None,
            "hd95_mm": hd_s, "tile_ms": tile, "scan_s": scan_s,
            "tile_speedup": out["teacher"]["tile_ms"] / max(tile, 1e-9),
            "scan_speedup": (out["teacher"]["scan_s"] / scan_s) if scan_s and out["teacher"]["scan_s"] else None}
    return out


def report_markdown(report: dict) -> str:
    """RUN/report.md: the recipe, the cache, then one table per question."""
    ev = report.get("evaluation") or {}
    lines = [f"# On-premises distillation of `{report['teacher']['id']}`", "",
             "Trained on site data: keep on site. Numbers are agreement with the teacher on held-back scans "
             "(no annotations): the teacher is 1 by definition.", "",
             f"- scans: {report['scans']['n_distill']} for distillation, {report['scans']['n_holdout']} held back and "
             f"evaluated, {report['scans']['n_skipped']} left out (unreadable, or a modality the teacher does not "
             "take)",
             f"- teacher features: {report['teacher']['features']}",
             f"- cache: {report['cache']['total_mb']:.1f} MB for {report['cache']['n_scans']} scans "
             f"({report['cache']['mb_per_scan_max']:.1f} MB the largest; budget {report['cache']['budget_mb']} MB)",
             f"- loss weights: {report['recipe']['weights']}, temperature {report['recipe']['temperature']}", ""]
    if not ev:
        lines += ["No scan could be held back (one scan only): no evaluation.", ""]
        return "\n".join(lines)
    t = ev["teacher"]
    lines += [f"Held-back scans: {ev['n_scans']}; threads: {ev['threads']} (same for all).", "",
              "| model | width | params | steps | minutes | mean Dice ratio | tile ms | tile speed-up | scan s | "
              "scan speed-up |", "|" + "---|" * 10,
              f"| {t['id']} (teacher) | 1 | | | | 1.000 | {t['tile_ms']:.1f} | 1.00 | "
              f"{(t['scan_s'] or 0):.2f} | 1.00 |"]
    for sid, s in ev["students"].items():
        st = report["students"][sid]
        mean = s["mean_dice_ratio"]
        lines.append(f"| {sid} | {st['width_fraction']:g} | {st['parameters']:,} | {st['train']['steps_done']} | "
                     f"{st['train']['minutes']:.1f} | {mean if mean is None else f'{mean:.3f}'} | "
                     f"{s['tile_ms']:.1f} | {s['tile_speedup']:.2f} | {(s['scan_s'] or 0):.2f} | "
                     f"{(s['scan_speedup'] or 0):.2f} |")
    structs = sorted({k for s in ev["students"].values() for k in s["dice_ratio"]})
    lines += ["", "Dice ratio to the teacher per structure (HD95 mm to the teacher's label map):", "",
              "| structure | " + " | ".join(ev["students"]) + " |", "|---|" + "---|" * len(ev["students"])]
    for name in structs:
        cells = []
        for s in ev["students"].values():
            d, h = s["dice_ratio"].get(name), s["hd95_mm"].get(name)
            cells.append("-" if d is None else f"{d:.3f}" + ("" if h is None else f" ({h:.1f})"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
