"""Issue 19, item 1: downsampling to the model's spacing is anti-aliased, as the training images are (block means
of fine voxels, then a blur), instead of point-sampling detail finer than a model voxel: each model voxel is the
mean of the input over its own extent (an area average, which is the training side's block mean when the factor is
a whole number)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from medpriv_desktop.core.imaging.preprocess import downsample_antialiased, resample_to_spacing, to_model_space
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.models.card import ImageInput


def _checker(shape, period: int = 2) -> np.ndarray:
    i, j, k = np.indices(shape)
    return (((i + j + k) % period) == 0).astype(np.float32)


@pytest.mark.parametrize("shape, factors, period", [
    ((60, 60, 30), (5.0, 5.0, 1.0), 2),  # integer factor with integer sample positions: point sampling hits 0/1
    ((60, 60, 30), (6.0, 6.0, 3.0), 3),
    ((64, 50, 40), (5.5, 4.0, 2.5), 2),
])
def test_fine_checkerboard_comes_out_as_its_mean(shape, factors, period):
    arr = _checker(shape, period)
    out = downsample_antialiased(arr, factors)
    assert out.shape == tuple(max(1, round(n / f)) for n, f in zip(shape, factors))
    inner = out[1:-1, 1:-1, 1:-1] if min(out.shape) > 2 else out
    assert np.abs(inner - arr.mean()).max() < 0.03


def test_thin_bright_line_keeps_its_mass():
    """A 1-voxel line between the sample points: point sampling loses it, a block average spreads it."""
    arr = np.zeros((61, 61, 12), np.float32)
    arr[35, 25, :] = 1000.0  # between the sample positions (3, 9, ..., 33, 39, ...) of a 6x downsampling
    out = downsample_antialiased(arr, (6.0, 6.0, 1.0))
    assert out.sum() * 36 == pytest.approx(arr.sum(), rel=1e-4)
    assert out.max() == pytest.approx(1000.0 / 36, rel=1e-4)  # its share of one 6 x 6 voxel block


def test_whole_factor_equals_the_training_block_mean():
    """With a whole factor and the grid on block boundaries this is exactly ``training/seg/synth.py``'s _pool."""
    arr = np.random.default_rng(3).normal(0, 100, (60, 48, 30)).astype(np.float32)
    out = downsample_antialiased(arr, (6.0, 4.0, 3.0))
    blocks = arr.reshape(10, 6, 12, 4, 10, 3).mean(axis=(1, 3, 5))
    assert np.allclose(out, blocks, atol=1e-3)


def test_fractional_factor_keeps_the_mean_of_a_ramp():
    arr = np.broadcast_to(np.arange(55, dtype=np.float32)[:, None, None], (55, 3, 3))
    out = downsample_antialiased(np.ascontiguousarray(arr), (5.5, 1.0, 1.0))
    assert out.shape == (10, 3, 3)
    # Each model voxel sits on the ramp at its centre (2.25 + 5.5 m: the grid is centred on the input's extent);
    # the staircase of whole input voxels moves a box mean by at most 1/4 voxel * (1/2 voxel) / 5.5.
    assert np.allclose(out[:, 0, 0], 2.25 + 5.5 * np.arange(10), atol=0.05)


def test_upsampling_stays_linear():
    arr = np.linspace(0, 10, 10, dtype=np.float32)[:, None, None] * np.ones((1, 4, 4), np.float32)
    out = resample_to_spacing(arr, (2.0, 1.0, 1.0), (1.0, 1.0, 1.0), order=1)
    assert out.shape == (20, 4, 4)
    inner = out[1:-1, 0, 0]
    assert np.allclose(np.diff(inner), np.diff(inner)[0], atol=1e-5)  # a ramp stays a straight ramp


def test_labels_resample_by_nearest_on_the_same_grid():
    lab = np.zeros((36, 36, 6), np.uint8)
    lab[12:24, 12:24, :] = 3
    out = resample_to_spacing(lab, (1.0, 1.0, 1.0), (6.0, 6.0, 1.0), order=0)
    assert out.dtype == np.uint8 and set(np.unique(out)) == {0, 3}
    img = resample_to_spacing(lab.astype(np.float32), (1.0, 1.0, 1.0), (6.0, 6.0, 1.0), order=1)
    assert out.shape == img.shape


def test_to_model_space_uses_the_antialiased_downsampling():
    """A 1 mm CT checkerboard of -1000 / +1000 HU becomes its mean (0 HU) in a 5 mm model's space (point sampling
    lands on whole input voxels at 5x and reads +-1000)."""
    hu = np.where(_checker((80, 80, 40)) > 0, 1000, -1000).astype(np.int16)
    vol = Volume(hu, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3), "CT", {})
    ii = ImageInput(modalities=["CT"], spacing_mm=(5.0, 5.0, 5.0), patch_size=(16, 16, 8),
                    intensity={"CT": {"kind": "ct-clip-zscore", "clip_min": -1000, "clip_max": 1000, "mean": 0.0,
                                      "std": 1000.0}})
    space = to_model_space(vol, ii)
    assert space.array.shape == (16, 16, 8)
    # 5 x 5 x 5 voxels of a checkerboard hold 63 of one kind and 62 of the other: 1000 * 1/125 = 8 HU off at most.
    assert np.abs(space.array[1:-1, 1:-1, 1:-1]).max() < 0.01  # normalised 0 HU = 0.0, not +-1


def test_memory_stays_below_a_float_copy_of_the_input():
    """A 512x512x400 CT is 400 MB in float32: the downsampling works plane by plane and never holds such a copy."""
    arr = np.random.default_rng(0).integers(-1000, 1000, (160, 160, 100), dtype=np.int16)
    float_copy = arr.size * 4
    tracemalloc.start()
    try:
        out = resample_to_spacing(arr, (1.0, 1.0, 1.0), (6.0, 6.0, 6.0), order=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    assert peak < 0.5 * float_copy
