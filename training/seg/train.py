"""Teacher training and student distillation loops: resumable checkpoints, fixed seeds, optional torchrun DDP.

Both loops are jobs (generators yielding :class:`Progress`). A run folder holds ``checkpoint.pt`` (written
atomically every ``ckpt_every`` steps and at the end), ``log.jsonl`` (one line of loss terms per ``log_every``
steps) and ``config.json``. Running the same command again resumes from the checkpoint.

Multi-GPU: under ``torchrun`` (``WORLD_SIZE`` > 1) each process trains on its own random stream with DDP
gradient averaging (NCCL on GPUs, gloo on CPU) and rank 0 writes. Without torchrun it is one process.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from medpriv_desktop.core.fileio import atomic_path, atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress
from training.seg.config import SegConfig
from training.seg.labels import N_SEG
from training.seg.losses import DiceCELoss, DistillLoss
from training.seg.networks import NetConfig, UNet3D


def teacher_net_config(cfg: SegConfig) -> NetConfig:
    """Network config of the teacher of this config."""
    m = cfg.model
    return NetConfig(1, N_SEG, m.n_stages, m.base, m.max_channels, 1.0)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed torch and return a numpy generator for the data."""
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


class DistributedContext:
    """torchrun-aware process group: ``world == 1`` (no group) on a plain run."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = torch.device("cpu")
        if self.world > 1:
            import torch.distributed as dist

            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
            if torch.cuda.is_available():
                local = int(os.environ.get("LOCAL_RANK", "0"))
                torch.cuda.set_device(local)
                self.device = torch.device("cuda", local)
        elif torch.cuda.is_available():
            self.device = torch.device("cuda")

    def wrap(self, model: nn.Module) -> nn.Module:
        """DDP-wrapped model under torchrun, the model itself otherwise."""
        model.to(self.device)
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            return DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda"
                                           else None, find_unused_parameters=True)
        return model

    @property
    def main(self) -> bool:
        """True on the process that writes files."""
        return self.rank == 0

    def close(self) -> None:
        """Leave the process group."""
        if self.world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


def _lr(step: int, total: int, base: float, warmup: int, time_fraction: float = 0.0) -> float:
    """Linear warm-up, then nnU-Net's poly decay ``base * (1 - progress)^0.9``.

    ``progress`` is the larger of the step fraction and ``time_fraction`` (elapsed / ``optim.max_minutes`` when
    ``optim.time_schedule`` is on), so a run cut by its time budget still ends with a decayed learning rate.
    """
    if step < warmup:
        return base * (step + 1) / warmup
    progress = max((step - warmup) / max(1, total - warmup), time_fraction)
    return base * max(0.0, 1 - progress) ** 0.9


def _save(path: Path, state: dict) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint dict (``model``, ``net``, ``step``...), loaded on CPU."""
    return torch.load(str(path), map_location="cpu", weights_only=False)


def model_from_checkpoint(path: str | Path) -> UNet3D:
    """The network stored in a checkpoint, in eval mode."""
    ck = load_checkpoint(path)
    net = UNet3D(NetConfig(**ck["net"]))
    net.load_state_dict(ck["model"])
    return net.eval()


def checkpoint_from_onnx(onnx_path: str | Path, net_cfg: NetConfig, out: str | Path) -> Path:
    """A warm-start checkpoint (``optim.init_checkpoint``) from a bundle's ONNX weights.

    The export keeps the torch parameter names as ONNX initialisers (float16 ones are stored as ``name_fp16`` with
    a Cast), so the state dict maps back name for name; shapes are checked by ``load_state_dict``.
    """
    import onnx
    from onnx import numpy_helper

    inits = {}
    for init in onnx.load(str(onnx_path)).graph.initializer:
        name = init.name[: -len("_fp16")] if init.name.endswith("_fp16") else init.name
        inits[name] = torch.from_numpy(numpy_helper.to_array(init).astype(np.float32))
    net = UNet3D(net_cfg)
    state = {k: inits[k] if k in inits else v for k, v in net.state_dict().items()}
    missing = [k for k, v in net.state_dict().items() if v.dtype.is_floating_point and k not in inits]
    if missing:
        from medpriv_desktop.core.errors import ModelError

        raise ModelError(f"the ONNX file lacks {len(missing)} weights of this network", path=onnx_path)
    net.load_state_dict(state)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save(out, {"model": net.state_dict(), "net": net_cfg.__dict__, "step": 0, "kind": "onnx-import",
                "meta": {"onnx": str(onnx_path)}})
    return out


def _loop(cfg: SegConfig, run_dir: Path, model: nn.Module, extra: nn.Module | None, step_fn, batches,
          ctx: DistributedContext, kind: str, net_cfg: NetConfig, meta: dict,
          rng: np.random.Generator | None = None) -> Job[Path]:
    """Shared optimisation loop; ``step_fn(x, y) -> (loss, terms)``.

    ``rng`` is the generator behind ``batches``: its state is saved in the checkpoint and restored on resume, so a
    resumed run continues the data stream instead of replaying it from the start (``batches`` must not have drawn
    anything yet when the loop starts; both streams draw lazily).
    """
    o = cfg.optim
    params = list(model.parameters()) + (list(extra.parameters()) if extra is not None else [])
    opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    ck_path = run_dir / "checkpoint.pt"
    step = 0
    spent = 0.0  # minutes of earlier phases of a resumed run
    if ck_path.exists():
        ck = load_checkpoint(ck_path)
        spent = float(ck.get("minutes", 0.0))
        (model.module if hasattr(model, "module") else model).load_state_dict(ck["model"])
        if extra is not None and ck.get("extra"):
            extra.load_state_dict(ck["extra"])
        opt.load_state_dict(ck["opt"])
        step = int(ck["step"])
        torch.set_rng_state(ck["torch_rng"])
        if rng is not None and ck.get("data_rng") is not None:
            rng.bit_generator.state = ck["data_rng"]
        yield Progress(step / o.steps, f"resumed {kind} at step {step}")
    elif o.init_checkpoint:
        init = load_checkpoint(o.init_checkpoint)
        if NetConfig(**init["net"]) != net_cfg:
            from medpriv_desktop.core.errors import ConfigError

            raise ConfigError("optim.init_checkpoint holds another network shape", path=o.init_checkpoint)
        (model.module if hasattr(model, "module") else model).load_state_dict(init["model"])
        yield Progress(0.0, f"{kind} initialised from {o.init_checkpoint} (step {init['step']})")
    t0 = time.monotonic()
    start_step = step

    def save() -> None:
        if ctx.main:
            inner = model.module if hasattr(model, "module") else model
            _save(ck_path, {"minutes": spent + (time.monotonic() - t0) / 60, "model": inner.state_dict(),
                            "extra": extra.state_dict() if extra is not None else None,
                            "opt": opt.state_dict(), "step": step, "net": net_cfg.__dict__, "kind": kind,
                            "config": cfg.to_dict(), "torch_rng": torch.get_rng_state(), "meta": meta,
                            "data_rng": rng.bit_generator.state if rng is not None else None})

    def time_fraction(minutes: float) -> float:
        return minutes / o.max_minutes if o.time_schedule and o.max_minutes else 0.0

    log = open(run_dir / "log.jsonl", "a", encoding="utf-8") if ctx.main else None
    try:
        model.train()
        while step < o.steps:
            x, y = next(batches)
            x = torch.from_numpy(x).to(ctx.device)
            y = torch.from_numpy(y).to(ctx.device)
            for g in opt.param_groups:
                g["lr"] = _lr(step, o.steps, o.lr, o.warmup, time_fraction(spent + (time.monotonic() - t0) / 60))
            loss, terms = step_fn(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 12.0)
            opt.step()
            step += 1
            if log is not None and (step % o.log_every == 0 or step == 1):
                rec = {"step": step, "loss": float(loss.detach()), **terms, "lr": opt.param_groups[0]["lr"],
                       "sec": round(time.monotonic() - t0, 1)}
                log.write(json.dumps(rec) + "\n")
                log.flush()
            if step % o.ckpt_every == 0:
                save()
            minutes = (time.monotonic() - t0) / 60
            yield Progress(step / o.steps, f"{kind} step {step}/{o.steps} loss {float(loss.detach()):.3f}")
            total_minutes = spent + minutes if o.time_schedule else minutes
            if o.max_minutes is not None and total_minutes >= o.max_minutes and step > start_step:
                yield Progress(step / o.steps, f"time budget reached at step {step}")
                break
        save()
        if ctx.main:
            atomic_write_text(run_dir / "done.json", json.dumps({"step": step, "kind": kind}))
    finally:
        if log is not None:
            log.close()
    return ck_path


def _prepare(cfg: SegConfig) -> tuple[Path, DistributedContext, np.random.Generator]:
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, cfg.optim.threads))
    ctx = DistributedContext()
    rng = seed_everything(cfg.data.seed + 1000 * ctx.rank)
    if ctx.main:
        atomic_write_text(run_dir / "config.json", json.dumps(cfg.to_dict(), indent=2))
    return run_dir, ctx, rng


def _batches(cfg: SegConfig, rng: np.random.Generator):
    if cfg.data.source == "msd":
        from training.seg.data import CaseStream
        from training.seg.msd import iter_msd_cases

        cases = list(iter_msd_cases(cfg.data.msd_dir, with_labels=not cfg.distill.pseudo_label))
        return CaseStream(cases, cfg, rng).batches()
    from training.seg.data import MixedStream, PhantomStream

    if cfg.data.templates:
        return MixedStream(cfg, rng).batches()
    return PhantomStream(cfg, rng).batches()


def train_teacher(cfg: SegConfig) -> Job[Path]:
    """Train the teacher with Dice + CE; returns the checkpoint path."""
    run_dir, ctx, rng = _prepare(cfg)
    net_cfg = teacher_net_config(cfg)
    net = UNet3D(net_cfg)
    model = ctx.wrap(net)
    crit = DiceCELoss(N_SEG)

    def step_fn(x, y):
        loss = crit(model(x), y)
        return loss, {"seg": float(loss.detach())}

    try:
        return (yield from _loop(cfg, run_dir, model, None, step_fn, _batches(cfg, rng), ctx, "teacher", net_cfg,
                                 {}, rng))
    finally:
        ctx.close()


def distill_student(cfg: SegConfig) -> Job[Path]:
    """Distil a width-scaled student from a frozen teacher checkpoint; returns the student checkpoint path.

    Only the student (and the region-loss projections) are optimised: the teacher runs in eval mode under
    ``torch.no_grad`` with ``requires_grad`` off. In pseudo-label mode the labels are the teacher's argmax.
    """
    d = cfg.distill
    if not d.teacher_checkpoint or not Path(d.teacher_checkpoint).exists():
        from medpriv_desktop.core.errors import ConfigError

        raise ConfigError("distill.teacher_checkpoint must name an existing teacher checkpoint",
                          path=d.teacher_checkpoint)
    run_dir, ctx, rng = _prepare(cfg)
    teacher = model_from_checkpoint(d.teacher_checkpoint).to(ctx.device)
    for p in teacher.parameters():
        p.requires_grad_(False)
    net_cfg = teacher.cfg.scaled(d.width_fraction, d.min_channels)
    student = UNet3D(net_cfg)
    if d.init_from_teacher:
        from training.seg.networks import select_weights

        select_weights(student, teacher)  # a resumed or warm-started run overwrites this with its checkpoint
    model = ctx.wrap(student)
    crit = DistillLoss(N_SEG, student.feature_channels(), teacher.feature_channels(), d.w_seg, d.w_kd, d.w_region,
                       d.w_context, d.temperature, d.region_levels, d.context_levels, d.max_positions).to(ctx.device)

    def step_fn(x, y):
        with torch.no_grad():
            t_logits, t_feats = teacher(x, return_features=True)
        if d.pseudo_label:
            y = t_logits.argmax(1)
        s_logits, s_feats = model(x, return_features=True)
        return crit(s_logits, s_feats, t_logits, t_feats, y)

    meta = {"teacher_checkpoint": str(d.teacher_checkpoint)}
    try:
        return (yield from _loop(cfg, run_dir, model, crit, step_fn, _batches(cfg, rng), ctx, "student", net_cfg,
                                 meta, rng))
    finally:
        ctx.close()


def budget_note(steps: int, minutes: float) -> str:
    """Human note on how far a run got."""
    return f"{steps} steps in {minutes:.0f} min" if math.isfinite(minutes) else f"{steps} steps"
