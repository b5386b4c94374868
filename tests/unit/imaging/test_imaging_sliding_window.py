"""Sliding-window inference: tiles cover everything, blending is seamless, flips are undone, cancel is clean."""

from __future__ import annotations

import numpy as np
import pytest

from medpriv_desktop.core.errors import JobCancelled
from medpriv_desktop.core.imaging.sliding_window import ALL_FLIPS, gaussian_weight, sliding_window, tile_starts
from medpriv_desktop.core.jobs import CancelToken, run_job


def _pointwise(x: np.ndarray) -> np.ndarray:
    """Three-class logits that depend only on each voxel's value (so tiling must not change the answer)."""
    return np.concatenate([-x, 0 * x, x - 0.5], axis=1) * 4


def _direct(arr: np.ndarray):
    logits = _pointwise(arr[None, None])[0]
    p = np.exp(logits - logits.max(0))
    p /= p.sum(0)
    return logits.argmax(0), -(p * np.log(p)).sum(0) / np.log(3)


@pytest.mark.parametrize("n,patch,overlap", [(10, 16, 0.5), (64, 32, 0.5), (70, 32, 0.25), (33, 32, 0.0)])
def test_tile_starts_cover_the_axis(n, patch, overlap):
    starts = tile_starts(n, patch, overlap)
    covered = np.zeros(max(n, patch), bool)
    for s in starts:
        covered[s:s + patch] = True
    assert covered[:n].all() and starts[0] == 0
    assert max(starts) + patch >= n and all(s + patch <= max(n, patch) for s in starts)


def test_gaussian_weight_peaks_in_the_centre():
    w = gaussian_weight((9, 9, 9))
    assert w[4, 4, 4] == 1.0 and w.min() > 0
    assert np.allclose(w, w[::-1, ::-1, ::-1])


@pytest.mark.parametrize("shape,patch,batch", [((40, 30, 20), (16, 16, 16), 3), ((10, 50, 12), (16, 16, 8), 1)])
def test_tiled_result_equals_whole_volume_result(shape, patch, batch):
    arr = np.random.default_rng(1).normal(0, 1, shape).astype(np.float32)
    seen = []

    def predict(x):
        seen.append(x.shape)
        return _pointwise(x)

    labels, entropy, n_tiles = run_job(sliding_window(arr, predict, patch, 3, overlap=0.5, batch_size=batch))
    exp_labels, exp_entropy = _direct(arr)
    assert labels.shape == shape and np.array_equal(labels, exp_labels)
    assert np.allclose(entropy.astype(np.float32), exp_entropy, atol=2e-3)
    assert sum(s[0] for s in seen) == n_tiles and max(s[0] for s in seen) <= batch
    assert all(s[2:] == tuple(patch) for s in seen)


def test_flips_are_undone():
    arr = np.linspace(-2, 2, 24 * 20 * 16, dtype=np.float32).reshape(24, 20, 16)  # asymmetric on every axis
    plain = run_job(sliding_window(arr, _pointwise, (16, 16, 16), 3))[0]
    flipped = run_job(sliding_window(arr, _pointwise, (16, 16, 16), 3, flips=ALL_FLIPS))[0]
    only_flip = run_job(sliding_window(arr, _pointwise, (16, 16, 16), 3, flips=((0, 1, 2),)))[0]
    assert np.array_equal(plain, flipped) and np.array_equal(plain, only_flip)


def test_cancel_between_tiles():
    arr = np.zeros((64, 64, 64), np.float32)
    token = CancelToken()
    calls = []

    def predict(x):
        calls.append(1)
        if len(calls) == 2:
            token.cancel()
        return _pointwise(x)

    with pytest.raises(JobCancelled):
        run_job(sliding_window(arr, predict, (16, 16, 16), 3, overlap=0.5), cancel=token)
    assert len(calls) == 2  # stopped at the next yield, not at the end


def test_logits_of_the_wrong_shape_are_a_model_error():
    from medpriv_desktop.core.errors import ModelError

    arr = np.zeros((16, 16, 16), np.float32)
    with pytest.raises(ModelError, match="expected \\[1, 4, 16, 16, 16\\]"):
        run_job(sliding_window(arr, _pointwise, (16, 16, 16), 4))


def test_a_volume_thinner_than_the_tile_sits_in_its_middle():
    """A thin slab (the DICOM series is 7 model slices for a 32-slice tile) is padded evenly on both sides, as the
    training patches were, so the network sees it where it learned to; the labels come back on the slab's own grid."""
    rng = np.random.default_rng(3)
    arr = (rng.random((4, 16, 3)) > 0.5).astype(np.float32) * 2 - 1  # -1 / +1: class 0 / class 2
    seen = []

    def predict(x):
        seen.append(x.copy())
        return _pointwise(x)

    labels, _, n_tiles = run_job(sliding_window(arr, predict, (8, 16, 8), 3, pad_value=0.25))
    assert n_tiles == 1
    tile = seen[0][0, 0]
    # (8 - 4) // 2 = 2 planes before along x, (8 - 3) // 2 = 2 before and 3 after along z.
    assert np.array_equal(tile[2:6, :, 2:5], arr)
    assert np.all(tile[:2] == 0.25) and np.all(tile[6:] == 0.25)
    assert np.all(tile[:, :, :2] == 0.25) and np.all(tile[:, :, 5:] == 0.25)
    assert labels.shape == arr.shape
    assert np.array_equal(labels, _direct(arr)[0])
