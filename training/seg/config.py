"""Configuration of segmentation training, read from YAML (``training/configs/seg_*.yaml``).

Unknown keys are refused with a "did you mean" hint, so a typo in a config cannot silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from medpriv_desktop.core.errors import ConfigError, did_you_mean
from medpriv_desktop.core.models.card import IntensityNormalization

#: Card normalisation per modality, shared with the app through the card.
CT_NORM = IntensityNormalization(kind="ct-clip-zscore", clip_min=-1000.0, clip_max=1000.0, mean=-100.0, std=400.0)
MR_NORM = IntensityNormalization(kind="percentile-zscore", percentile_low=0.5, percentile_high=99.5)


@dataclass
class DataConfig:
    """Where the training volumes come from."""

    source: str = "phantom"  # phantom | msd
    phantom_dir: str = "runs/seg/phantoms"
    phantom_spacing_mm: float = 1.5  # fine grid of the stored phantoms; the model spacing must be a multiple of it
    n_phantoms: int = 48
    n_val_phantoms: int = 6
    seed: int = 1234
    msd_dir: str | None = None  # nnU-Net raw / MSD dataset folder for source == "msd"
    modalities: list[str] = field(default_factory=lambda: ["CT", "MR"])
    mr_fraction: float = 0.5
    patches_per_volume: int = 4
    foreground_oversample: float = 0.5
    # Real label maps as templates (training/seg/templates.py): ids of TEMPLATE_FILES, mixed with the phantoms.
    templates: list[str] = field(default_factory=list)
    template_data_dir: str | None = None  # shared data folder; default MEDPRIV_DATA or ../shared/data
    template_fraction: float = 0.5  # share of training volumes drawn from a template instead of a phantom
    template_real_fraction: float = 0.5  # of those, the share that is the deformed real image (else synthesised)
    #: Of the deformed real images, the share whose structures each get a new mean intensity (SynthSeg-style,
    #: on the real texture; ``templates.relabel_intensities``). 0: off, as the 2.1.0 recipe was trained.
    template_label_intensity_p: float = 0.0


@dataclass
class ModelConfig:
    """Network family (teacher width; students are fractions of it)."""

    n_stages: int = 5
    base: int = 16
    max_channels: int = 320
    spacing_mm: float = 3.0
    patch: list[int] = field(default_factory=lambda: [48, 48, 48])


@dataclass
class OptimConfig:
    """Optimiser and schedule."""

    steps: int = 2000
    batch_size: int = 2
    lr: float = 2e-3
    weight_decay: float = 1e-5
    warmup: int = 50
    max_minutes: float | None = None  # stop early (and keep the checkpoint) after this wall time
    # With max_minutes: the poly schedule runs on max(step / steps, minutes / max_minutes), counting the minutes
    # of earlier phases of a resumed run, so a time-capped CPU run still ends at a learning rate near zero.
    time_schedule: bool = False
    ckpt_every: int = 100
    log_every: int = 10
    threads: int = 1
    # Warm start: a checkpoint whose weights (only) initialise a *new* run; the optimiser, step count and time
    # schedule start fresh (resuming the same run_dir instead would inherit a schedule already at its end).
    init_checkpoint: str | None = None


@dataclass
class DistillConfig:
    """Student width and loss weights (a zero weight switches a term off)."""

    width_fraction: float = 0.25
    init_from_teacher: bool = False  # weight selection: start the student from the teacher's leading channels
    min_channels: int = 2  # floor of every student stage's width (8 keeps a 16-class head learnable; see NetConfig)
    w_seg: float = 1.0
    w_kd: float = 1.0
    w_region: float = 1.0
    w_context: float = 1.0
    temperature: float = 2.0
    region_levels: list[int] | None = None
    context_levels: list[int] | None = field(default_factory=lambda: [0, 1, 2])
    max_positions: int = 2048
    pseudo_label: bool = False  # distil on unlabelled images, using the teacher's argmax as labels
    teacher_checkpoint: str | None = None


@dataclass
class SegConfig:
    """Everything one training or distillation run needs."""

    run_dir: str = "runs/seg/teacher"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for checkpoints and cards)."""
        return dataclasses.asdict(self)


def _build(cls, raw: dict[str, Any], where: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in (raw or {}).items():
        if key not in names:
            raise ConfigError(f"unknown key '{where}{key}'", hint=did_you_mean(key, list(names)))
        ftype = names[key].type
        sub = {"DataConfig": DataConfig, "ModelConfig": ModelConfig, "OptimConfig": OptimConfig,
               "DistillConfig": DistillConfig}.get(ftype if isinstance(ftype, str) else getattr(ftype, "__name__", ""))
        kwargs[key] = _build(sub, value, f"{where}{key}.") if sub else value
    return cls(**kwargs)


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> SegConfig:
    """Read a YAML config (or the defaults when ``path`` is None) and apply dotted ``overrides``."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("config file not found", path=p)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML ({exc.__class__.__name__})", path=p) from None
    for dotted, value in (overrides or {}).items():
        node = raw
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _build(SegConfig, raw, "")
