"""Students (MONAI DynUNet at a fraction of a base width), their distillation features, the loss, ONNX export.

Why DynUNet: it is MONAI's implementation of the nnU-Net topology (3x3x3 conv blocks with instance norm and leaky
ReLU, stride-2 downsampling, transposed-conv upsampling, a 1x1x1 head), which is what an imported nnU-Net teacher is
and what the field trains; with ``deep_supervision=False`` it exports to ONNX opset 17 with one logits output and
dynamic batch and spatial axes, exactly the app's contract (checked by :func:`export_student`). Our own ``UNet3D``
would do the same job; DynUNet is used because the issue asks for the field's tool where one exists.

The base channel list defaults to nnU-Net's (and DynUNet's usual) filters ``32, 64, 128, 256, 320``: an imported
teacher's card does not say its widths. A student at width fraction ``w`` has ``max(min_channels, round(c * w))``
channels per stage.

Features for the region and context terms: the outputs of the decoder stages at 1/2 and 1/4 of the input resolution
(forward hooks, training only), compared with the teacher's last decoder features averaged to the same grids
(:mod:`.teacher`, :mod:`.cache`), each through its own 1x1x1 projection in ``RegionDistillLoss``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.seg.losses import ContextAlignLoss, LogitKDLoss, RegionDistillLoss

DEFAULT_BASE = (32, 64, 128, 256, 320)
#: Feature levels: downsampling factors of the decoder outputs that are distilled (coarse first).
FEATURE_SCALES = (4, 2)


def student_channels(base: list[int] | tuple[int, ...], fraction: float, min_channels: int = 4) -> list[int]:
    """Channels per stage of a student at ``fraction`` of ``base``."""
    return [max(min_channels, int(round(c * fraction))) for c in base]


def build_student(n_classes: int, channels: list[int]) -> nn.Module:
    """A DynUNet with ``len(channels)`` stages (first at full resolution, each next one stride 2)."""
    from monai.networks.nets import DynUNet

    n = len(channels)
    return DynUNet(3, 1, n_classes, kernel_size=[3] * n, strides=[1] + [2] * (n - 1),
                   upsample_kernel_size=[2] * (n - 1), filters=list(channels),
                   norm_name=("instance", {"affine": True}), deep_supervision=False, res_block=False)


def feature_scales(n_stages: int) -> list[int]:
    """The distilled scales a network of ``n_stages`` has (a 1/4 level needs at least 4 stages)."""
    return [s for s in FEATURE_SCALES if int(math.log2(s)) <= n_stages - 2]


class FeatureTap:
    """Forward hooks that keep the decoder outputs at the distilled scales during a forward pass."""

    def __init__(self, net: nn.Module, n_stages: int) -> None:
        self.scales = feature_scales(n_stages)
        self.out: dict[int, torch.Tensor] = {}
        ups = net.upsamples
        self.handles = [ups[(n_stages - 2) - int(math.log2(s))].register_forward_hook(self._keep(s))
                        for s in self.scales]

    def _keep(self, scale: int):
        def hook(_mod, _inp, out):
            self.out[scale] = out
        return hook

    def features(self) -> list[torch.Tensor]:
        """The kept features, coarse first (same order as :attr:`scales`)."""
        return [self.out[s] for s in self.scales]

    def channels(self, channels: list[int]) -> list[int]:
        """Channels of each tapped level for a student with these stage channels."""
        return [channels[int(math.log2(s))] for s in self.scales]

    def remove(self) -> None:
        """Detach the hooks (before export)."""
        for h in self.handles:
            h.remove()


def teacher_levels(logp: torch.Tensor, feats: torch.Tensor | None, scales: list[int], pool: int) -> list[torch.Tensor]:
    """Teacher features at each scale: its cached features (already averaged by ``pool``) averaged further, or its
    log-probabilities averaged to the scale when the teacher exposes no features (logit-derived terms)."""
    out = []
    for s in scales:
        if feats is not None:
            k = s // pool
            out.append(F.avg_pool3d(feats, k) if k > 1 else feats)
        else:
            out.append(F.avg_pool3d(logp, s))
    return out


class SiteDistillLoss(nn.Module):
    """L = w_seg DiceCE(s, argmax t) + w_kd L_kd + w_region L_region + w_context L_context.

    DiceCE is MONAI's (batch Dice, softmax, one-hot of the pseudo-labels); the other terms are the project's ReCo-KD
    modules (``training/seg/losses.py``). A zero weight skips its term.
    """

    def __init__(self, n_classes: int, student_level_channels: list[int], teacher_level_channels: list[int],
                 weights: dict[str, float], temperature: float = 2.0) -> None:
        from monai.losses import DiceCELoss

        super().__init__()
        self.w = dict(weights)
        self.seg = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
        self.kd = LogitKDLoss(temperature)
        self.region = RegionDistillLoss(student_level_channels, teacher_level_channels, n_classes)
        self.context = ContextAlignLoss()

    def forward(self, s_logits, s_feats, t_logp, t_feats, labels) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and the value of each active term (``labels`` [N, X, Y, Z] int64 pseudo-labels)."""
        terms: dict[str, torch.Tensor] = {}
        if self.w.get("seg"):
            terms["seg"] = self.seg(s_logits, labels[:, None])
        if self.w.get("kd"):
            terms["kd"] = self.kd(s_logits, t_logp)
        if self.w.get("region"):
            terms["region"] = self.region(s_feats, t_feats, labels)
        if self.w.get("context"):
            terms["context"] = self.context(s_feats, t_feats)
        total = sum(self.w[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}


def export_student(net: nn.Module, path: Path, patch: tuple[int, int, int], input_name: str = "image",
                   output_name: str = "logits") -> float:
    """Export ``net`` to ONNX opset 17 (the app's contract) and return the largest |torch - onnxruntime| logit
    difference on a random tile."""
    from medpriv_desktop.core.fileio import atomic_path
    from training.seg.export import onnx_session

    net = net.eval().cpu()
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (1, 1, *patch)).astype(np.float32))
    with atomic_path(path, suffix=".onnx") as tmp:
        torch.onnx.export(net, (x,), str(tmp), dynamo=False, opset_version=17, input_names=[input_name],
                          output_names=[output_name], do_constant_folding=True,
                          dynamic_axes={input_name: {0: "batch", 2: "x", 3: "y", 4: "z"},
                                        output_name: {0: "batch", 2: "x", 3: "y", 4: "z"}})
    with torch.no_grad():
        ref = net(x).numpy()
    sess = onnx_session(path)
    got = sess.run(None, {input_name: x.numpy()})[0]
    return float(np.abs(got - ref).max())
