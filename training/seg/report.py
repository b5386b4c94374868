"""Evaluate several models on the same data in one run, write Markdown + JSON, and export bundles with metrics.

A model is a checkpoint (``.pt``: exported to a temporary ONNX first) or a bundle folder (its ``model.onnx``). The
first model named is the reference (the teacher): every other model gets Dice / parameter / latency ratios to it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.card import ImageInput, Metric, ModelCard
from training.seg.bundle import build_card, write_bundle
from training.seg.config import CT_NORM, MR_NORM, SegConfig
from training.seg.evaluate import evaluate_phantoms, evaluate_real, heldout_cases, latency_ms, onnx_predictor
from training.seg.export import export_onnx, parity
from training.seg.networks import NetConfig, UNet3D, count_flops, count_parameters


def _image_input(cfg: SegConfig, divisible_by: int) -> ImageInput:
    s = cfg.model.spacing_mm
    return ImageInput(modalities=["CT", "MR"], spacing_mm=(s, s, s), orientation="RAS",
                      intensity={"CT": CT_NORM, "MR": MR_NORM}, patch_size=tuple(cfg.model.patch), overlap=0.5,
                      divisible_by=divisible_by)


def _resolve(path: Path, tmp: Path, patch) -> tuple[Path, int, float, float | None]:
    """ONNX path, parameters, FLOPs per patch, width fraction for a checkpoint or bundle."""
    if path.is_dir():
        card = ModelCard.model_validate_json((path / "model_card.json").read_text())
        return path / card.model_file, card.metrics.parameters or 0, card.metrics.flops or 0.0, card.width_fraction
    from training.seg.train import model_from_checkpoint

    net = model_from_checkpoint(path)
    onnx_path = export_onnx(net, tmp / f"{path.parent.name}.onnx", tuple(patch))
    return onnx_path, count_parameters(net), count_flops(net, tuple(patch)), net.cfg.width_fraction


def default_data_dir() -> Path | None:
    """``MEDPRIV_DATA`` or ``../shared/data`` beside the repository."""
    import os

    env = os.environ.get("MEDPRIV_DATA")
    p = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return p if p.is_dir() else None


def evaluate_models(cfg: SegConfig, models: dict[str, str], out_dir: Path, real_data: str | None = None,
                    n_cases: int | None = None, latency_threads: int = 2) -> Job[dict]:
    """Evaluate ``models`` (name -> checkpoint or bundle) on held-out phantoms (CT + MR) and the real examples."""
    out_dir.mkdir(parents=True, exist_ok=True)
    d = cfg.data
    val = list(range(d.n_phantoms - d.n_val_phantoms, d.n_phantoms))[: n_cases or None]
    data_dir = Path(real_data) if real_data else default_data_dir()
    if data_dir is not None and not (data_dir / "imaging" / "totalsegmentator").is_dir():
        data_dir = None  # no shared data here: phantoms only
    patch = tuple(cfg.model.patch)
    cases = list(heldout_cases(d.phantom_dir, val, spacing=cfg.model.spacing_mm,
                               phantom_spacing=d.phantom_spacing_mm))
    results: dict = {"held_out_phantoms": val, "patch": list(patch), "models": {}}
    with tempfile.TemporaryDirectory() as tmpd:
        for k, (name, p) in enumerate(models.items()):
            onnx_path, params, flops, wf = _resolve(Path(p), Path(tmpd), patch)
            lo, hi = k / len(models), (k + 1) / len(models)
            predict = onnx_predictor(onnx_path, threads=latency_threads)
            ph = yield from scaled(evaluate_phantoms(predict, patch, cases, cfg.model.spacing_mm), lo,
                                   lo + 0.8 * (hi - lo), f"{name}: ")
            real = None
            if data_dir is not None:
                real = yield from scaled(
                    evaluate_real(predict, _image_input(cfg, 2 ** (cfg.model.n_stages - 1)), data_dir,
                                  save_overlay=out_dir / f"overlay_{name}.png"),
                    lo + 0.8 * (hi - lo), hi, f"{name} real: ")
            lat = latency_ms(onnx_path, patch, threads=latency_threads)
            results["models"][name] = {
                "source": str(p), "parameters": params, "flops": flops, "width_fraction": wf,
                "latency_ms": lat, "size_bytes": Path(onnx_path).stat().st_size,
                "phantoms": {k2: v for k2, v in ph.items() if k2 != "cases"}, "phantom_cases": ph["cases"],
                "real": real,
                "summary": {"mean_dice": ph["all"]["mean_dice"], "mean_hd95": ph["all"]["mean_hd95"],
                            "real_mean_dice": {k2: v["mean_dice"] for k2, v in (real or {}).items()}},
            }
    _ratios(results)
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=1))
    atomic_write_text(out_dir / "results.md", to_markdown(results))
    yield Progress(1.0, "evaluation written")
    return results


def _ratios(results: dict) -> None:
    names = list(results["models"])
    ref = results["models"][names[0]]
    for n in names:
        m = results["models"][n]
        m["ratios"] = {
            "dice": m["summary"]["mean_dice"] / max(ref["summary"]["mean_dice"], 1e-9),
            "parameters": m["parameters"] / max(ref["parameters"], 1),
            "latency": m["latency_ms"] / max(ref["latency_ms"], 1e-9),
            "real_dice": {k: v / max(ref["summary"]["real_mean_dice"].get(k, 0), 1e-9)
                          for k, v in m["summary"]["real_mean_dice"].items()},
        }


def to_markdown(results: dict) -> str:
    """Tables: one row per model (ratios to the first), then Dice / HD95 per structure."""
    names = list(results["models"])
    lines = [f"Held-out phantoms {results['held_out_phantoms']} (each as CT and MR-like), patch "
             f"{results['patch']}; latency = ONNX Runtime, one patch, median of 5.", "",
             "| model | params | param ratio | GFLOPs/patch | latency ms | latency ratio | Dice CT | Dice MR | "
             "Dice all | Dice ratio | HD95 mm | real CT Dice | real MR Dice |", "|" + "---|" * 13]
    for n in names:
        m = results["models"][n]
        ph = m["phantoms"]
        real = m["summary"]["real_mean_dice"]
        rc = next((v for k, v in real.items() if "ct" in k), float("nan"))
        rm = next((v for k, v in real.items() if "mr" in k), float("nan"))
        lines.append(
            f"| {n} | {m['parameters']:,} | {m['ratios']['parameters']:.3f} | {m['flops'] / 1e9:.2f} | "
            f"{m['latency_ms']:.0f} | {m['ratios']['latency']:.2f} | {ph.get('CT', {}).get('mean_dice', 0):.3f} | "
            f"{ph.get('MR', {}).get('mean_dice', 0):.3f} | {ph['all']['mean_dice']:.3f} | "
            f"{m['ratios']['dice']:.3f} | {ph['all']['mean_hd95']:.1f} | {rc:.3f} | {rm:.3f} |")
    labels = list(results["models"][names[0]]["phantoms"]["all"]["dice"])
    lines += ["", "Dice (HD95 mm) per structure, held-out phantoms, CT and MR together:", "",
              "| structure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for lb in labels:
        cells = []
        for n in names:
            a = results["models"][n]["phantoms"]["all"]
            cells.append(f"{a['dice'].get(lb, float('nan')):.3f} ({a['hd95'].get(lb, float('nan')):.1f})")
        lines.append(f"| {lb} | " + " | ".join(cells) + " |")
    real_names = [k for k in (results["models"][names[0]].get("real") or {})]
    for rn in real_names:
        structs = list(results["models"][names[0]]["real"][rn]["dice"])
        lines += ["", f"Dice against TotalSegmentator on {rn} (mapped labels):", "",
                  "| structure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for s in structs:
            lines.append(f"| {s} | " + " | ".join(
                f"{results['models'][n]['real'][rn]['dice'].get(s, float('nan')):.3f}" for n in names) + " |")
    return "\n".join(lines) + "\n"


def export_bundle(cfg: SegConfig, checkpoint: Path, model_id: str, out: Path, title: str,
                  eval_json: Path | None = None, eval_name: str | None = None, teacher_id: str | None = None,
                  command: str = "", fp16: bool = False, reuse_onnx: bool = False) -> ModelCard:
    """Export ``checkpoint`` to ``out`` as a bundle; metrics come from an evaluation JSON when given.

    With ``reuse_onnx`` an existing ``out/model.onnx`` is kept (so an evaluation of that very file stays valid)
    and only the card is rewritten.
    """
    from training.seg.train import load_checkpoint, model_from_checkpoint

    ck = load_checkpoint(checkpoint)
    net = model_from_checkpoint(checkpoint)
    patch = tuple(cfg.model.patch)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpd:
        existing = out / "model.onnx"
        if reuse_onnx and existing.exists():
            onnx_path = Path(tmpd) / "model.onnx"
            shutil.copyfile(existing, onnx_path)
        else:
            onnx_path = export_onnx(net, Path(tmpd) / "model.onnx", patch, fp16_weights=fp16)
        err = parity(net, onnx_path, patch)
        if err > (5e-2 if fp16 else 1e-3):
            from medpriv_desktop.core.errors import ModelError

            raise ModelError(f"ONNX output differs from torch by {err:.2e}", path=checkpoint)
        lat = latency_ms(onnx_path, patch, threads=2)
        metrics = [Metric(name="onnx_torch_max_abs_diff", value=err, split="random-input")]
        if eval_json is not None:
            metrics += _metrics_from_eval(json.loads(eval_json.read_text()), eval_name or model_id)
        role = "teacher" if net.cfg.width_fraction == 1.0 else "student"
        wf = net.cfg.width_fraction
        desc = (f"{'Teacher' if role == 'teacher' else 'Student'} of the phantom torso family: nnU-Net-like 3D "
                f"U-Net, {net.cfg.n_stages} stages, channels {net.cfg.channels()}, 15 structures, one network for "
                f"CT and MR-like images.")
        from training.seg.data import phantom_path

        # Count the phantoms that really existed (a run may use fewer than configured when generation was cut).
        n_train = sum(phantom_path(cfg.data.phantom_dir, i).exists()
                      for i in range(cfg.data.n_phantoms - cfg.data.n_val_phantoms))
        card = write_bundle(dict(
            model_id=model_id, title=title, role=role, width_fraction=wf, patch=patch,
            spacing=cfg.model.spacing_mm, divisible_by=net.cfg.divisible_by, metrics=metrics,
            parameters=count_parameters(net), flops=count_flops(net, patch), latency_ms=round(lat, 1),
            latency_note=f"ONNX Runtime CPU, 2 threads, one {patch[0]}x{patch[1]}x{patch[2]} patch, median of 5, "
                         "shared 2-core machine",
            n_phantoms=n_train, command=command or f"medpriv-train seg export --checkpoint {checkpoint}",
            seed=int(ck["config"]["data"]["seed"]), config=_card_config(ck), teacher_id=teacher_id,
            description=desc), onnx_path, out)
    return card


def _card_config(ck: dict) -> dict:
    c = ck["config"]
    keep = {"model": c["model"], "optim": {k: c["optim"][k] for k in ("steps", "batch_size", "lr")},
            "steps_done": ck["step"]}
    if ck.get("kind") == "student":
        keep["distill"] = {k: v for k, v in c["distill"].items() if k != "teacher_checkpoint"}
    return keep


def _metrics_from_eval(res: dict, name: str) -> list[Metric]:
    m = res["models"].get(name)
    if m is None:
        return []
    n = len(res["held_out_phantoms"])
    out = [Metric(name="mean_dice", value=m["phantoms"]["all"]["mean_dice"], split="held-out-phantoms-ct+mr", n=2 * n),
           Metric(name="mean_hd95_mm", value=m["phantoms"]["all"]["mean_hd95"], split="held-out-phantoms-ct+mr",
                  n=2 * n)]
    for mod in ("CT", "MR"):
        if mod in m["phantoms"]:
            out.append(Metric(name="mean_dice", value=m["phantoms"][mod]["mean_dice"],
                              split=f"held-out-phantoms-{mod.lower()}", n=n))
    for lb, v in m["phantoms"]["all"]["dice"].items():
        out.append(Metric(name="dice", value=v, split="held-out-phantoms-ct+mr", label=lb, n=2 * n))
    for lb, v in m["phantoms"]["all"]["hd95"].items():
        out.append(Metric(name="hd95_mm", value=v, split="held-out-phantoms-ct+mr", label=lb, n=2 * n))
    if "dice" in m.get("ratios", {}):
        out.append(Metric(name="dice_ratio_to_teacher", value=m["ratios"]["dice"], split="held-out-phantoms-ct+mr"))
    for vol, r in (m.get("real") or {}).items():
        split = f"totalsegmentator-{vol.split('.')[0]}"
        out.append(Metric(name="mean_dice_vs_totalsegmentator", value=r["mean_dice"], split=split, n=1))
        for lb, v in r["dice"].items():
            out.append(Metric(name="dice_vs_totalsegmentator", value=v, split=split, label=lb, n=1))
    return out
