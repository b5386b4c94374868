"""Image synthesis from a generation label map: a CT simulator and an MR-like mode (SynthSeg-style).

The network must learn shape, not one intensity profile, so every training volume is drawn afresh:

CT (values in HU):
    I = N_ct( B_sigma( Pool_f( mu[L_fine] ) + T ) ) clipped to the reconstruction circle,
    where ``mu[t] ~ U(hu_lo[t], hu_hi[t])`` per tissue and volume, ``Pool_f`` averages f x f x f fine voxels (partial
    volume: a 3 mm or 6 mm voxel on an organ boundary gets the mix of both tissues), ``T`` is smooth tissue texture
    (low-frequency noise scaled per tissue), ``B_sigma`` a Gaussian point-spread with a random anisotropic width
    (in-plane resolution and slice thickness: the varying acquisition spacing), ``N_ct`` additive Gaussian noise
    (5-30 HU). Outside a random reconstruction field of view the value is -1024 (what scanners write).
MR-like (arbitrary units):
    I = Rician( (B_sigma(Pool_f(c[L_fine]) + T) * exp(b(x)))^gamma ),
    with ``c[t] ~ U(0.05, 1)`` per tissue (air and gas near 0): random contrast, ``b`` a smooth random bias field,
    gamma in [0.7, 1.4], Rician noise.

The segmentation target is the fine label map at the centre of each f x f x f block, mapped to segmentation labels.
A random crop along z and in-plane (field of view) is applied before synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from training.seg.labels import GEN_BY_NAME, N_GEN, TISSUES, seg_from_gen


@dataclass(frozen=True)
class SynthConfig:
    """Ranges of the random acquisition."""

    min_fov_z_mm: float = 60.0  # thin slabs too (the shared real examples cover 60-90 mm)
    psf_inplane: tuple[float, float] = (0.2, 0.8)  # Gaussian sigma in model voxels
    psf_z: tuple[float, float] = (0.2, 1.3)
    ct_noise_hu: tuple[float, float] = (5.0, 30.0)
    mr_noise: tuple[float, float] = (0.005, 0.04)
    mr_bias: float = 0.35
    fov_truncate_p: float = 0.3


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], cell: int = 4) -> np.ndarray:
    """Unit-variance-ish smooth noise: coarse Gaussian values linearly upsampled by ``cell``."""
    coarse = rng.normal(0, 1, [max(2, s // cell + 2) for s in shape]).astype(np.float32)
    up = ndimage.zoom(coarse, [s / (c - 1) * (c - 1) / c for s, c in zip(shape, coarse.shape)], order=1)
    return up[: shape[0], : shape[1], : shape[2]] if up.shape >= shape else np.resize(up, shape)


def _crop_fov(gen: np.ndarray, rng: np.random.Generator, spacing: float, cfg: SynthConfig, f: int = 2) -> np.ndarray:
    """A random z range (the scanned region) and sometimes a narrower in-plane box, in whole f x f x f blocks."""
    nz = gen.shape[2]
    min_n = min(nz, int(cfg.min_fov_z_mm / spacing))
    length = max(f, int(rng.integers(min_n, nz + 1)) // f * f)
    z0 = int(rng.integers(0, nz - length + 1)) // f * f
    x0, x1, y0, y1 = 0, gen.shape[0], 0, gen.shape[1]
    if rng.random() < 0.3:
        cut = int(rng.integers(0, gen.shape[0] // 6)) // f * f
        x0, x1 = cut, gen.shape[0] - cut
    return _whole_blocks(gen[x0:x1, y0:y1, z0:z0 + length], f)


def _whole_blocks(a: np.ndarray, f: int) -> np.ndarray:
    """``a`` cut to a multiple of ``f`` along every axis."""
    return a[: a.shape[0] // f * f, : a.shape[1] // f * f, : a.shape[2] // f * f]


def _pool(a: np.ndarray, f: int = 2) -> np.ndarray:
    """Mean over f x f x f blocks (partial volume)."""
    s = a.shape
    return a.reshape(s[0] // f, f, s[1] // f, f, s[2] // f, f).mean(axis=(1, 3, 5), dtype=np.float32)


def pool_factor(model_spacing: float, fine_spacing: float = 1.5) -> int:
    """Whole number of fine voxels per model voxel (at least 1): 2 for 3 mm, 4 for 6 mm from 1.5 mm phantoms."""
    return max(1, int(round(model_spacing / fine_spacing)))


def tissue_means(modality: str, rng: np.random.Generator) -> np.ndarray:
    """Per-tissue mean intensity for one synthetic volume."""
    if modality == "CT":
        return np.array([rng.uniform(*t.hu) for t in TISSUES], np.float32)
    c = rng.uniform(0.05, 1.0, N_GEN).astype(np.float32)
    c[GEN_BY_NAME["air"]] = rng.uniform(0.0, 0.02)
    c[GEN_BY_NAME["bowel_gas"]] = rng.uniform(0.0, 0.05)
    if rng.random() < 0.7:  # lungs are dark on most MR sequences
        c[GEN_BY_NAME["lung_left"]] = c[GEN_BY_NAME["lung_right"]] = rng.uniform(0.0, 0.12)
    return c


def synthesize(gen_fine: np.ndarray, modality: str, rng: np.random.Generator, fine_spacing: float = 1.5,
               cfg: SynthConfig = SynthConfig(), crop: bool = True, factor: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(image float32, segmentation uint8)`` at ``factor`` times the fine spacing (3 mm from 1.5 mm with
    the default 2; 6 mm with 4).

    ``modality`` is "CT" (image in HU) or "MR" (arbitrary positive units). The segmentation of a coarse voxel is the
    fine label at its centre (the fine voxel just past the centre for an even ``factor``).
    """
    if modality not in ("CT", "MR"):
        raise ValueError(f"unknown modality {modality!r}")
    f = int(factor)
    gen = _crop_fov(gen_fine, rng, fine_spacing, cfg, f) if crop else _whole_blocks(gen_fine, f)
    mu = tissue_means(modality, rng)
    img = _pool(mu[gen], f)  # partial volume
    c = f // 2
    gen_c = gen[c::f, c::f, c::f]
    tex_amp = np.array([t.texture_hu for t in TISSUES], np.float32)
    if modality == "MR":
        tex_amp = tex_amp / 400.0  # texture relative to a 0..1 contrast range
    img += tex_amp[gen_c] * _smooth_noise(rng, img.shape, cell=int(rng.integers(2, 5)))
    sig = (rng.uniform(*cfg.psf_inplane), rng.uniform(*cfg.psf_inplane), rng.uniform(*cfg.psf_z))
    img = ndimage.gaussian_filter(img, sig, mode="nearest")
    if modality == "CT":
        img += rng.normal(0, rng.uniform(*cfg.ct_noise_hu), img.shape).astype(np.float32)
        if rng.random() < cfg.fov_truncate_p:
            # Reconstruction circle narrower than the body: values outside are padding.
            nx, ny = img.shape[:2]
            xx, yy = np.meshgrid(np.arange(nx) - nx / 2, np.arange(ny) - ny / 2, indexing="ij")
            r = rng.uniform(0.42, 0.6) * max(nx, ny)
            img[(xx**2 + yy**2) > r * r] = -1024.0
    else:
        bias = _smooth_noise(rng, img.shape, cell=max(img.shape) // 3)
        img *= np.exp(cfg.mr_bias * rng.uniform(0.3, 1.0) * bias)
        img = np.clip(img, 0, None) ** rng.uniform(0.7, 1.4)
        s = rng.uniform(*cfg.mr_noise) * float(img.max() + 1e-6)
        img = np.sqrt((img + rng.normal(0, s, img.shape)) ** 2 + rng.normal(0, s, img.shape) ** 2)
        img *= rng.uniform(100, 1000)  # arbitrary scanner units
    return img.astype(np.float32), seg_from_gen(gen_c)
