"""The module exported to ONNX: bundle axes -> nnU-Net axes, folds, parts merged into one logits tensor.

Input ``[N, 1, X, Y, Z]`` on the bundle's axes (the training images' voxel axes i, j, k); output logits
``[N, K, X, Y, Z]`` over the union of the parts' labels (0 = background, then part 1's labels, part 2's, ...).

**Folds.** nnU-Net's predictor averages the folds' *logits* (``predict_logits_from_preprocessed_data`` sums them
and divides by the number of folds; nnunetv2 2.8), and so does :class:`PartNetwork`. Sliding-window blending is
linear, so averaging per tile is exactly averaging the blended maps.

**Parts (TotalSegmentator's rule).** TotalSegmentator runs each part on the whole image, takes its argmax, and
writes the parts one after the other into one label map: a later part overwrites wherever it predicts foreground.
:func:`merge_part_logits` gives merged logits whose argmax is exactly that rule on one tile. With part ``k``'s
logits ``z_k`` (background ``b_k``), best foreground ``m_k = max_c z_kc`` and margin ``s_k = m_k - b_k`` (part ``k``
says foreground iff ``s_k > 0``; nnU-Net's argmax breaks ties towards background), ``g_k = [s_k > 0]`` and a
*conflict* where two or more parts say foreground::

    L_background = 0
    L_c = z_kc - b_k                                                          without a conflict (linear)
    L_c = (z_kc - m_k) + clip(s_k, -MARGIN_CLIP, MARGIN_CLIP) + (g_k - 1/2) * k * PRIORITY_STEP    in a conflict

Without a conflict a claiming part's best class scores its margin ``> 0``, every other channel at most its own
part's margin ``<= 0``, background 0 (a tie goes to background, channel 0, as in nnU-Net). In a conflict the last
claiming part ``k*`` scores more than ``k* STEP / 2``, an earlier claiming part at most ``MARGIN_CLIP + (k* - 1) STEP
/ 2`` (so ``STEP / 2 >= MARGIN_CLIP`` suffices), a non-claiming part less than 0. Inside the winning part the order
of ``z_kc`` is kept, so its own argmax class is chosen. A test checks the rule on random logits with and without
conflicts, ties and large margins.

Between tiles the app blends these merged logits, not each part's logits. Away from conflicts the map is linear, so
the blend is exactly nnU-Net's. At conflict voxels where overlapping tiles disagree the result is a weighted vote of
the tiles, not nnU-Net's vote of blended margins (exactness there would need the app to blend each part and merge
after blending). The two-part parity test measures the difference. Two other forms were measured and were worse on
it: the gated form everywhere (blending of gates at every part boundary), and lifting claiming parts to the largest
margin (earlier parts' large margins outvote a later part's claim).
"""

from __future__ import annotations

import torch
from torch import nn

from training.seg.nnunet.plans import CtIntensity, NnunetPart

#: In a conflict, margins are clipped to +-MARGIN_CLIP and part k's claim is offset by +-k * PRIORITY_STEP / 2.
MARGIN_CLIP = 0.5
#: Gap between the priorities of consecutive parts; PRIORITY_STEP / 2 >= MARGIN_CLIP makes later parts win.
PRIORITY_STEP = 2.0


class PartNetwork(nn.Module):
    """One nnU-Net model (all its folds) on the bundle's axes: optional CT normalisation, permute, average folds."""

    def __init__(self, part: NnunetPart, nets: list[nn.Module], normalize: CtIntensity | None = None) -> None:
        super().__init__()
        self.folds = nn.ModuleList(nets)
        axes = part.card_axis_of_net
        self.perm_in = (0, 1) + tuple(2 + c for c in axes)
        self.perm_out = (0, 1) + tuple(2 + axes.index(c) for c in range(3))
        self.normalize = normalize is not None
        if normalize is not None:
            self.register_buffer("ct", torch.tensor([normalize.low, normalize.high, normalize.mean, normalize.std],
                                                    dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, 1 + labels, X, Y, Z]`` of this part on the bundle's axes."""
        if self.normalize:
            x = (torch.clamp(x, self.ct[0], self.ct[1]) - self.ct[2]) / self.ct[3]
        x = x.permute(*self.perm_in)
        z = self.folds[0](x)
        for net in self.folds[1:]:
            z = z + net(x)
        if len(self.folds) > 1:
            z = z / len(self.folds)
        return z.permute(*self.perm_out)


def merge_part_logits(logits: list[torch.Tensor]) -> torch.Tensor:
    """Merged logits ``[N, 1 + sum(labels_k), ...]`` whose argmax is the part-after-part rule (see module doc)."""
    if len(logits) == 1:
        return logits[0]
    linear, gated, claims = [], [], []
    for k, z in enumerate(logits, start=1):
        fg, bg = z[:, 1:], z[:, :1]
        best = fg.amax(dim=1, keepdim=True)
        margin = best - bg
        gate = (margin > 0).to(z.dtype)
        claims.append(gate)
        linear.append(fg - bg)
        gated.append(fg - best + torch.clamp(margin, -MARGIN_CLIP, MARGIN_CLIP) + (gate - 0.5) * (k * PRIORITY_STEP))
    conflict = (torch.stack(claims).sum(0) > 1.5).to(logits[0].dtype)
    out = [torch.zeros_like(logits[0][:, :1])]
    out += [lin + conflict * (gat - lin) for lin, gat in zip(linear, gated)]
    return torch.cat(out, dim=1)


class ImportedTeacher(nn.Module):
    """All parts of an import as one network: bundle-axis input in, merged logits out."""

    def __init__(self, parts: list[PartNetwork]) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Merged logits for a batch of tiles."""
        return merge_part_logits([p(image) for p in self.parts])


def part_after_part(label_maps: list, n_labels: list[int]):
    """TotalSegmentator's rule on per-part label maps (numpy): later parts overwrite where they say foreground.

    Part ``k``'s label ``v >= 1`` becomes ``offset_k + v`` where ``offset_k`` is the number of labels before it.
    """
    import numpy as np

    out = np.zeros(label_maps[0].shape, np.int32)
    offset = 0
    for lab, n in zip(label_maps, n_labels):
        fg = lab > 0
        out[fg] = lab[fg] + offset
        offset += n
    return out
