"""Volume geometry (the RAS+ convention) and the readers/writers agree with nibabel and SimpleITK."""

from __future__ import annotations

import numpy as np
import pytest

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.io import read_labelmap, read_volume, volume_to_sitk, write_labelmap, write_volume
from medpriv_desktop.core.imaging.volume import (LabelMap, Volume, apply_reorient, axis_codes_from_direction,
                                                 reorient_transform, undo_reorient)


def _oblique_affine() -> np.ndarray:
    """A rotated, flipped, anisotropic affine: catches any axis or sign mix-up."""
    theta = np.radians(20)
    rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    flip = np.diag([-1.0, 1.0, 1.0])
    aff = np.eye(4)
    aff[:3, :3] = rot @ flip @ np.diag([0.8, 1.2, 2.5])
    aff[:3, 3] = [12.5, -40.0, 7.25]
    return aff


def test_affine_round_trip_and_world_mapping():
    aff = _oblique_affine()
    vol = Volume.from_affine(np.zeros((4, 5, 6), np.int16), aff)
    assert np.allclose(vol.affine, aff)
    assert np.allclose(vol.spacing, (0.8, 1.2, 2.5))
    ijk = np.array([[1, 2, 3], [3, 4, 5]])
    world = vol.voxel_to_world(ijk)
    assert np.allclose(world, (aff @ np.c_[ijk, np.ones(2)].T).T[:, :3])
    assert np.allclose(vol.world_to_voxel(world), ijk)


@pytest.mark.parametrize("direction,codes", [
    (np.eye(3), "RAS"), (np.diag([-1, -1, 1]), "LPS"), (np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0]]), "AIL"),
])
def test_orientation_codes(direction, codes):
    assert axis_codes_from_direction(direction) == codes


def test_reorient_keeps_every_voxel_in_place():
    rng = np.random.default_rng(0)
    vol = Volume.from_affine(rng.integers(0, 100, (4, 5, 6)).astype(np.int16), _oblique_affine())
    for target in ("RAS", "LPS", "SPL", "PRS"):
        out = vol.reoriented(target)
        assert out.orientation_codes() == target
        # The voxel at old index p must be at the same world position in the new grid, with the same value.
        for p in [(0, 0, 0), (3, 1, 2), (1, 4, 5)]:
            world = vol.voxel_to_world(np.array(p))
            q = np.rint(out.world_to_voxel(world)).astype(int)
            assert np.allclose(out.voxel_to_world(q), world)
            assert out.array[tuple(q)] == vol.array[p]
        perm, flips = reorient_transform(vol.orientation_codes(), target)
        assert np.array_equal(undo_reorient(apply_reorient(vol.array, perm, flips), perm, flips), vol.array)


def test_nifti_nibabel_and_simpleitk_agree(tmp_path):
    """The same file read by nibabel and by SimpleITK (LPS) gives one RAS+ affine: the convention holds."""
    import nibabel as nib
    import SimpleITK as sitk

    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    aff = _oblique_affine()
    f = tmp_path / "img.nii.gz"
    nib.save(nib.Nifti1Image(data, aff), str(f))
    ours = read_volume(f)
    assert np.allclose(ours.affine, aff, atol=1e-4)
    assert np.array_equal(ours.array, data)
    # Through SimpleITK: convert to MHA with SimpleITK itself, then read the MHA.
    sitk.WriteImage(sitk.ReadImage(str(f)), str(tmp_path / "img.mha"))
    via_itk = read_volume(tmp_path / "img.mha")
    assert np.allclose(via_itk.affine, aff, atol=1e-4)
    assert np.array_equal(via_itk.array, data)
    # And our own writer produces a file SimpleITK reads with the LPS version of the same geometry.
    img = volume_to_sitk(ours)
    assert np.allclose(np.array(img.GetOrigin()), np.diag([-1, -1, 1]) @ aff[:3, 3], atol=1e-4)
    assert np.allclose(img.TransformIndexToPhysicalPoint((1, 2, 3)),
                       np.diag([-1, -1, 1]) @ (aff @ [1, 2, 3, 1])[:3], atol=1e-4)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".nrrd", ".mha", ".mhd"])
def test_labelmap_write_read_round_trip(tmp_path, suffix):
    arr = np.zeros((6, 7, 8), np.uint8)
    arr[1:3, 2:5, 3:7] = 4
    lm = LabelMap(arr, (0.7, 0.9, 3.0), (10.0, -5.0, 2.0), np.diag([-1.0, 1.0, 1.0]), labels={4: "liver"})
    out = write_labelmap(lm, tmp_path / f"seg{suffix}")
    back = read_labelmap(out)
    assert back.same_grid(lm)
    assert np.array_equal(back.array, arr)
    assert not list(tmp_path.glob(".*")), "temporary file left behind"


def test_write_volume_refuses_unknown_format(tmp_path):
    vol = Volume(np.zeros((2, 2, 2), np.int16), (1, 1, 1))
    with pytest.raises(InputError, match="cannot write"):
        write_volume(vol, tmp_path / "x.png")


def test_modality_guess_and_override(tmp_path):
    import nibabel as nib

    ct = np.full((8, 8, 8), -1000, np.int16)
    ct[2:6, 2:6, 2:6] = 40
    nib.save(nib.Nifti1Image(ct, np.eye(4)), str(tmp_path / "ct.nii.gz"))
    mr = np.random.default_rng(0).integers(0, 800, (8, 8, 8)).astype(np.int16)
    nib.save(nib.Nifti1Image(mr, np.eye(4)), str(tmp_path / "mr.nii.gz"))
    assert read_volume(tmp_path / "ct.nii.gz").modality == "CT"
    assert read_volume(tmp_path / "mr.nii.gz").modality == "MR"
    assert read_volume(tmp_path / "mr.nii.gz", modality="ct").modality == "CT"


def test_repr_never_shows_meta():
    vol = Volume(np.zeros((2, 2, 2), np.int16), (1, 1, 1), meta={"patient": {"name": "DOE^JANE"}})
    assert "DOE" not in repr(vol)
