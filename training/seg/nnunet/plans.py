"""Read an nnU-Net v2 trained-model folder: ``plans.json``, ``dataset.json`` and the fold checkpoints' paths.

Axis conventions. nnU-Net never reorients: it reads an image as SimpleITK does, so its arrays are the image's voxel
axes reversed, ``(k, j, i)``, and then applies ``transpose_forward``. Network axis ``p`` is therefore voxel axis
``2 - transpose_forward[p]``. The bundle's input axes are the voxel axes ``(i, j, k)`` of the images the model was
trained on, whose directions the importer is told (``--orientation``, default RAS: TotalSegmentator reorients every
image to RAS before nnU-Net sees it). ``spacing`` and ``patch_size`` in the plans are in network order; the card
wants them in voxel-axis order: :func:`to_card_order`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import ModelError

PLANS_FILE = "plans.json"
DATASET_FILE = "dataset.json"
CHECKPOINTS = {"final": "checkpoint_final.pth", "best": "checkpoint_best.pth"}
#: Keys of a pre-2.4 configuration that describe the network (2.4+ moved them under ``architecture``).
_OLD_ARCH_KEYS = ("UNet_class_name", "UNet_base_num_features", "unet_max_num_features", "n_conv_per_stage_encoder",
                  "n_conv_per_stage_decoder", "pool_op_kernel_sizes", "conv_kernel_sizes")
_LAYER_KEYS = ("conv_op", "norm_op", "dropout_op", "nonlin")
_OLD_CLASSES = {"PlainConvUNet": "n_conv_per_stage", "ResidualEncoderUNet": "n_blocks_per_stage"}
#: nnU-Net normalisation schemes the bundle can express, and the card kind each becomes.
NORMALIZATIONS = {"CTNormalization": "ct-clip-zscore", "ZScoreNormalization": "zscore", "NoNormalization": "none"}


class NnunetImportError(ModelError):
    """An nnU-Net folder that cannot become a bundle: missing file, unsupported plan or label set."""


@dataclass(frozen=True)
class CtIntensity:
    """CTNormalization's fixed statistics: clip to [low, high], then (x - mean) / std."""

    low: float
    high: float
    mean: float
    std: float


@dataclass
class NnunetPart:
    """One trained-model folder (one class subset of a merged model), ready to build and export."""

    folder: Path
    dataset_name: str
    trainer: str
    plans_name: str
    configuration: str
    arch_class: str  # short class name, e.g. "PlainConvUNet"
    arch_kwargs: dict[str, Any]
    patch_net: tuple[int, int, int]
    spacing_net: tuple[float, float, float]
    transpose_forward: tuple[int, int, int]
    normalization: str  # nnU-Net scheme name
    channel_name: str
    ct: CtIntensity | None
    use_mask_for_norm: bool
    labels: list[tuple[str, int]]  # (name, value) without background, by value
    checkpoints: list[Path] = field(default_factory=list)
    folds: list[str] = field(default_factory=list)

    @property
    def n_outputs(self) -> int:
        """Output channels of the network (background + labels)."""
        return len(self.labels) + 1

    @property
    def card_axis_of_net(self) -> tuple[int, int, int]:
        """For each network axis p, the voxel axis (0 = i ... 2 = k) it runs along."""
        return tuple(2 - t for t in self.transpose_forward)  # type: ignore[return-value]

    @property
    def patch_card(self) -> tuple[int, int, int]:
        """Patch size in voxel-axis order (i, j, k)."""
        return to_card_order(self.patch_net, self.card_axis_of_net)  # type: ignore[return-value]

    @property
    def spacing_card(self) -> tuple[float, float, float]:
        """Spacing in voxel-axis order (i, j, k), mm."""
        return to_card_order(self.spacing_net, self.card_axis_of_net)  # type: ignore[return-value]


def to_card_order(values, card_axis_of_net) -> tuple:
    """Reorder per-network-axis values into voxel-axis order."""
    out = [None, None, None]
    for p, c in enumerate(card_axis_of_net):
        out[c] = values[p]
    return tuple(out)


def _load_json(path: Path) -> dict:
    if not path.is_file():
        raise NnunetImportError(f"{path.name} is missing from the nnU-Net folder", path=path.parent,
                                hint="give the <Dataset>/<Trainer>__<Plans>__<Configuration> folder itself")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NnunetImportError(f"{path.name} is not readable JSON ({type(exc).__name__})", path=path) from None
    if not isinstance(data, dict):
        raise NnunetImportError(f"{path.name} does not hold a JSON object", path=path)
    return data


def resolve_configuration(plans: dict, name: str, path: Path) -> dict:
    """The configuration ``name`` with ``inherits_from`` resolved (a child's keys win)."""
    configs = plans.get("configurations") or {}
    seen: list[str] = []
    chain: list[dict] = []
    while name is not None:
        if name in seen:
            raise NnunetImportError(f"configurations inherit from each other in a loop ({' -> '.join(seen)})",
                                    path=path)
        if name not in configs:
            raise NnunetImportError(f"the plans have no configuration '{name}' (they have {sorted(configs)})",
                                    path=path)
        seen.append(name)
        chain.append(configs[name])
        name = configs[name].get("inherits_from")
    out: dict = {}
    for cfg in reversed(chain):
        out.update(cfg)
    return out


def architecture(cfg: dict, path: Path) -> tuple[str, dict[str, Any]]:
    """``(class short name, arch_kwargs)`` from either plans schema; pre-2.4 keys are translated as nnunetv2 does."""
    if "architecture" in cfg:
        arch = cfg["architecture"]
        name = str(arch.get("network_class_name", "")).rsplit(".", 1)[-1]
        kwargs = dict(arch.get("arch_kwargs") or {})
        # Only the four layer types are resolved (from an allow-list, network.py); any other importable name is
        # refused rather than located, because locating a name imports and runs code.
        other = [k for k in arch.get("_kw_requires_import") or [] if k not in _LAYER_KEYS and kwargs.get(k)]
        if other:
            raise NnunetImportError(f"the plans ask to import {other}; only {list(_LAYER_KEYS)} are resolved",
                                    path=path)
        return name, kwargs
    missing = [k for k in _OLD_ARCH_KEYS if k not in cfg]
    if missing:
        raise NnunetImportError(f"the configuration has neither 'architecture' nor the pre-2.4 keys {missing}",
                                path=path)
    name = cfg["UNet_class_name"]
    if name not in _OLD_CLASSES:
        raise NnunetImportError(f"pre-2.4 plans name the network '{name}'; only {sorted(_OLD_CLASSES)} are known",
                                path=path)
    n = len(cfg["n_conv_per_stage_encoder"])
    kwargs = {
        "n_stages": n,
        "features_per_stage": [min(cfg["UNet_base_num_features"] * 2 ** i, cfg["unet_max_num_features"])
                               for i in range(n)],
        "conv_op": f"torch.nn.Conv{len(cfg['patch_size'])}d",
        "kernel_sizes": cfg["conv_kernel_sizes"], "strides": cfg["pool_op_kernel_sizes"],
        _OLD_CLASSES[name]: cfg["n_conv_per_stage_encoder"],
        "n_conv_per_stage_decoder": cfg["n_conv_per_stage_decoder"], "conv_bias": True,
        "norm_op": f"torch.nn.InstanceNorm{len(cfg['patch_size'])}d",
        "norm_op_kwargs": {"eps": 1e-05, "affine": True}, "dropout_op": None, "dropout_op_kwargs": None,
        "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True},
    }
    return name, kwargs


def read_labels(ds: dict, path: Path) -> list[tuple[str, int]]:
    """Foreground labels ``(name, value)`` by value; refuses region-based label sets and gaps in the values."""
    labels = ds.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise NnunetImportError("dataset.json has no 'labels' table", path=path)
    if "regions_class_order" in ds or any(isinstance(v, (list, tuple)) for v in labels.values()):
        raise NnunetImportError("dataset.json uses region-based labels (sigmoid outputs, overlapping regions); "
                                "only softmax label maps can be imported", path=path)
    pairs = [(str(k), int(v)) for k, v in labels.items() if str(k) != "ignore"]
    pairs.sort(key=lambda kv: kv[1])
    values = [v for _, v in pairs]
    if values != list(range(len(values))):
        raise NnunetImportError(f"label values must be 0..{len(values) - 1} without gaps (found {values[:12]})",
                                path=path)
    return pairs[1:]


def _folds(folder: Path, folds: list[str] | None, ck_name: str) -> tuple[list[str], list[Path]]:
    if folds is None:  # every fold that has the checkpoint, as nnU-Net's predictor does
        found = sorted(p.name[len("fold_"):] for p in folder.glob("fold_*") if (p / ck_name).is_file())
        if not found:
            raise NnunetImportError(f"no fold_*/{ck_name} in the nnU-Net folder", path=folder,
                                    hint="use --checkpoint best, or check that the folder is complete")
        folds = found
    paths = [folder / f"fold_{f}" / ck_name for f in folds]
    for p in paths:
        if not p.is_file():
            raise NnunetImportError(f"{p.parent.name}/{ck_name} is missing", path=folder)
    return list(folds), paths


def read_part(folder: str | Path, folds: list[str] | None = None, checkpoint: str = "final",
              configuration: str | None = None) -> NnunetPart:
    """Read one ``<Trainer>__<Plans>__<Configuration>`` folder into an :class:`NnunetPart`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NnunetImportError("the nnU-Net results folder does not exist", path=folder)
    plans = _load_json(folder / PLANS_FILE)
    ds = _load_json(folder / DATASET_FILE)
    parts = folder.name.split("__")
    trainer, plans_name, cfg_name = (parts + ["", "", ""])[:3] if len(parts) == 3 else ("", "", "")
    cfg_name = configuration or cfg_name
    if not cfg_name:
        raise NnunetImportError("cannot tell the configuration from the folder name (expected "
                                "<Trainer>__<Plans>__<Configuration>)", path=folder)
    cfg = resolve_configuration(plans, cfg_name, folder / PLANS_FILE)
    if len(cfg.get("patch_size", [])) != 3:
        raise NnunetImportError(f"configuration '{cfg_name}' is not 3D; only 3D models can be imported",
                                path=folder / PLANS_FILE)
    if cfg.get("previous_stage") or "cascade" in cfg_name:
        raise NnunetImportError(f"configuration '{cfg_name}' is a cascade stage (it needs another model's output)",
                                path=folder / PLANS_FILE, hint="import a 3d_fullres or 3d_lowres model")
    channels = ds.get("channel_names") or ds.get("modality") or {}
    schemes = list(cfg.get("normalization_schemes", []))
    if len(channels) != 1 or len(schemes) != 1:
        raise NnunetImportError(f"the model takes {max(len(channels), len(schemes))} input channels; the app "
                                "feeds one image", path=folder / DATASET_FILE)
    scheme = schemes[0]
    if scheme not in NORMALIZATIONS:
        raise NnunetImportError(f"normalisation '{scheme}' is not supported (supported: {sorted(NORMALIZATIONS)})",
                                path=folder / PLANS_FILE)
    ct = None
    if scheme == "CTNormalization":
        props = (plans.get("foreground_intensity_properties_per_channel") or {}).get("0")
        try:
            ct = CtIntensity(float(props["percentile_00_5"]), float(props["percentile_99_5"]), float(props["mean"]),
                             float(props["std"]))
        except (TypeError, KeyError, ValueError):
            raise NnunetImportError("CTNormalization needs foreground_intensity_properties_per_channel['0'] with "
                                    "percentile_00_5, percentile_99_5, mean and std", path=folder / PLANS_FILE) \
                from None
    tf = tuple(int(t) for t in plans.get("transpose_forward", (0, 1, 2)))
    if sorted(tf) != [0, 1, 2]:
        raise NnunetImportError(f"transpose_forward {list(tf)} is not a permutation of 0, 1, 2",
                                path=folder / PLANS_FILE)
    arch_class, arch_kwargs = architecture(cfg, folder / PLANS_FILE)
    total = [1, 1, 1]
    for stride in arch_kwargs.get("strides") or []:
        for ax, st in enumerate(stride if isinstance(stride, (list, tuple)) else [stride] * 3):
            total[ax] *= int(st)
    if any(int(p) % t for p, t in zip(cfg["patch_size"], total)):
        raise NnunetImportError(f"patch size {list(cfg['patch_size'])} is not divisible by the network's total "
                                f"stride {total}: the plans are inconsistent", path=folder / PLANS_FILE)
    ck_name = CHECKPOINTS[checkpoint]
    fold_names, ck_paths = _folds(folder, folds, ck_name)
    return NnunetPart(
        folder=folder, dataset_name=str(plans.get("dataset_name") or folder.parent.name), trainer=trainer,
        plans_name=str(plans.get("plans_name") or plans_name), configuration=cfg_name, arch_class=arch_class,
        arch_kwargs=arch_kwargs, patch_net=tuple(int(p) for p in cfg["patch_size"]),  # type: ignore[arg-type]
        spacing_net=tuple(float(s) for s in cfg["spacing"]), transpose_forward=tf,  # type: ignore[arg-type]
        normalization=scheme, channel_name=str(next(iter(channels.values()))), ct=ct,
        use_mask_for_norm=bool((cfg.get("use_mask_for_norm") or [False])[0]),
        labels=read_labels(ds, folder / DATASET_FILE), checkpoints=ck_paths, folds=fold_names)
