"""``medpriv-train seg distill --teacher BUNDLE --unlabelled DIR -o RUN``: the whole on-premises run as one job.

Phases, each resumable (``RUN/state.json`` records the run's identity; finished work is found on disk):

1. find the scans (:mod:`.scans`) and hold back ``holdout`` of them (default 20 %, at least 1; a fixed draw, so
   runs with other training seeds are scored on the same scans);
2. cache the teacher's outputs for every distillation scan (:mod:`.cache`), once: a scan whose cache folder is
   complete is never recomputed; the cache may not grow beyond ``cache_budget_mb``;
3. train one student per width fraction (:mod:`.trainer`), from its checkpoint when there is one;
4. export each student to ``RUN/bundles/<id>/`` (ONNX opset 17, parity with torch checked);
5. segment the held-back scans with the teacher and every student through ``segment_volume`` (:mod:`.evaluate`),
   fill the cards' metrics, write ``RUN/report.md`` and ``RUN/report.json``.

A rerun with another teacher, other scans or another recipe into the same RUN is refused (``steps`` and
``max_minutes`` may change: a finished student trains on when given more steps).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from medpriv_desktop.core.errors import ConfigError, InputError, ModelError
from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.card import Metric
from medpriv_desktop.core.models.registry import ModelRegistry
from training.seg.onprem import cache as cache_mod
from training.seg.onprem.scans import find_scans, split_holdout

DEFAULT_WEIGHTS = {"seg": 1.0, "kd": 1.0, "region": 1.0, "context": 1.0}
#: Seed of the draw of held-back scans (fixed, so that every training seed is scored on the same scans).
SPLIT_SEED = 0


@dataclass
class DistillOptions:
    """Everything ``seg distill --teacher`` takes (defaults are the CLI's)."""

    teacher: str
    unlabelled: Path
    out: Path
    widths: list[float] = field(default_factory=lambda: [0.5, 0.25, 0.125])
    steps: int = 300
    max_minutes: float | None = None
    holdout: int | None = None
    cache_budget_mb: float = 20000.0
    top_k: int | None = None
    base_channels: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 320])
    min_channels: int = 4
    patch: list[int] | None = None
    batch_size: int = 2
    lr: float = 3e-3
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    temperature: float = 2.0
    seed: int = 0
    threads: int = 2
    ckpt_every: int = 25
    id_prefix: str | None = None
    command: str = ""

    def identity(self, teacher_sha: str, scan_ids: list[str]) -> dict:
        """What must not change between a run and its resumption."""
        keep = ("widths", "holdout", "top_k", "base_channels", "min_channels", "patch", "batch_size", "lr",
                "weights", "temperature", "seed", "id_prefix")
        return {"teacher_sha256": teacher_sha, "scans": scan_ids, **{k: getattr(self, k) for k in keep}}


def _check_state(out: Path, identity: dict) -> None:
    path = out / "state.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("identity") != identity:
            diff = sorted(k for k in identity if old.get("identity", {}).get(k) != identity[k])
            raise ConfigError(f"this run folder was started with another {', '.join(diff)}; it cannot be resumed "
                              "with these options", path=out, hint="use a new -o folder, or the original options")
    else:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"version": 1, "identity": identity}, indent=1))


def _student_patch(opts: DistillOptions, card_patch, n_stages: int) -> tuple[int, int, int]:
    div = 2 ** (n_stages - 1)
    patch = opts.patch or list(card_patch)
    return tuple(max(div, (int(p) // div) * div) for p in patch)  # type: ignore[return-value]


def _cache_all(scans, teacher, ii, card_id: str, cache_dir: Path, opts: DistillOptions) -> Job[list]:
    """Cache every scan not cached yet; returns the opened caches."""
    from medpriv_desktop.core.imaging.preprocess import to_model_space

    budget = opts.cache_budget_mb * 1e6
    cache_dir.mkdir(parents=True, exist_ok=True)  # a skip mark may be the first thing written in it
    done = [cache_dir / s.scan_id for s in scans if (cache_dir / s.scan_id / "meta.json").exists()]
    used = sum(f.stat().st_size for d in done for f in d.iterdir())
    for i, scan in enumerate(scans):
        out = cache_dir / scan.scan_id
        skip_mark = cache_dir / f"{scan.scan_id}.skipped"
        if (out / "meta.json").exists() or skip_mark.exists():
            continue
        lo, hi = i / len(scans), (i + 1) / len(scans)
        try:
            vol = yield from scaled(scan.read(), lo, lo + 0.1 * (hi - lo), f"scan {i + 1}/{len(scans)} reading: ")
            space = to_model_space(vol, ii, card_id)
        except (InputError, ModelError) as exc:
            # One damaged scan, or one the teacher does not take, must not stop a long run: it is left out,
            # remembered (so a resumed run does not read it again) and counted in the report, without its name.
            skip_mark.write_text(json.dumps({"reason": type(exc).__name__}))
            continue
        need = cache_mod.cache_bytes(space.shape, teacher.n_classes, opts.top_k, teacher.feature_channels)
        if used + need > budget:
            raise ConfigError(
                f"the teacher cache would exceed --cache-budget-mb {opts.cache_budget_mb:g}: {used / 1e6:.0f} MB "
                f"used and scan {i + 1} needs {need / 1e6:.0f} MB (grid {'x'.join(map(str, space.shape))} at "
                f"{ii.spacing_mm[0]:g} mm)", path=cache_dir,
                hint="raise --cache-budget-mb, store fewer classes with --top-k, or use fewer scans; the scans "
                     "cached so far are kept")
        meta = {"scan_id": scan.scan_id, "modality": vol.modality, "spacing_mm": list(ii.spacing_mm)}
        del vol
        yield from scaled(cache_mod.cache_scan(space.array, teacher, ii.patch_size, ii.overlap, space.pad_value,
                                               out, meta, opts.top_k),
                          lo + 0.1 * (hi - lo), hi, f"scan {i + 1}/{len(scans)} ")
        used += json.loads((out / "meta.json").read_text())["bytes"]
    caches = [cache_mod.CachedScan.open(cache_dir / s.scan_id) for s in scans
              if (cache_dir / s.scan_id / "meta.json").exists()]
    if not caches:
        raise InputError("none of the distillation scans could be used (unreadable, or a modality the teacher "
                         f"does not take: it takes {'/'.join(ii.modalities)})", path=cache_dir.parent)
    return caches


def distill_on_site(opts: DistillOptions) -> Job[dict]:
    """The on-premises distillation run (module docstring); returns the report dict."""
    import torch

    from training.seg.networks import count_flops, count_parameters
    from training.seg.onprem.evaluate import evaluate_holdout, report_markdown
    from training.seg.onprem.site_bundle import student_card, student_id, write_student_bundle
    from training.seg.onprem.students import export_student, student_channels
    from training.seg.onprem.teacher import OnnxTeacher, load_teacher_entry
    from training.seg.onprem.trainer import TrainSpec, load_trained, train_student

    torch.set_num_threads(opts.threads)
    out = Path(opts.out)
    yield Progress(0.0, "checking the teacher")
    t_entry, t_reg = load_teacher_entry(opts.teacher)
    card = t_entry.card
    ii = card.image_input
    scans = find_scans(opts.unlabelled, list(ii.modalities))
    _check_state(out, opts.identity(card.sha256, [s.scan_id for s in scans]))
    # A fixed draw, not the training seed: runs with several seeds are then scored on the same held-back scans.
    train_scans, held = split_holdout(scans, opts.holdout, SPLIT_SEED)
    teacher = OnnxTeacher.open(t_entry, t_reg, out / "cache", opts.threads)
    caches = yield from scaled(_cache_all(train_scans, teacher, ii, card.id, out / "cache", opts), 0.02, 0.35,
                               "teacher cache: ")
    n_stages = len(opts.base_channels)
    patch = _student_patch(opts, ii.patch_size, n_stages)
    recipe = {"weights": opts.weights, "temperature": opts.temperature, "lr": opts.lr, "batch_size": opts.batch_size,
              "patch": list(patch), "seed": opts.seed, "base_channels": opts.base_channels,
              "teacher_features": (f"last decoder features ({teacher.feature_channels} channels, 2x2x2-averaged)"
                                   if teacher.feature_name else "none: logit-derived region/context terms"),
              "top_k": opts.top_k, "n_distill_scans": len(caches), "n_holdout_scans": len(held),
              "hardware": f"CPU, {opts.threads} threads"}
    students: dict[str, dict] = {}
    bundles: dict = {}
    for j, w in enumerate(opts.widths):
        sid = student_id(card.id, w, opts.id_prefix)
        ch = student_channels(opts.base_channels, w, opts.min_channels)
        spec = TrainSpec(channels=ch, patch=patch, steps=opts.steps, max_minutes=opts.max_minutes,
                         weights=opts.weights, temperature=opts.temperature, lr=opts.lr,
                         batch_size=opts.batch_size, seed=opts.seed + j, ckpt_every=opts.ckpt_every)
        lo = 0.35 + 0.5 * j / len(opts.widths)
        summary = yield from scaled(train_student(caches, out / "students" / sid, spec, teacher.n_classes),
                                    lo, lo + 0.5 / len(opts.widths), f"student {w:g}: ")
        net = load_trained(out / "students" / sid, teacher.n_classes)
        bdir = out / "bundles" / sid
        bdir.mkdir(parents=True, exist_ok=True)
        err = export_student(net, bdir / "model.onnx", patch)
        if err > 1e-3:
            raise ConfigError(f"student {sid}: ONNX output differs from torch by {err:.1e}", path=bdir)
        students[sid] = {"width_fraction": w, "channels": ch, "parameters": count_parameters(net),
                         "flops": count_flops(net, patch), "onnx_torch_max_abs_diff": err, "train": summary}
        write_student_bundle(_card(student_card, card, sid, bdir, students[sid], recipe, [], patch, n_stages,
                                   opts), bdir)
        bundles[sid] = bdir
    registry = ModelRegistry(bundled_dir=out / "bundles", site_dir=None, user_dir=out / ".no-user-models")
    entries = {sid: (registry.get(sid), registry) for sid in bundles}
    evaluation = None
    if held:
        evaluation = yield from scaled(evaluate_holdout(held, (t_entry, t_reg), entries, opts.threads), 0.85, 0.98,
                                       "evaluation: ")
        for sid, bdir in bundles.items():
            write_student_bundle(_card(student_card, card, sid, bdir, students[sid], recipe,
                                       _metrics(evaluation, sid), patch, n_stages, opts), bdir)
    sizes = [c.meta["bytes"] for c in caches]
    report = {"teacher": {"id": card.id, "version": card.version, "sha256": card.sha256,
                          "features": recipe["teacher_features"]},
              "scans": {"n_distill": len(caches), "n_holdout": evaluation["n_scans"] if evaluation else 0,
                        "n_skipped": len(train_scans) - len(caches) + ((evaluation or {}).get("n_skipped") or 0),
                        "distill_ids": [s.scan_id for s in train_scans], "holdout_ids": [s.scan_id for s in held]},
              "cache": {"n_scans": len(caches), "total_mb": sum(sizes) / 1e6, "mb_per_scan_max": max(sizes) / 1e6,
                        "budget_mb": opts.cache_budget_mb, "bytes_per_voxel": cache_mod.bytes_per_voxel(
                            teacher.n_classes, opts.top_k, teacher.feature_channels)},
              "recipe": recipe, "students": students, "bundles": {k: str(v) for k, v in bundles.items()},
              "evaluation": evaluation, "options": {k: (str(v) if isinstance(v, Path) else v)
                                                    for k, v in asdict(opts).items()
                                                    if k not in ("unlabelled", "teacher")}}
    atomic_write_text(out / "report.json", json.dumps(report, indent=1))
    atomic_write_text(out / "report.md", report_markdown(report))
    shutil.rmtree(out / ".no-user-models", ignore_errors=True)
    yield Progress(1.0, "distillation done")
    return report


def _metrics(evaluation: dict, sid: str) -> list[Metric]:
    ev = evaluation["students"][sid]
    split, n = "site-held-back-scans-agreement-with-teacher", evaluation["n_scans"]
    out = [Metric(name="tile_latency_ms", value=ev["tile_ms"], split=split),
           Metric(name="tile_speedup_vs_teacher", value=ev["tile_speedup"], split=split)]
    if ev["mean_dice_ratio"] is not None:
        out.append(Metric(name="dice_ratio_to_teacher", value=ev["mean_dice_ratio"], split=split, n=n))
    out += [Metric(name="dice_vs_teacher", value=v, split=split, label=k, n=n) for k, v in ev["dice_ratio"].items()]
    out += [Metric(name="hd95_mm_vs_teacher", value=v, split=split, label=k, n=n) for k, v in ev["hd95_mm"].items()]
    if ev["scan_s"] is not None:
        out.append(Metric(name="scan_latency_s", value=ev["scan_s"], split=split, n=n))
    out.append(Metric(name="scan_speedup_vs_teacher", value=ev["scan_speedup"] or 0.0, split=split, n=n))
    return out


def _card(student_card, teacher_card, sid, bdir, info, recipe, metrics, patch, n_stages, opts):
    full = dict(recipe, channels=info["channels"], width_fraction=info["width_fraction"],
                steps_done=info["train"]["steps_done"], steps_requested=info["train"]["steps_requested"],
                minutes=info["train"]["minutes"], stopped_by=info["train"]["stopped_by"])
    metrics = [Metric(name="onnx_torch_max_abs_diff", value=info["onnx_torch_max_abs_diff"], split="random-input")] \
        + metrics
    tile = next((m.value for m in metrics if m.name == "tile_latency_ms"), None)
    note = (f"ONNX Runtime CPU, {opts.threads} thread(s), one {'x'.join(map(str, patch))} tile, median of 5"
            if tile is not None else None)
    return student_card(teacher_card, sid, bdir / "model.onnx", info["width_fraction"], 2 ** (n_stages - 1), patch,
                        full, metrics, info["parameters"], info["flops"],
                        None if tile is None else round(tile, 1), note, recipe["n_distill_scans"],
                        opts.command or "medpriv-train seg distill --teacher ...")
