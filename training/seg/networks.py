"""An nnU-Net-like 3D U-Net and its width-scaled students.

Topology (as nnU-Net's 3D full-resolution plan, scaled down): ``n_stages`` encoder stages of two 3x3x3 convolutions
with instance norm and leaky ReLU; every stage after the first starts with a stride-2 convolution; the decoder
upsamples with stride-2 transposed convolutions and concatenates the encoder skip. Channels at stage i are
``min(base * 2**i, max_channels)`` times ``width_fraction``: a student keeps the teacher's depth, strides and skips
and scales every stage's width (1/2, 1/4, 1/8), so the inference pipeline is unchanged.

``forward(x, return_features=True)`` also returns the features the distillation losses use: the bottleneck and the
output of every decoder stage, coarsest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class NetConfig:
    """Shape of one network of the family."""

    in_channels: int = 1
    n_classes: int = 16
    n_stages: int = 5
    base: int = 16
    max_channels: int = 320
    width_fraction: float = 1.0
    # Floor of every stage's width. Scaling a base-8 teacher by 1/4 leaves 2 channels at full resolution, and the
    # 1x1x1 head must then separate all classes from a 2-dimensional (post-ReLU) feature: such a student can only
    # learn background vs body. nnU-Net's own 1/4 students (base 32) keep 8; students here are floored the same way.
    min_channels: int = 2

    def channels(self) -> list[int]:
        """Channels of every stage after width scaling (at least ``min_channels``)."""
        return [max(self.min_channels, int(round(min(self.base * 2**i, self.max_channels) * self.width_fraction)))
                for i in range(self.n_stages)]

    def scaled(self, fraction: float, min_channels: int | None = None) -> NetConfig:
        """The same topology with every stage's width multiplied by ``fraction`` (floored at ``min_channels``)."""
        return NetConfig(self.in_channels, self.n_classes, self.n_stages, self.base, self.max_channels,
                         self.width_fraction * fraction,
                         self.min_channels if min_channels is None else min_channels)

    @property
    def divisible_by(self) -> int:
        """Spatial size the input must be a multiple of."""
        return 2 ** (self.n_stages - 1)


class ConvBlock(nn.Sequential):
    """Two conv-instance-norm-leaky-ReLU layers; the first may downsample with stride 2."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(
            nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01, inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1, bias=False),
            nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01, inplace=True),
        )


class UNet3D(nn.Module):
    """The U-Net of :class:`NetConfig`; input [N, C, X, Y, Z], output logits [N, n_classes, X, Y, Z]."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        ch = cfg.channels()
        self.encoder = nn.ModuleList(
            [ConvBlock(cfg.in_channels, ch[0])] + [ConvBlock(ch[i - 1], ch[i], stride=2) for i in range(1, len(ch))])
        self.up = nn.ModuleList([nn.ConvTranspose3d(ch[i], ch[i - 1], 2, stride=2, bias=False)
                                 for i in range(len(ch) - 1, 0, -1)])
        self.decoder = nn.ModuleList([ConvBlock(2 * ch[i - 1], ch[i - 1]) for i in range(len(ch) - 1, 0, -1)])
        self.head = nn.Conv3d(ch[0], cfg.n_classes, 1)

    def feature_channels(self) -> list[int]:
        """Channels of the returned features: bottleneck, then each decoder stage (coarse to fine)."""
        ch = self.cfg.channels()
        return [ch[-1]] + [ch[i - 1] for i in range(len(ch) - 1, 0, -1)]

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """Logits, or ``(logits, features)`` with ``return_features``."""
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x)
            if i < len(self.encoder) - 1:
                skips.append(x)
        feats = [x]
        for up, block in zip(self.up, self.decoder):
            x = block(torch.cat([up(x), skips.pop()], dim=1))
            feats.append(x)
        logits = self.head(x)
        return (logits, feats) if return_features else logits


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_flops(model: nn.Module, patch: tuple[int, int, int], in_channels: int = 1) -> float:
    """Floating-point operations (2 x multiply-accumulates of convolutions) of one forward pass on ``patch``."""
    total = [0.0]

    def hook(mod: nn.Module, _inp, out: torch.Tensor) -> None:
        k = 1
        for s in mod.kernel_size:
            k *= s
        cin = mod.in_channels // mod.groups
        if isinstance(mod, nn.ConvTranspose3d):
            # Every input voxel scatters cin x cout x k products.
            total[0] += 2.0 * _inp[0].numel() / _inp[0].shape[1] * mod.in_channels * mod.out_channels * k
        else:
            total[0] += 2.0 * out.numel() * cin * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d))]
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, *patch))
    finally:
        for h in handles:
            h.remove()
    return total[0]


def select_weights(student: UNet3D, teacher: UNet3D) -> UNet3D:
    """Initialise a width-scaled student from its teacher by *weight selection* (Xu et al., "Initializing Models
    with Larger Ones", ICLR 2024): every student tensor is the teacher's tensor restricted to the student's leading
    channels, per dimension. A decoder block's first convolution reads ``cat([up(x), skip])``, so its input channels
    are taken from both halves: teacher channels ``0..c_s-1`` and ``c_t..c_t+c_s-1``. Instance norm follows every
    convolution, so dropping input channels changes only the scale, which the norm removes. Training-only: the
    student's topology and the inference pipeline are unchanged. Returns ``student`` (modified in place).
    """
    sc, tc = student.cfg.channels(), teacher.cfg.channels()
    t_state = teacher.state_dict()
    new = {}
    for name, s in student.state_dict().items():
        t = t_state[name]
        if t.dim() == 0 or s.shape == t.shape:
            new[name] = t.clone()
            continue
        out = t
        for dim, n in enumerate(s.shape):
            if out.shape[dim] == n:
                continue
            idx = torch.arange(n)
            parts = name.split(".")
            if parts[0] == "decoder" and parts[2] == "0" and dim == 1:
                i = len(sc) - 1 - int(parts[1])  # decoder k works at stage i - 1
                c_s, c_t = sc[i - 1], tc[i - 1]
                idx = torch.cat([torch.arange(c_s), c_t + torch.arange(c_s)])
            out = out.index_select(dim, idx)
        new[name] = out.clone()
    student.load_state_dict(new)
    return student
