"""Sliding-window inference over a model-space array with Gaussian blending and bounded memory.

Tiles are visited slab by slab along the first (slowest) axis. Logits are accumulated only for the current slab of
``patch[0]`` planes; when the window moves on, the planes no later tile can touch are finished at once: weighted
logits -> softmax -> argmax (label) and normalised entropy (``H / log C`` in [0, 1]). Memory is therefore
``C x patch[0] x Y x Z`` floats for the accumulator plus one byte (label) and two bytes (entropy) per model voxel,
whatever the length of the scan.

Flips: each tile can be run on flipped copies (test-time augmentation, or the flipped second opinion of QC) and the
logits flipped back before averaging. A flip along the patient's left-right axis also swaps left and right
structures, so for such a pass the channels of every left/right label pair are swapped back too
(:func:`mirror_permutation`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.jobs import Job, Progress

#: Flip sets: every combination of the three spatial axes (8 passes) for test-time augmentation.
ALL_FLIPS: tuple[tuple[int, ...], ...] = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2))
#: Smallest blending weight: only keeps a weight from being 0. The Gaussian's corner of a tile is exp(-24), about
#: 4e-11, far above it, so the map equals nnU-Net's (a floor of 1e-3 here once moved blended logits by up to 3 at
#: tile corners and cost parity with nnU-Net's predictor, see tests/training/test_nnunet_import.py).
MIN_WEIGHT = float(np.finfo(np.float32).tiny)


def mirror_permutation(n_classes: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Channel order of a left-right mirrored prediction: each pair's two channels swapped, the others in place."""
    perm = np.arange(n_classes)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


def flip_sets(mirror_axes: Sequence[int] | None) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """``(test-time flip set, the flip of QC's second opinion)`` for a model trained mirrored along ``mirror_axes``.

    None (the card does not say) keeps the old behaviour: every combination of the three axes, and all three at once
    for QC. ``[]`` gives no flips at all (one plain pass; QC has no flipped opinion: ``()``).
    """
    axes = (0, 1, 2) if mirror_axes is None else tuple(sorted(set(mirror_axes)))
    subsets = [tuple(a for i, a in enumerate(axes) if mask >> i & 1) for mask in range(1 << len(axes))]
    return tuple(sorted(subsets, key=lambda f: (len(f), f))), axes


def tile_starts(n: int, patch: int, overlap: float) -> list[int]:
    """Start indices of tiles of size ``patch`` covering ``n`` voxels with the requested fractional overlap."""
    if n <= patch:
        return [0]
    step = max(1, int(patch * (1.0 - overlap)))
    count = math.ceil((n - patch) / step) + 1
    return sorted({int(round(x)) for x in np.linspace(0, n - patch, count)})


def centred_pads(shape: Sequence[int], patch: Sequence[int]) -> list[tuple[int, int]]:
    """Padding that brings each axis of ``shape`` up to the patch, split evenly before and after (the odd voxel
    after), as the training patches were padded (``training.seg.data.sample_patches``) and as nnU-Net's predictor
    pads: a 40 mm slab must sit in the middle of its tile, not at one edge with the whole rest of the tile on one
    side (measured on the DICOM series' 7 model slices: edge padding cost its fold of the leave-one-scan-out
    evaluation 0.07 mean Dice, README)."""
    return [((p - n) // 2, (p - n) - (p - n) // 2) if n < p else (0, 0) for n, p in zip(shape, patch)]


def gaussian_weight(patch: Sequence[int], sigma_scale: float = 0.125) -> np.ndarray:
    """Importance map: a Gaussian centred on voxel ``p // 2`` of each axis (sigma = patch / 8), max 1, as nnU-Net's
    predictor weights its tiles (the centre voxel of an even patch is the one just past the middle)."""
    grids = []
    for p in patch:
        x = np.arange(p, dtype=np.float64) - p // 2
        grids.append(np.exp(-0.5 * (x / max(p * sigma_scale, 1e-6)) ** 2))
    w = grids[0][:, None, None] * grids[1][None, :, None] * grids[2][None, None, :]
    w /= w.max()
    return np.maximum(w, MIN_WEIGHT).astype(np.float32)


def _finish(acc: np.ndarray, wsum: np.ndarray, labels: np.ndarray, entropy: np.ndarray, n_classes: int) -> None:
    """Blend, softmax, argmax and entropy for a slab of planes (writes into ``labels`` and ``entropy``)."""
    for p in range(acc.shape[1]):  # plane by plane: temporaries stay at C x Y x Z
        logits = acc[:, p] / wsum[p][None]
        labels[p] = np.argmax(logits, axis=0)
        logits -= logits.max(axis=0, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=0, keepdims=True)
        h = -(logits * np.log(np.maximum(logits, 1e-12))).sum(axis=0)
        entropy[p] = h / math.log(n_classes) if n_classes > 1 else 0.0


def sliding_window(
    array: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    patch: Sequence[int],
    n_classes: int,
    *,
    overlap: float = 0.5,
    batch_size: int = 1,
    pad_value: float = 0.0,
    flips: Sequence[tuple[int, ...]] = ((),),
    lr_axis: int | None = None,
    label_pairs: Sequence[tuple[int, int]] = (),
) -> Job[tuple[np.ndarray, np.ndarray, int]]:
    """Segment ``array`` (X, Y, Z float32) tile by tile; return ``(labels, entropy, n_tiles)`` at its resolution.

    ``predict`` takes a batch ``[B, 1, px, py, pz]`` and returns logits ``[B, C, px, py, pz]``. ``flips`` lists the
    spatial flips to average (``()`` = the image as is); each flip multiplies the cost. A pass flipped along
    ``lr_axis`` (the array's left-right axis) gets the channels of ``label_pairs`` swapped back before it is
    averaged. Yields a Progress per batch; stopping between yields leaves nothing behind.
    """
    swap = mirror_permutation(n_classes, label_pairs) if label_pairs and lr_axis is not None else None
    patch = tuple(int(p) for p in patch)
    orig = array.shape
    pads = centred_pads(orig, patch)
    if any(before or after for before, after in pads):
        # Too small for one tile: pad (only this case copies the array).
        array = np.pad(array, pads, mode="constant", constant_values=pad_value)
    nx, ny, nz = array.shape
    sx, sy, sz = (tile_starts(n, p, overlap) for n, p in zip(array.shape, patch))
    n_tiles = len(sx) * len(sy) * len(sz)
    weight = gaussian_weight(patch)
    label_dtype = np.uint8 if n_classes <= 256 else np.uint16
    labels = np.zeros((nx, ny, nz), label_dtype)
    entropy = np.zeros((nx, ny, nz), np.float16)
    px = patch[0]
    acc = np.zeros((n_classes, px, ny, nz), np.float32)
    wsum = np.zeros((px, ny, nz), np.float32)
    weighted = np.empty((n_classes, *patch), np.float32)
    base = 0
    done = 0
    yield Progress(0.0, f"inference: {n_tiles} tiles")
    for x0 in sx:
        if x0 > base:
            d = x0 - base
            _finish(acc[:, :d], wsum[:d], labels[base:x0], entropy[base:x0], n_classes)
            acc[:, : px - d] = acc[:, d:]
            acc[:, px - d:] = 0
            wsum[: px - d] = wsum[d:]
            wsum[px - d:] = 0
            base = x0
        corners = [(y0, z0) for y0 in sy for z0 in sz]
        for b in range(0, len(corners), batch_size):
            chunk = corners[b: b + batch_size]
            batch = np.stack([array[x0:x0 + px, y0:y0 + patch[1], z0:z0 + patch[2]] for y0, z0 in chunk])[:, None]
            batch = np.ascontiguousarray(batch, dtype=np.float32)
            out = None
            for f in flips:
                axes = tuple(a + 2 for a in f)
                x_in = np.ascontiguousarray(np.flip(batch, axes)) if axes else batch
                y = np.asarray(predict(x_in), dtype=np.float32)
                if y.shape != (x_in.shape[0], n_classes, *patch):
                    raise ModelError(f"model returned logits of shape {list(y.shape)} for a tile of "
                                     f"{list(x_in.shape)}; expected [{x_in.shape[0]}, {n_classes}, "
                                     f"{', '.join(map(str, patch))}] (one channel per label of its card)")
                y = np.flip(y, axes) if axes else y
                if swap is not None and lr_axis in f:
                    y = y[:, swap]  # the mirrored body's left structures are the real body's right ones
                out = y if out is None else out + y
            if len(flips) > 1:
                out /= len(flips)
            for (y0, z0), logits in zip(chunk, out):
                # Into one reused buffer: a fresh C x patch temporary per tile (210 MB for 25 classes at 128^3)
                # cost time on every tile (the 1/8 student of docs/results/seg-student-speed.md, 64 tiles: time spent
                # in this function outside the network 12.8-13.2 s -> 10.8-12.2 s, two runs each).
                np.multiply(logits, weight, out=weighted)
                acc[:, :, y0:y0 + patch[1], z0:z0 + patch[2]] += weighted
                wsum[:, y0:y0 + patch[1], z0:z0 + patch[2]] += weight
            done += len(chunk)
            yield Progress(done / n_tiles, f"tile {done}/{n_tiles}")
    end = min(base + px, nx)
    _finish(acc[:, : end - base], wsum[: end - base], labels[base:end], entropy[base:end], n_classes)
    if array.shape != orig:
        inner = tuple(slice(before, before + n) for (before, _), n in zip(pads, orig))
        labels = np.ascontiguousarray(labels[inner])
        entropy = np.ascontiguousarray(entropy[inner])
    return labels, entropy, n_tiles
