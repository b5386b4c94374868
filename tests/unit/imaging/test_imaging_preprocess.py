"""Preprocessing to model space and its inverse: labels always land on the input grid, in the right place."""

from __future__ import annotations

import numpy as np
import pytest

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.imaging.preprocess import AxisMap, to_model_space
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.models.card import ImageInput

CT_NORM = {"kind": "ct-clip-zscore", "clip_min": -1000, "clip_max": 1000, "mean": 0.0, "std": 1000.0}


def _input(spacing, orientation="RAS", modalities=("CT",)):
    return ImageInput(modalities=list(modalities), spacing_mm=spacing, orientation=orientation,
                      intensity={m: CT_NORM if m == "CT" else {"kind": "zscore"} for m in modalities},
                      patch_size=(16, 16, 16))


def _ball_volume(shape=(40, 36, 24), spacing=(1.0, 1.2, 2.0), direction=np.diag([-1.0, -1.0, 1.0])):
    grid = np.stack(np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing="ij"), -1)
    centre = np.array([18.0, 20.0, 22.0])
    inside = np.linalg.norm(grid - centre, axis=-1) <= 12.0
    hu = np.where(inside, 300, -1000).astype(np.int16)
    return Volume(hu, spacing, (5.0, -7.0, 30.0), direction, "CT"), inside


def test_axis_map_keeps_the_centre():
    a = AxisMap.for_axis(101, 0.8, 2.0)
    assert a.n_out == 40
    # The centre of the model grid maps to the centre of the input axis.
    assert np.isclose(a.scale * (a.n_out - 1) / 2 + a.offset, 50.0)
    assert AxisMap.for_axis(50, 2.0, 2.0).identity


def test_same_spacing_round_trip_is_exact_whatever_the_orientation():
    vol, inside = _ball_volume(spacing=(2.0, 2.0, 2.0))
    for codes in ("RAS", "LPS", "SAR"):
        space = to_model_space(vol, _input((2.0, 2.0, 2.0), codes))
        assert space.volume.orientation_codes() == codes
        back = space.labels_to_input((space.array > 0).astype(np.uint8), {1: "ball"})
        assert back.same_grid(vol)
        assert np.array_equal(back.array.astype(bool), inside)


def test_resampled_labels_land_on_input_grid_in_the_right_place():
    vol, inside = _ball_volume()
    space = to_model_space(vol, _input((2.5, 2.5, 3.0), "RAS"))
    assert space.shape == (16, 17, 16)
    model_mask = space.array > -0.35  # half-way between -1000 and 300 HU, normalised by 1000
    # The ball's world centroid is the same in model space and in the input.
    c_in = vol.voxel_to_world(np.argwhere(inside).mean(0))
    c_model = space.volume.voxel_to_world(np.argwhere(model_mask).mean(0))
    assert np.linalg.norm(c_in - c_model) < 1.0
    back = space.labels_to_input(model_mask.astype(np.uint8))
    assert back.same_grid(vol) and back.array.dtype == np.uint8
    dice = 2 * (back.array.astype(bool) & inside).sum() / (back.array.astype(bool).sum() + inside.sum())
    assert dice > 0.9
    assert np.linalg.norm(vol.voxel_to_world(np.argwhere(back.array).mean(0)) - c_in) < 1.0


def test_normalisation_and_pad_value_follow_the_card():
    vol, _ = _ball_volume(spacing=(2.0, 2.0, 2.0))
    space = to_model_space(vol, _input((2.0, 2.0, 2.0)))
    assert space.array.dtype == np.float32
    assert np.isclose(space.array.min(), -1.0) and np.isclose(space.array.max(), 0.3)
    assert np.isclose(space.pad_value, -1.0)


def test_modality_mismatch_is_a_model_error():
    vol, _ = _ball_volume()
    vol.modality = "MR"
    with pytest.raises(ModelError, match="takes CT images but this image is MR"):
        to_model_space(vol, _input((2.0, 2.0, 2.0)), "seg-ct")


def test_smooth_upsampling_is_the_argmax_of_interpolated_label_indicators():
    """Checked against scipy's trilinear interpolation of each label's 0/1 map, voxel by voxel, on a label map with
    a gap in its values, uneven scale factors and chunks that do not divide the first axis (exact ties aside, where
    float32 and float64 rounding may pick different labels)."""
    from scipy import ndimage

    from medpriv_desktop.core.imaging.preprocess import smooth_upsample_labels

    rng = np.random.default_rng(0)
    lab = ndimage.zoom(rng.integers(0, 5, (5, 6, 4)), 2, order=0).astype(np.uint8)
    lab[lab == 2] = 0
    axes = (AxisMap.for_axis(30, 1.0, 3.0), AxisMap.for_axis(30, 0.8, 2.0), AxisMap.for_axis(16, 2.0, 4.0))
    assert tuple(a.n_out for a in axes) == lab.shape
    got = smooth_upsample_labels(lab, axes, chunk=7)
    coords = np.meshgrid(*[np.clip((np.arange(a.n_in) - a.offset) / a.scale, 0, a.n_out - 1) for a in axes],
                         indexing="ij")
    values = np.unique(lab)
    scores = np.stack([ndimage.map_coordinates((lab == v).astype(np.float64), coords, order=1) for v in values])
    top2 = np.sort(scores, axis=0)[-2:]
    clear = top2[1] - top2[0] > 1e-4
    assert clear.mean() > 0.9
    assert np.array_equal(got[clear], values[np.argmax(scores, axis=0)][clear])
    assert set(np.unique(got)) == set(values)


def test_smooth_labels_follow_a_ball_closer_than_nearest_neighbour():
    vol, inside = _ball_volume()
    space = to_model_space(vol, _input((5.0, 5.0, 6.0), "RAS"))
    model_mask = (space.array > -0.35).astype(np.uint8)

    def dice(m):
        return 2 * (m & inside).sum() / (m.sum() + inside.sum())

    nearest = space.labels_to_input(model_mask).array.astype(bool)
    smooth = space.labels_to_input(model_mask, smooth=True)
    assert smooth.same_grid(vol) and smooth.array.dtype == np.uint8
    assert dice(smooth.array.astype(bool)) > dice(nearest) + 0.01
    # Same spacing: nothing to interpolate, the round trip stays exact.
    same = to_model_space(vol, _input(tuple(vol.spacing), "RAS"))
    back = same.labels_to_input((same.array > 0).astype(np.uint8), smooth=True)
    assert np.array_equal(back.array.astype(bool), inside)
