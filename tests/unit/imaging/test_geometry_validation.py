"""Zero, NaN and infinite voxel sizes and singular orientations, in every format, give one InputError naming the
file; the Volume type itself refuses such a geometry. Headers are written by hand (nibabel would fix or refuse them).
"""

from __future__ import annotations

import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from _imaging_fixtures import write_dicom_series
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.io import read_volume
from medpriv_desktop.core.imaging.volume import GeometryError, Volume, geometry_problem

ARR = (np.arange(6 * 5 * 4, dtype=np.int16).reshape((6, 5, 4)) - 1000)
NAN, INF = float("nan"), float("inf")


def refused(path: Path, *phrases: str) -> None:
    with pytest.raises(InputError) as info:
        read_volume(path)
    message = str(info.value)
    assert path.name in message and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message


# -- the Volume type ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spacing,direction,origin,phrase", [
    ((0, 1, 1), np.eye(3), (0, 0, 0), "voxel size"),
    ((-1, 1, 1), np.eye(3), (0, 0, 0), "voxel size"),
    ((NAN, 1, 1), np.eye(3), (0, 0, 0), "voxel size"),
    ((INF, 1, 1), np.eye(3), (0, 0, 0), "voxel size"),
    ((1, 1, 1), [[1, 1, 0], [0, 0, 0], [0, 0, 1]], (0, 0, 0), "singular"),
    ((1, 1, 1), np.zeros((3, 3)), (0, 0, 0), "singular"),
    ((1, 1, 1), np.full((3, 3), NAN), (0, 0, 0), "directions are undefined"),
    ((1, 1, 1), np.eye(3), (0, NAN, 0), "origin"),
    ((1, 1, 1), np.eye(3), (INF, 0, 0), "origin"),
])
def test_volume_refuses_a_geometry_without_a_grid(spacing, direction, origin, phrase):
    assert phrase in geometry_problem(spacing, direction, origin)
    with pytest.raises(GeometryError, match=phrase):
        Volume(ARR, spacing, origin, direction)


def test_volume_accepts_sheared_and_flipped_grids():
    sheared = np.array([[1, 0.3, 0], [0, 1, 0], [0, 0, -1.0]])
    assert geometry_problem((0.5, 0.5, 3), sheared, (1, 2, 3)) is None
    assert Volume(ARR, (0.5, 0.5, 3), (1, 2, 3), sheared).shape == ARR.shape


# -- NIfTI ----------------------------------------------------------------------------------------------------------


def nifti(path: Path, srow=None, pixdim=(1.0, 1.0, 1.0), qform_code=0, sform_code=1) -> Path:
    """A NIfTI-1 file written byte by byte from a header nibabel does not check or fix."""
    h = nib.Nifti1Header()
    h.set_data_shape(ARR.shape)
    h.set_data_dtype(np.int16)
    h["sform_code"], h["qform_code"] = sform_code, qform_code
    if srow is not None:
        h["srow_x"], h["srow_y"], h["srow_z"] = np.asarray(srow, float)
    h["pixdim"][1:4] = pixdim
    h["vox_offset"] = 352
    data = h.binaryblock + b"\0" * 4 + ARR.tobytes(order="F")
    if path.name.endswith(".gz"):
        import gzip

        data = gzip.compress(data)
    path.write_bytes(data)
    return path


EYE = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0]]


@pytest.mark.parametrize("name,kw", [
    ("zero_affine", {"srow": np.zeros((3, 4))}),
    ("nan_affine", {"srow": np.full((3, 4), NAN)}),
    ("inf_spacing", {"srow": [[INF, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]}),
    ("nan_origin", {"srow": [[1, 0, 0, NAN], [0, 1, 0, 0], [0, 0, 1, 0]]}),
    ("parallel_axes", {"srow": [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]}),
    ("zero_pixdim_qform", {"pixdim": (0, 0, 0), "qform_code": 1, "sform_code": 0}),
    ("nan_pixdim_qform", {"pixdim": (NAN, 1, 1), "qform_code": 1, "sform_code": 0}),
    ("zero_pixdim_no_transform", {"pixdim": (1, 0, 1), "qform_code": 0, "sform_code": 0}),
])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_without_a_grid_is_refused(tmp_path, name, kw, suffix):
    refused(nifti(tmp_path / f"{name}{suffix}", **kw), "the image geometry is invalid")


def test_nifti_with_a_valid_sform_reads(tmp_path):
    vol = read_volume(nifti(tmp_path / "ok.nii.gz", srow=EYE, pixdim=(0, 0, 0)))  # pixdim unused with an sform
    assert vol.spacing == (2.0, 2.0, 3.0) and np.array_equal(vol.array, ARR)


# -- NRRD and MetaImage ---------------------------------------------------------------------------------------------


def nrrd(path: Path, **fields: str) -> Path:
    base = {"type": "short", "dimension": "3", "sizes": "6 5 4", "endian": "little", "encoding": "raw"}
    base.update({k.replace("_", " "): v for k, v in fields.items()})
    head = "NRRD0004\n" + "".join(f"{k}: {v}\n" for k, v in base.items()) + "\n"
    path.write_bytes(head.encode() + np.asfortranarray(ARR).astype("<i2").tobytes(order="F"))
    return path


def mha(path: Path, **fields: str) -> Path:
    base = {"ObjectType": "Image", "NDims": "3", "DimSize": "6 5 4", "ElementType": "MET_SHORT"}
    base.update(fields)
    base["ElementDataFile"] = "LOCAL"
    head = "".join(f"{k} = {v}\n" for k, v in base.items())
    path.write_bytes(head.encode() + np.asfortranarray(ARR).astype("<i2").tobytes(order="F"))
    return path


@pytest.mark.parametrize("name,fields", [
    ("zero_spacings", {"spacings": "0 1 1"}),
    ("nan_spacings", {"spacings": "nan 1 1"}),
    ("inf_spacings", {"spacings": "1 inf 1"}),
    ("zero_direction", {"space": "LPS", "space_directions": "(0,0,0) (0,1,0) (0,0,1)"}),
    ("nan_direction", {"space": "LPS", "space_directions": "(nan,0,0) (0,1,0) (0,0,1)"}),
    ("parallel_directions", {"space": "LPS", "space_directions": "(1,0,0) (2,0,0) (0,0,1)"}),
])
def test_nrrd_without_a_grid_is_refused(tmp_path, name, fields):
    refused(nrrd(tmp_path / f"{name}.nrrd", **fields), "the image geometry is invalid")


@pytest.mark.parametrize("name,fields", [
    ("zero_spacing", {"ElementSpacing": "1 0 1"}),
    ("nan_spacing", {"ElementSpacing": "1 1 nan"}),
    ("singular_matrix", {"TransformMatrix": "1 0 0 1 0 0 0 0 1"}),
    ("zero_matrix", {"TransformMatrix": "0 0 0 0 0 0 0 0 0"}),
    ("nan_origin", {"Offset": "0 nan 0"}),
])
def test_metaimage_without_a_grid_is_refused(tmp_path, name, fields):
    refused(mha(tmp_path / f"{name}.mha", **fields), "geometry is invalid")


def test_valid_geometry_still_reads(tmp_path):
    vol = read_volume(nrrd(tmp_path / "ok.nrrd", spacings="0.5 -2 3"))
    assert np.allclose(vol.spacing, (0.5, 2, 3))
    vol = read_volume(mha(tmp_path / "ok.mha", ElementSpacing="0.7 0.8 2.5", Offset="1 2 3"))
    assert np.allclose(vol.spacing, (0.7, 0.8, 2.5)) and math.isclose(vol.origin[2], 3.0)


# -- DICOM ----------------------------------------------------------------------------------------------------------


def _edit_series(files, **tags) -> None:
    import pydicom

    for f in files:
        ds = pydicom.dcmread(f)
        for k, v in tags.items():
            setattr(ds, k, v)
        ds.save_as(f)


@pytest.mark.parametrize("tags,phrase", [
    ({"PixelSpacing": [0, 0]}, "geometry is invalid"),
    ({"PixelSpacing": ["nan", "1"]}, "PixelSpacing"),
    ({"ImageOrientationPatient": [1, 0, 0, 1, 0, 0]}, "orientation is degenerate"),
    ({"ImageOrientationPatient": [0, 0, 0, 0, 1, 0]}, "orientation is degenerate"),
    ({"ImageOrientationPatient": [1, 0, 0]}, "ImageOrientationPatient"),
    ({"RescaleSlope": "inf"}, "rescale"),
])
def test_dicom_series_without_a_grid_is_refused(tmp_path, tags, phrase):
    files = write_dicom_series(tmp_path / "s", np.zeros((6, 5, 4), np.int16))
    _edit_series(files, **tags)
    with pytest.raises(InputError, match=phrase) as info:
        read_volume(tmp_path / "s")
    assert "\n" not in str(info.value)


def test_dicom_position_that_is_not_a_number_is_refused(tmp_path):
    files = write_dicom_series(tmp_path / "s", np.zeros((6, 5, 4), np.int16))
    _edit_series(files[1:2], ImagePositionPatient=["0", "nan", "0"])
    with pytest.raises(InputError, match="ImagePositionPatient") as info:
        read_volume(tmp_path / "s")
    assert files[1].name in str(info.value)
