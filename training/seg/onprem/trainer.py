"""Training one student on the teacher cache: random patches, the distillation loss, checkpoints, resume.

Each step draws its patches from a generator seeded with ``(seed, step)``, so a resumed run sees exactly the data an
uninterrupted one would. A checkpoint (network, projections, optimiser, step, minutes spent) is written every
``ckpt_every`` steps and whenever the job is stopped between two steps (Ctrl+C, Cancel, a killed generator), and the
run stops at ``steps`` or after ``max_minutes`` of training, whichever comes first (counted across resumes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from medpriv_desktop.core.jobs import Job, Progress
from training.seg.onprem.cache import CachedScan
from training.seg.onprem.students import FeatureTap, SiteDistillLoss, build_student, teacher_levels


@dataclass
class TrainSpec:
    """What one student is trained with (recorded on its card)."""

    channels: list[int]
    patch: tuple[int, int, int]
    steps: int
    max_minutes: float | None
    weights: dict[str, float]
    temperature: float = 2.0
    lr: float = 3e-3
    batch_size: int = 2
    seed: int = 0
    ckpt_every: int = 25


def sample_batch(scans: list[CachedScan], patch, batch_size: int, rng: np.random.Generator):
    """Random patches (even corners, so the 2x-averaged teacher features line up) from random scans."""
    imgs, logps, feats = [], [], []
    for _ in range(batch_size):
        scan = scans[int(rng.integers(len(scans)))]
        start = [2 * int(rng.integers(0, max(0, n - p) // 2 + 1)) for n, p in zip(scan.shape, patch)]
        img, logp, f = scan.patch(start, patch)
        imgs.append(img[None])
        logps.append(logp)
        feats.append(f)
    img = torch.from_numpy(np.stack(imgs))
    logp = torch.from_numpy(np.stack(logps))
    ft = torch.from_numpy(np.stack(feats)) if feats[0] is not None else None
    return img, logp, ft


def _save(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    tmp.replace(path)


def train_student(scans: list[CachedScan], out_dir: Path, spec: TrainSpec, n_classes: int) -> Job[dict]:
    """Train (or resume, or return at once when finished) the student of ``spec``; returns its summary dict."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ck_path = out_dir / "checkpoint.pt"
    torch.manual_seed(spec.seed)
    net = build_student(n_classes, spec.channels)
    tap = FeatureTap(net, len(spec.channels))
    meta = scans[0].meta
    pool = meta.get("feature_pool", 2)
    t_channels = [meta["feature_channels"] or n_classes] * len(tap.scales)
    loss_fn = SiteDistillLoss(n_classes, tap.channels(spec.channels), t_channels, spec.weights, spec.temperature)
    params = list(net.parameters()) + list(loss_fn.parameters())
    opt = torch.optim.AdamW(params, lr=spec.lr, weight_decay=1e-5)
    step, elapsed, history = 0, 0.0, []
    if ck_path.exists():
        ck = torch.load(ck_path, weights_only=False)
        net.load_state_dict(ck["net"])
        loss_fn.load_state_dict(ck["loss"])
        opt.load_state_dict(ck["opt"])
        step, elapsed, history = ck["step"], ck["elapsed_s"], ck["history"]
        if ck.get("done"):
            tap.remove()
            return ck["summary"]
    saved_step = step
    t0 = time.perf_counter()
    stopped_by = "steps"
    finished = False

    def state(done: bool, summary: dict | None = None) -> dict:
        return {"net": net.state_dict(), "loss": loss_fn.state_dict(), "opt": opt.state_dict(), "step": step,
                "elapsed_s": elapsed + time.perf_counter() - t0, "history": history, "done": done,
                "summary": summary, "channels": spec.channels}

    try:
        net.train()
        while step < spec.steps:
            if spec.max_minutes is not None and elapsed + time.perf_counter() - t0 >= 60 * spec.max_minutes:
                stopped_by = "max_minutes"
                break
            rng = np.random.default_rng([spec.seed, step])
            img, logp, ft = sample_batch(scans, spec.patch, spec.batch_size, rng)
            labels = logp.argmax(1)
            s_logits = net(img)
            t_feats = teacher_levels(logp, ft, tap.scales, pool)
            loss, terms = loss_fn(s_logits, tap.features(), logp, t_feats, labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 12.0)
            opt.step()
            step += 1
            value = float(loss.detach())
            history.append({"step": step, "loss": value, **terms})
            if step % spec.ckpt_every == 0:
                _save(ck_path, state(False))
                saved_step = step
            yield Progress(step / spec.steps, f"step {step}/{spec.steps} loss {value:.3f}")
        finished = True
    finally:
        if not finished and step != saved_step:
            _save(ck_path, state(False))  # stopped between steps: keep what was learnt
    last = history[-10:]
    summary = {"steps_done": step, "steps_requested": spec.steps, "stopped_by": stopped_by,
               "minutes": round((elapsed + time.perf_counter() - t0) / 60, 3), "channels": spec.channels,
               "final_terms": {k: float(np.mean([h[k] for h in last])) for k in (last[0] if last else {})
                               if k != "step"}}
    _save(ck_path, state(True, summary))
    (out_dir / "log.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    tap.remove()
    return summary


def load_trained(out_dir: Path, n_classes: int) -> torch.nn.Module:
    """The trained student of ``out_dir`` (hooks-free, eval mode) for export."""
    ck = torch.load(out_dir / "checkpoint.pt", weights_only=False)
    net = build_student(n_classes, ck["channels"])
    net.load_state_dict(ck["net"])
    return net.eval()
