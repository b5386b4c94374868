"""Loss ablation on a small budget: the same student, data stream and teacher, with loss terms switched on/off.

Arms (weights of seg, kd, region, context): ``seg`` (1,0,0,0), ``seg+kd`` (1,1,0,0), ``seg+region`` (1,0,1,0),
``seg+context`` (1,0,0,1), ``all`` (1,1,1,1). Every arm starts from the same seed and draws the same patches, so
differences come from the losses. Each arm is scored by Dice / HD95 on held-out phantoms (CT and MR-like).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress, run_job, scaled
from training.seg.config import SegConfig

ARMS: dict[str, tuple[float, float, float, float]] = {
    "seg": (1, 0, 0, 0), "seg+kd": (1, 1, 0, 0), "seg+region": (1, 0, 1, 0), "seg+context": (1, 0, 0, 1),
    "all": (1, 1, 1, 1),
}


def run_ablation(cfg: SegConfig, out_dir: Path, arms: list[str] | None = None, n_cases: int = 2) -> Job[dict]:
    """Distil one student per arm into ``out_dir/<arm>`` and evaluate; writes ablation.json / ablation.md."""
    import tempfile

    from training.seg.evaluate import evaluate_phantoms, heldout_cases, onnx_predictor
    from training.seg.export import export_onnx
    from training.seg.train import distill_student, model_from_checkpoint

    arms = arms or list(ARMS)
    out_dir.mkdir(parents=True, exist_ok=True)
    res_path = out_dir / "ablation.json"
    results = json.loads(res_path.read_text()) if res_path.exists() else {}
    d = cfg.data
    val = list(range(d.n_phantoms - d.n_val_phantoms, d.n_phantoms))[:n_cases]
    cases = list(heldout_cases(d.phantom_dir, val, spacing=cfg.model.spacing_mm,
                               phantom_spacing=d.phantom_spacing_mm))
    for k, arm in enumerate(arms):
        if arm in results:
            continue  # resumable: finished arms are kept
        w = ARMS[arm]
        dist = dataclasses.replace(cfg.distill, w_seg=w[0], w_kd=w[1], w_region=w[2], w_context=w[3])
        arm_cfg = dataclasses.replace(cfg, run_dir=str(out_dir / arm.replace("+", "_")), distill=dist)
        t0 = time.monotonic()
        ck = yield from scaled(distill_student(arm_cfg), k / len(arms), (k + 0.8) / len(arms), f"{arm}: ")
        minutes = (time.monotonic() - t0) / 60
        from training.seg.train import load_checkpoint

        steps_done = int(load_checkpoint(ck)["step"])  # may be below optim.steps if the safety stop hit
        net = model_from_checkpoint(ck)
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = export_onnx(net, Path(tmp) / "m.onnx", tuple(cfg.model.patch))
            ev = run_job(evaluate_phantoms(onnx_predictor(onnx_path), tuple(cfg.model.patch), cases,
                                           cfg.model.spacing_mm))
        results[arm] = {"weights": dict(zip(("seg", "kd", "region", "context"), w)), "minutes": round(minutes, 1),
                        "steps": steps_done, **{s: ev[s] for s in ("all", "CT", "MR") if s in ev}}
        atomic_write_text(res_path, json.dumps(results, indent=1))
        yield Progress((k + 1) / len(arms), f"{arm}: mean Dice {ev['all']['mean_dice']:.3f}")
    atomic_write_text(out_dir / "ablation.md", to_markdown(results, val))
    return results


SMALL = ("adrenal_gland_left", "adrenal_gland_right", "gallbladder", "aorta")


def to_markdown(results: dict, val: list[int]) -> str:
    """One row per arm: mean Dice (all, CT, MR), mean Dice of the small structures, mean HD95, minutes."""
    lines = [f"Held-out phantoms {val} as CT and MR-like; student width 1/4.", "",
             "| arm | seg | kd | region | context | Dice all | Dice CT | Dice MR | Dice small structures | "
             "HD95 mm | steps | minutes |", "|" + "---|" * 12]
    for arm, r in results.items():
        w = r["weights"]
        small = [r["all"]["dice"][s] for s in SMALL if s in r["all"]["dice"]]
        lines.append(f"| {arm} | {w['seg']:g} | {w['kd']:g} | {w['region']:g} | {w['context']:g} | "
                     f"{r['all']['mean_dice']:.3f} | {r.get('CT', {}).get('mean_dice', 0):.3f} | "
                     f"{r.get('MR', {}).get('mean_dice', 0):.3f} | {sum(small) / max(len(small), 1):.3f} | "
                     f"{r['all']['mean_hd95']:.1f} | {r['steps']} | {r['minutes']} |")
    return "\n".join(lines) + "\n"
