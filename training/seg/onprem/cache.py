"""The teacher cache: what the teacher says about each scan, computed once and read back memory-mapped.

Per scan, ``RUN/cache/<scan id>/`` holds, on the model grid of the teacher's card (its spacing and orientation):

- ``image.npy``: the normalised image the app gives the network (``to_model_space``), float16;
- ``logits.npy``: the Gaussian-blended logits of every class, float16 ``[K, X, Y, Z]``; or with ``top_k`` set,
  ``topk_logp.npy`` (log-probabilities of the k most likely classes, float16) and ``topk_idx.npy`` (their classes,
  uint8 or uint16): the rest of the probability mass is spread evenly over the other classes when read back;
- ``feats.npy``: the teacher's last decoder features (:mod:`.teacher`), averaged over 2x2x2 blocks, float16
  ``[C, ceil(X/2), ceil(Y/2), ceil(Z/2)]`` (absent when the teacher exposes none);
- ``meta.json``: shapes, modality, what is stored.

Bytes per model voxel: ``2 + 2K`` (or ``2 + 3k``, ``2 + 4k`` beyond 256 classes) ``+ C/4``. Tiles are visited and
blended exactly as :func:`medpriv_desktop.core.imaging.sliding_window.sliding_window` does (its ``tile_starts`` and
``gaussian_weight``), slab by slab along the first axis, and each finished plane goes straight to the memory-mapped
file: memory is that of the app's own inference (``K x patch_x x Y x Z`` floats), whatever the scan's length. A
scan's folder is written under a temporary name and renamed when complete, so a killed run never leaves half a cache.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core.imaging.sliding_window import gaussian_weight, tile_starts
from medpriv_desktop.core.jobs import Job, Progress

FEATURE_POOL = 2


def bytes_per_voxel(n_classes: int, top_k: int | None, feature_channels: int) -> float:
    """Cache bytes per model voxel (see the module docstring)."""
    idx = 1 if n_classes <= 256 else 2
    logits = 2 * n_classes if not top_k else (2 + idx) * top_k
    return 2 + logits + 2 * feature_channels / FEATURE_POOL**3


def cache_bytes(shape: tuple[int, int, int], n_classes: int, top_k: int | None, feature_channels: int) -> int:
    """Cache size of one scan whose model-space grid is ``shape``."""
    return int(math.prod(shape) * bytes_per_voxel(n_classes, top_k, feature_channels))


def model_grid(shape_mm: tuple[float, float, float], spacing_mm: tuple[float, float, float]) -> tuple[int, int, int]:
    """Model-space grid of a field of view of ``shape_mm`` at the card's spacing (as ``to_model_space`` rounds)."""
    return tuple(max(1, int(round(a / s))) for a, s in zip(shape_mm, spacing_mm))  # type: ignore[return-value]


def _pool_yz(f: np.ndarray) -> np.ndarray:
    """Average 2x2 blocks over the last two axes (edge voxels repeated when a size is odd)."""
    y, z = f.shape[-2:]
    if y % 2 or z % 2:
        f = np.pad(f, [(0, 0)] * (f.ndim - 2) + [(0, y % 2), (0, z % 2)], mode="edge")
    c, y2, z2 = f.shape[0], f.shape[1] // 2, f.shape[2] // 2
    return f.reshape(c, y2, 2, z2, 2).mean(axis=(2, 4))


class _PlaneWriter:
    """Receives blended planes in order and writes them to the memory-mapped cache files."""

    def __init__(self, out: Path, shape, n_classes: int, top_k: int | None, feat_channels: int) -> None:
        from numpy.lib.format import open_memmap

        x, y, z = shape
        self.top_k = top_k
        if top_k:
            idx_dtype = np.uint8 if n_classes <= 256 else np.uint16
            self.logp = open_memmap(out / "topk_logp.npy", "w+", np.float16, (top_k, x, y, z))
            self.idx = open_memmap(out / "topk_idx.npy", "w+", idx_dtype, (top_k, x, y, z))
        else:
            self.logits = open_memmap(out / "logits.npy", "w+", np.float16, (n_classes, x, y, z))
        self.feats = None
        if feat_channels:
            pooled = tuple(-(-n // FEATURE_POOL) for n in shape)
            self.feats = open_memmap(out / "feats.npy", "w+", np.float16, (feat_channels, *pooled))
        self.pending: np.ndarray | None = None
        self.n_planes = x

    def plane(self, p: int, logits: np.ndarray, feats: np.ndarray | None) -> None:
        """Store blended plane ``p`` (``logits`` [K, Y, Z], ``feats`` [C, Y, Z])."""
        if self.top_k:
            z = logits - logits.max(0, keepdims=True)
            logp = z - np.log(np.exp(z).sum(0, keepdims=True))
            order = np.argsort(-logp, axis=0)[: self.top_k]
            self.idx[:, p] = order
            self.logp[:, p] = np.take_along_axis(logp, order, 0)
        else:
            self.logits[:, p] = logits
        if self.feats is not None and feats is not None:
            # Planes arrive in order: pair them along the first axis, then pool the other two.
            if p % 2 == 0:
                self.pending = np.array(feats, np.float32)
                if p == self.n_planes - 1:  # an odd plane count: the last plane stands alone
                    self.feats[:, p // 2] = _pool_yz(self.pending)
            else:
                self.feats[:, p // 2] = _pool_yz(0.5 * (self.pending + feats))
                self.pending = None

    def flush(self) -> None:
        """Write the memory maps to disk."""
        for arr in (getattr(self, "logits", None), getattr(self, "logp", None), getattr(self, "idx", None),
                    self.feats):
            if arr is not None:
                arr.flush()


def cache_scan(array: np.ndarray, teacher, patch, overlap: float, pad_value: float, out_dir: Path,
               meta: dict, top_k: int | None = None) -> Job[Path]:
    """Run ``teacher`` over the model-space ``array`` tile by tile and write the scan's cache to ``out_dir``."""
    patch = tuple(int(p) for p in patch)
    orig = array.shape
    if any(n < p for n, p in zip(orig, patch)):
        array = np.pad(array, [(0, max(0, p - n)) for n, p in zip(orig, patch)], constant_values=pad_value)
    nx, ny, nz = array.shape
    k_cls, c_feat = teacher.n_classes, teacher.feature_channels
    tmp = out_dir.with_name(out_dir.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "image.npy", np.asarray(array[: orig[0], : orig[1], : orig[2]], np.float16))
    writer = _PlaneWriter(tmp, orig, k_cls, top_k if top_k and top_k < k_cls else None, c_feat)
    sx, sy, sz = (tile_starts(n, p, overlap) for n, p in zip(array.shape, patch))
    n_tiles = len(sx) * len(sy) * len(sz)
    weight = gaussian_weight(patch)
    px = patch[0]
    acc = np.zeros((k_cls, px, ny, nz), np.float32)
    facc = np.zeros((c_feat, px, ny, nz), np.float32) if c_feat else None
    wsum = np.zeros((px, ny, nz), np.float32)
    base, done = 0, 0

    def finish(upto: int) -> None:
        for p in range(base, min(upto, orig[0])):
            w = wsum[p - base][None, : orig[1], : orig[2]]
            lg = acc[:, p - base, : orig[1], : orig[2]] / w
            ft = facc[:, p - base, : orig[1], : orig[2]] / w if facc is not None else None
            writer.plane(p, lg, ft)

    for x0 in sx:
        if x0 > base:
            d = x0 - base
            finish(x0)
            for buf in (acc, facc):
                if buf is not None:
                    buf[:, : px - d] = buf[:, d:]
                    buf[:, px - d:] = 0
            wsum[: px - d] = wsum[d:]
            wsum[px - d:] = 0
            base = x0
        for y0 in sy:
            for z0 in sz:
                tile = array[x0:x0 + px, y0:y0 + patch[1], z0:z0 + patch[2]][None, None]
                logits, feats = teacher(tile)
                sl = (slice(None), slice(None), slice(y0, y0 + patch[1]), slice(z0, z0 + patch[2]))
                acc[sl] += logits[0] * weight[None]
                if facc is not None:
                    facc[sl] += feats[0] * weight[None]
                wsum[:, y0:y0 + patch[1], z0:z0 + patch[2]] += weight
                done += 1
                yield Progress(done / n_tiles, f"teacher tile {done}/{n_tiles}")
    finish(base + px)
    writer.flush()
    del writer
    meta = dict(meta, shape=list(orig), n_classes=k_cls, top_k=top_k if top_k and top_k < k_cls else None,
                feature_channels=c_feat, feature_pool=FEATURE_POOL, pad_value=pad_value)
    meta["bytes"] = sum(f.stat().st_size for f in tmp.iterdir())
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.replace(out_dir)
    return out_dir


@dataclass
class CachedScan:
    """One scan's cache, memory-mapped: patches are read from disk, never the whole scan."""

    path: Path
    meta: dict

    @classmethod
    def open(cls, path: Path) -> CachedScan:
        """Open a complete cache folder (its ``meta.json`` exists only once the scan is complete)."""
        return cls(path, json.loads((path / "meta.json").read_text()))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Model-space grid of the scan."""
        return tuple(self.meta["shape"])  # type: ignore[return-value]

    def _load(self, name: str) -> np.ndarray:
        return np.load(self.path / name, mmap_mode="r")

    def patch(self, start, size) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Image ``[X, Y, Z]``, teacher log-probabilities ``[K, X, Y, Z]`` and pooled features (or None) of the
        patch at even ``start``; beyond the scan the image is the air value and the teacher says background."""
        k = self.meta["n_classes"]
        sl = tuple(slice(s, min(s + n, m)) for s, n, m in zip(start, size, self.shape))
        got = tuple(x.stop - x.start for x in sl)
        pads = [(0, n - g) for n, g in zip(size, got)]
        img = np.pad(np.asarray(self._load("image.npy")[sl], np.float32), pads,
                     constant_values=self.meta["pad_value"])
        if self.meta.get("top_k"):
            lp = np.asarray(self._load("topk_logp.npy")[(slice(None),) + sl], np.float32)
            idx = np.asarray(self._load("topk_idx.npy")[(slice(None),) + sl], np.int64)
            rest = np.clip(1.0 - np.exp(lp).sum(0), 1e-6, None) / max(k - lp.shape[0], 1)
            logp = np.broadcast_to(np.log(rest), (k,) + got).copy()
            np.put_along_axis(logp, idx, lp, 0)
        else:
            lg = np.asarray(self._load("logits.npy")[(slice(None),) + sl], np.float32)
            z = lg - lg.max(0, keepdims=True)
            logp = z - np.log(np.exp(z).sum(0, keepdims=True))
        if any(p[1] for p in pads):
            bg = np.full((k,), -30.0, np.float32)
            bg[0] = 0.0
            full = np.broadcast_to(bg[:, None, None, None], (k, *size)).copy()
            full[(slice(None),) + tuple(slice(0, g) for g in got)] = logp
            logp = full
        feats = None
        if self.meta.get("feature_channels"):
            fp = self.meta["feature_pool"]
            fsl = tuple(slice(s // fp, s // fp + n // fp) for s, n in zip(start, size))
            f = np.asarray(self._load("feats.npy")[(slice(None),) + fsl], np.float32)
            fpads = [(0, n // fp - g) for n, g in zip(size, f.shape[1:])]
            feats = np.pad(f, [(0, 0)] + fpads) if any(p[1] for p in fpads) else f
        return img, logp, feats
