"""Tiny nnU-Net v2 results folders made by nnunetv2 itself (no downloads): plans.json in either schema, dataset.json,
and ``fold_N/checkpoint_final.pth`` written by ``nnUNetTrainer.save_checkpoint`` after a few real training steps.

The networks are small (3 stages, 4-8 features, patches of 16-32 voxels) and trained on a synthetic scene (boxes and
balls of distinct intensities), so their weights are non-trivial and their predictions contain every label.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: Intensity properties of the fake CT (HU-like): what nnU-Net's fingerprint step would have measured.
CT_PROPS = {"max": 1500.0, "mean": 60.0, "median": 50.0, "min": -1000.0, "percentile_00_5": -900.0,
            "percentile_99_5": 1100.0, "std": 300.0}


def arch_new(features: list[int], kernels: list[list[int]], strides: list[list[int]]) -> dict:
    """The 2.4+ ``architecture`` block of a PlainConvUNet."""
    n = len(features)
    return {
        "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
        "arch_kwargs": {
            "n_stages": n, "features_per_stage": features, "conv_op": "torch.nn.modules.conv.Conv3d",
            "kernel_sizes": kernels, "strides": strides, "n_conv_per_stage": [2] * n,
            "n_conv_per_stage_decoder": [2] * (n - 1), "conv_bias": True,
            "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d",
            "norm_op_kwargs": {"eps": 1e-05, "affine": True}, "dropout_op": None, "dropout_op_kwargs": None,
            "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True}},
        "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
    }


def write_plans(path: Path, *, dataset: str, patch: list[int], spacing: list[float], schema: str = "new",
                base: int = 4, max_features: int = 8, n_stages: int = 3, transpose: list[int] | None = None,
                norm: str = "CTNormalization", strides: list[list[int]] | None = None,
                ct_props: dict | None = None) -> dict:
    """Write a plans.json for one ``3d_fullres`` configuration; ``schema`` "old" = pre-2.4 keys."""
    transpose = transpose or [0, 1, 2]
    back = [transpose.index(i) for i in range(3)]
    strides = strides or [[1, 1, 1]] + [[2, 2, 2]] * (n_stages - 1)
    kernels = [[3, 3, 3]] * n_stages
    features = [min(base * 2 ** i, max_features) for i in range(n_stages)]
    cfg = {
        "data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor", "batch_size": 2,
        "patch_size": patch, "median_image_size_in_voxels": [p * 2 for p in patch], "spacing": spacing,
        "normalization_schemes": [norm], "use_mask_for_norm": [False],
        "resampling_fn_data": "resample_data_or_seg_to_shape", "resampling_fn_seg": "resample_data_or_seg_to_shape",
        "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
        "resampling_fn_seg_kwargs": {"is_seg": True, "order": 1, "order_z": 0, "force_separate_z": None},
        "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
        "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None},
        "batch_dice": True,
    }
    if schema == "new":
        cfg["architecture"] = arch_new(features, kernels, strides)
    else:
        cfg.update({"UNet_class_name": "PlainConvUNet", "UNet_base_num_features": base,
                    "unet_max_num_features": max_features, "n_conv_per_stage_encoder": [2] * n_stages,
                    "n_conv_per_stage_decoder": [2] * (n_stages - 1), "num_pool_per_axis": [n_stages - 1] * 3,
                    "pool_op_kernel_sizes": strides, "conv_kernel_sizes": kernels})
    plans = {
        "dataset_name": dataset, "plans_name": "nnUNetPlans",
        "original_median_spacing_after_transp": spacing, "original_median_shape_after_transp": [64, 64, 64],
        "image_reader_writer": "SimpleITKIO", "transpose_forward": transpose, "transpose_backward": back,
        "configurations": {"3d_fullres": cfg}, "experiment_planner_used": "ExperimentPlanner",
        "label_manager": "LabelManager", "foreground_intensity_properties_per_channel": {"0": ct_props or CT_PROPS},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plans, indent=1))
    return plans


def write_dataset_json(path: Path, labels: dict, channel: str = "CT") -> dict:
    """A dataset.json with ``labels`` ({name: value}) and one input channel."""
    ds = {"channel_names": {"0": channel}, "labels": labels, "numTraining": 4, "file_ending": ".nii.gz"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ds, indent=1))
    return ds


@contextmanager
def nnunet_paths(root: Path):
    """nnU-Net's three folder variables pointed inside ``root`` for the duration (restored afterwards)."""
    keys = ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")
    old = {k: os.environ.get(k) for k in keys}
    for k in keys:
        (root / k).mkdir(parents=True, exist_ok=True)
        os.environ[k] = str(root / k)
    os.environ.setdefault("nnUNet_compile", "false")
    try:
        yield root / "nnUNet_results"
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: HU of each structure name in the synthetic scenes (a merged test puts several parts' structures in one scene).
NAME_HU = {"a": 800.0, "b": -800.0, "liver": 800.0, "spleen": -800.0, "kidney": 450.0}


def scene(shape_zyx: tuple[int, int, int], labels: dict[int, float], seed: int,
          scale_zyx: tuple[int, int, int] | None = None, copies: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A CT-like image (z, y, x) and its label map: ``copies`` ellipsoids per label value at its HU (``labels``)
    with radii of 18-30% of ``scale_zyx`` (default: the shape; give the patch size for volumes larger than a tile),
    on a soft-tissue background with a gradient along x and noise."""
    rng = np.random.default_rng(seed)
    scale = scale_zyx or shape_zyx
    seg = np.zeros(shape_zyx, np.int16)
    zz, yy, xx = np.meshgrid(*[np.arange(n) for n in shape_zyx], indexing="ij")
    hu = np.full(shape_zyx, 20.0, np.float32) + 40.0 * (xx / shape_zyx[2])  # a gradient: x is not y is not z
    for _ in range(copies):
        for lab, value in sorted(labels.items(), reverse=True):  # label 1 on top: every label keeps a large part
            c = [rng.uniform(0.2, 0.8) * n for n in shape_zyx]
            r = [rng.uniform(0.18, 0.3) * n for n in scale]
            inside = ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2 <= 1.0
            seg[inside] = lab
            hu[inside] = value
    hu += rng.normal(0, 60.0, shape_zyx).astype(np.float32)
    hu[hu == 0] = 1.0  # nnU-Net crops to non-zero voxels: keep the whole field of view
    return hu.astype(np.float32), seg


def train_fold(folder: Path, fold: int, *, steps: int = 32, seed: int = 0, mirroring: bool = False,
               lr: float = 0.01, tries: int = 3) -> Path:
    """Train a fold with nnunetv2's own trainer for ``steps`` steps and save it as nnU-Net does.

    The trainer runs its real ``train_step`` / ``validation_step`` / epoch hooks on batches of the synthetic scene
    (already normalised, as nnU-Net's data loader would give them), so the checkpoint holds what a real one holds:
    network weights, optimizer state, the logger with numpy values, init args, trainer name and mirroring axes.
    A few dozen steps sometimes leave a network predicting background only; then it trains again from another seed
    (up to ``tries`` times), so that every label is predicted somewhere.
    """
    for attempt in range(tries):
        tr = _train_once(folder, fold, steps, seed + 101 * attempt, mirroring, lr)
        if min(float(d) for d in tr.logger.get_value("dice_per_class_or_region", step=-1)) > 0.3:
            break
    tr.save_checkpoint(str(Path(tr.output_folder) / "checkpoint_final.pth"))
    return Path(tr.output_folder)


def _train_once(folder: Path, fold: int, steps: int, seed: int, mirroring: bool, lr: float):
    import torch
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    plans = json.loads((folder / "plans.json").read_text())
    ds = json.loads((folder / "dataset.json").read_text())
    torch.manual_seed(seed)
    plans["continue_training"] = False
    tr = nnUNetTrainer(plans, "3d_fullres", fold, ds, device=torch.device("cpu"))
    tr.num_epochs = 2
    # initialize() picks a dataset class from the file endings of the preprocessed folder; our batches come from
    # the synthetic scene, so one empty file of the Blosc2 kind is enough.
    pre = Path(tr.preprocessed_dataset_folder)
    pre.mkdir(parents=True, exist_ok=True)
    (pre / "placeholder.b2nd").touch()
    tr.initialize()
    tr.logger.plot_progress_png = lambda *a, **k: None  # the progress plot costs seconds and is not in the checkpoint
    # nnU-Net's SGD (momentum 0.99) needs hundreds of steps before it predicts foreground; Adam gets there in a few
    # dozen, and the checkpoint keeps the same layout (its state is tensors and numbers too).
    tr.optimizer = torch.optim.Adam(tr.network.parameters(), lr=lr)
    tr.inference_allowed_mirroring_axes = (0, 1, 2) if mirroring else None
    cfg = tr.configuration_manager
    patch = tuple(cfg.patch_size)
    fg = {v: NAME_HU[k] for k, v in ds["labels"].items() if k != "background"}
    props = plans["foreground_intensity_properties_per_channel"]["0"]
    scales = tr._get_deep_supervision_scales()

    def batch(s: int) -> dict:
        imgs, segs = [], []
        for b in range(2):
            hu, seg = scene(patch, fg, seed=1000 * seed + 10 * s + b)
            x = (np.clip(hu, props["percentile_00_5"], props["percentile_99_5"]) - props["mean"]) / props["std"]
            imgs.append(x[None]), segs.append(seg[None])
        data = torch.from_numpy(np.stack(imgs).astype(np.float32))
        target = torch.from_numpy(np.stack(segs).astype(np.float32))
        targets = [torch.nn.functional.interpolate(target, scale_factor=tuple(float(f) for f in sc), mode="nearest")
                   if any(f != 1 for f in sc) else target for sc in scales]
        return {"data": data, "target": targets}

    for epoch in range(2):
        tr.on_epoch_start()
        tr.on_train_epoch_start()
        outs = [tr.train_step(batch(epoch * steps + s)) for s in range(steps // 2)]
        tr.on_train_epoch_end(outs)
        with torch.no_grad():
            tr.on_validation_epoch_start()
            vals = [tr.validation_step(batch(9999 + epoch))]
            tr.on_validation_epoch_end(vals)
        tr.on_epoch_end()
    return tr


def make_results_folder(root: Path, *, dataset: str, labels: dict, patch: list[int], spacing: list[float],
                        schema: str = "new", folds: tuple[int, ...] = (0,), seeds: tuple[int, ...] | None = None,
                        **plan_kw) -> Path:
    """``<root>/<dataset>/nnUNetTrainer__nnUNetPlans__3d_fullres`` with plans, dataset.json and trained folds
    (fold ``folds[i]`` trained from seed ``seeds[i]``, default the fold number)."""
    folder = root / dataset / "nnUNetTrainer__nnUNetPlans__3d_fullres"
    write_plans(folder / "plans.json", dataset=dataset, patch=patch, spacing=spacing, schema=schema, **plan_kw)
    write_dataset_json(folder / "dataset.json", labels)
    for f, seed in zip(folds, seeds or folds):
        train_fold(folder, f, seed=seed)
    return folder
