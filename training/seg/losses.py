"""Losses of the ReCo-KD-style distillation, each a small module with its formula.

Notation: ``s``/``t`` student/teacher logits [N, K, X, Y, Z]; ``F_s^l``/``F_t^l`` features at level l; ``y`` the
label map (ground truth, or the teacher's argmax in pseudo-label mode); ``V`` the voxels of a level.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DiceCELoss(nn.Module):
    """Segmentation loss  L_seg = CE(s, y) + (1 - mean_k Dice_k),

    Dice_k = (2 sum_x p_k(x) y_k(x) + eps) / (sum_x p_k(x) + sum_x y_k(x) + eps), p = softmax(s), summed over the
    batch (as nnU-Net's batch Dice), averaged over the classes present in ``y`` or in the prediction's argmax
    (so a structure predicted where there is none counts with its Dice near 0).
    """

    def __init__(self, n_classes: int, eps: float = 1e-5):
        super().__init__()
        self.n_classes = n_classes
        self.eps = eps

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``target`` is an int64 label map [N, X, Y, Z]."""
        ce = F.cross_entropy(logits, target)
        p = logits.softmax(1)
        y = F.one_hot(target, self.n_classes).permute(0, 4, 1, 2, 3).to(p.dtype)
        dims = (0, 2, 3, 4)
        inter = (p * y).sum(dims)
        denom = p.sum(dims) + y.sum(dims)
        dice = (2 * inter + self.eps) / (denom + self.eps)
        # Classes in the target or predicted somewhere (argmax): a false-positive class scores Dice ~0 and is
        # penalised; classes absent from both are left out (their Dice is undefined).
        predicted = F.one_hot(logits.detach().argmax(1), self.n_classes).sum((0, 1, 2, 3)) > 0
        present = (y.sum(dims) > 0) | predicted
        dice_loss = 1 - dice[present].mean() if present.any() else logits.sum() * 0
        return ce + dice_loss


class LogitKDLoss(nn.Module):
    """Logit distillation  L_kd = T^2 * mean_x KL( softmax(t(x)/T) || softmax(s(x)/T) ).

    The T^2 factor keeps gradient size comparable across temperatures (Hinton et al. 2015).
    """

    def __init__(self, temperature: float = 2.0):
        super().__init__()
        self.t = temperature

    def forward(self, s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Student and teacher logits of the same shape."""
        log_ps = F.log_softmax(s / self.t, dim=1)
        log_pt = F.log_softmax(t.detach() / self.t, dim=1)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum(1)
        return kl.mean() * self.t**2


def _unit(f: torch.Tensor) -> torch.Tensor:
    """Feature vectors scaled to unit L2 norm along channels (so levels and networks compare in one scale)."""
    return f / (f.norm(dim=1, keepdim=True) + 1e-6)


def class_masks(labels: torch.Tensor, n_classes: int, size: tuple[int, ...]) -> torch.Tensor:
    """Soft class masks [N, K, *size]: the fraction of each coarse voxel that belongs to class k."""
    y = F.one_hot(labels, n_classes).permute(0, 4, 1, 2, 3).float()
    return F.adaptive_avg_pool3d(y, size) if tuple(y.shape[2:]) != tuple(size) else y


class RegionDistillLoss(nn.Module):
    """Multi-Scale Structure-Aware Region Distillation.

    At each level l a 1x1x1 projection P_l maps student channels to teacher channels. With soft class masks
    M_k^l (fraction of class k in each voxel of level l, from ``y``) and the per-voxel error
    e^l(x) = || u(P_l F_s^l(x)) - u(F_t^l(x)) ||^2 (u: unit L2 norm over channels),

        L_region = (1/L) sum_l  (1/|K_l|) sum_{k in K_l}  [ sum_x M_k^l(x) e^l(x) ] / [ sum_x M_k^l(x) ]

    where K_l are the classes present in the batch at level l. Each structure's error is a mean over its own
    voxels, so a 5 ml adrenal gland weighs as much as a 20 l body: the scale normalisation. Background is one class
    among the others. The projections are trained with the student and dropped at export.
    """

    def __init__(self, student_channels: list[int], teacher_channels: list[int], n_classes: int,
                 levels: list[int] | None = None):
        super().__init__()
        self.levels = levels if levels is not None else list(range(len(student_channels)))
        self.n_classes = n_classes
        self.proj = nn.ModuleList([nn.Conv3d(student_channels[i], teacher_channels[i], 1) for i in self.levels])

    def per_class(self, fs: torch.Tensor, ft: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Mean error per class [K] at one level (NaN for absent classes); ``fs`` already projected."""
        err = (_unit(fs) - _unit(ft.detach())).pow(2).sum(1, keepdim=True)  # [N,1,...]
        num = (masks * err).sum((0, 2, 3, 4))
        den = masks.sum((0, 2, 3, 4))
        return torch.where(den > 1e-6, num / den.clamp_min(1e-6), torch.full_like(num, float("nan")))

    def forward(self, fs_list: list[torch.Tensor], ft_list: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        """Feature lists as returned by ``UNet3D(..., return_features=True)``, labels [N, X, Y, Z]."""
        total = fs_list[0].new_zeros(())
        for proj, i in zip(self.proj, self.levels):
            fs, ft = proj(fs_list[i]), ft_list[i]
            pc = self.per_class(fs, ft, class_masks(labels, self.n_classes, tuple(ft.shape[2:])))
            total = total + pc[~torch.isnan(pc)].mean()
        return total / len(self.levels)


def _positions(f: torch.Tensor, max_positions: int, gen: torch.Generator | None) -> torch.Tensor:
    """Feature vectors [N, P, C] of a level: all voxels when few, else pooled to at most ``max_positions``."""
    n, c = f.shape[:2]
    v = f.shape[2] * f.shape[3] * f.shape[4]
    if v > max_positions:
        # Average-pool by the smallest integer factor that gets under the cap (keeps spatial layout).
        k = 2
        while v // k**3 > max_positions:
            k += 1
        f = F.avg_pool3d(f, k, ceil_mode=True)
    return f.flatten(2).transpose(1, 2)


class ContextAlignLoss(nn.Module):
    """Multi-Scale Context Alignment.

    At each level l the feature map is average-pooled to at most P positions (P = 2048 by default; never a
    full-resolution affinity). With z_i the unit-normalised feature vector at position i,
    the affinity matrix is A^l_{ij} = <z_i, z_j> (P x P, independent of the channel count, so student and teacher
    compare directly without projection), and

        L_context = (1/L) sum_l  mean_{i,j} ( A^l_s(i,j) - A^l_t(i,j) )^2 .

    It is zero when the student's features equal the teacher's (up to a positive per-position scale).
    """

    def __init__(self, levels: list[int] | None = None, max_positions: int = 2048):
        super().__init__()
        self.levels = levels
        self.max_positions = max_positions

    def affinity(self, f: torch.Tensor) -> torch.Tensor:
        """[N, P, P] cosine-similarity matrix of a level's (pooled) positions."""
        z = _unit(_positions(f, self.max_positions, None).transpose(1, 2)).transpose(1, 2)
        return z @ z.transpose(1, 2)

    def forward(self, fs_list: list[torch.Tensor], ft_list: list[torch.Tensor]) -> torch.Tensor:
        """Feature lists of student and teacher (same levels and spatial sizes)."""
        levels = self.levels if self.levels is not None else list(range(len(fs_list)))
        total = fs_list[0].new_zeros(())
        for i in levels:
            total = total + (self.affinity(fs_list[i]) - self.affinity(ft_list[i].detach())).pow(2).mean()
        return total / len(levels)


class DistillLoss(nn.Module):
    """Weighted sum  L = w_seg L_seg + w_kd L_kd + w_region L_region + w_context L_context  (a zero weight skips
    the term and its computation). Returns the total and a dict of the unweighted terms for logging."""

    def __init__(self, n_classes: int, student_channels: list[int], teacher_channels: list[int],
                 w_seg: float = 1.0, w_kd: float = 1.0, w_region: float = 1.0, w_context: float = 1.0,
                 temperature: float = 2.0, region_levels: list[int] | None = None,
                 context_levels: list[int] | None = None, max_positions: int = 2048):
        super().__init__()
        self.w = {"seg": w_seg, "kd": w_kd, "region": w_region, "context": w_context}
        self.seg = DiceCELoss(n_classes)
        self.kd = LogitKDLoss(temperature)
        self.region = RegionDistillLoss(student_channels, teacher_channels, n_classes, region_levels)
        self.context = ContextAlignLoss(context_levels, max_positions)

    def forward(self, s_logits, s_feats, t_logits, t_feats, labels) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and the value of each active term."""
        terms: dict[str, torch.Tensor] = {}
        if self.w["seg"]:
            terms["seg"] = self.seg(s_logits, labels)
        if self.w["kd"]:
            terms["kd"] = self.kd(s_logits, t_logits)
        if self.w["region"]:
            terms["region"] = self.region(s_feats, t_feats, labels)
        if self.w["context"]:
            terms["context"] = self.context(s_feats, t_feats)
        total = sum(self.w[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}
