"""DICOM series: geometry from the headers, tilt and uneven spacing reported, compressed data, DICOM SEG export."""

from __future__ import annotations

import numpy as np
import pytest

from _imaging_fixtures import make_bundle, write_dicom_series
from medpriv_desktop.core.imaging.export import export_dicom_seg
from medpriv_desktop.core.imaging.io import list_dicom_series, read_volume
from medpriv_desktop.core.imaging.volume import LabelMap


@pytest.fixture
def hu():
    return np.random.default_rng(0).integers(-1000, 1500, (12, 10, 6)).astype(np.int16)


def test_series_geometry_and_hu(tmp_path, hu):
    write_dicom_series(tmp_path / "s", hu, spacing=(0.7, 0.9, 2.5), origin_lps=(-100.0, -120.0, 50.0))
    vol = read_volume(tmp_path / "s")
    assert vol.modality == "CT" and vol.orientation_codes() == "LPS"
    assert np.array_equal(vol.array, hu)
    # LPS (-100, -120, 50) is RAS (100, 120, 50); i runs along +x LPS = -x RAS.
    expected = np.array([[-0.7, 0, 0, 100], [0, -0.9, 0, 120], [0, 0, 2.5, 50], [0, 0, 0, 1]])
    assert np.allclose(vol.affine, expected)
    assert vol.meta["warnings"] == [] and vol.meta["patient"]["name"] == "DOE^JANE"
    assert "DOE" not in repr(vol) and "DOE" not in repr(list_dicom_series(tmp_path / "s"))


def test_slices_are_sorted_by_position_not_by_file_name(tmp_path, hu):
    files = write_dicom_series(tmp_path / "s", hu)
    for i, f in enumerate(files):
        f.rename(f.with_name(f"zz_{len(files) - i:03d}.dcm"))  # reverse the file-name order
    assert np.array_equal(read_volume(tmp_path / "s").array, hu)


def test_gantry_tilt_and_uneven_spacing_are_reported(tmp_path, hu):
    write_dicom_series(tmp_path / "t", hu, tilt_mm_per_slice=0.6)
    assert any("gantry tilt" in w for w in read_volume(tmp_path / "t").meta["warnings"])
    write_dicom_series(tmp_path / "u", hu, z_positions=[0.0, 2.5, 5.0, 10.0, 12.5, 15.0])
    vol = read_volume(tmp_path / "u")
    assert any("uneven slice spacing" in w for w in vol.meta["warnings"])
    assert np.isclose(vol.spacing[2], 3.0)


def test_jpeg2000_compressed_series(tmp_path):
    import pydicom
    from pydicom.uid import JPEG2000Lossless

    # OpenJPEG's default of 6 resolution levels needs slices of at least 32x32.
    hu = np.random.default_rng(1).integers(-1000, 1500, (64, 48, 3)).astype(np.int16)
    files = write_dicom_series(tmp_path / "j", hu)
    try:
        for f in files:
            ds = pydicom.dcmread(f)
            ds.compress(JPEG2000Lossless)
            ds.save_as(f)
    except Exception as exc:  # encoder plugin missing on this platform
        pytest.skip(f"no JPEG 2000 encoder here: {type(exc).__name__}")
    vol = read_volume(tmp_path / "j")
    assert vol.meta["transfer_syntax"] == JPEG2000Lossless
    assert np.array_equal(vol.array, hu)


def test_dicom_seg_export_references_the_source(tmp_path, hu):
    pytest.importorskip("onnx")
    import highdicom as hd

    from medpriv_desktop.core.models.registry import read_card

    write_dicom_series(tmp_path / "s", hu)
    vol = read_volume(tmp_path / "s")
    arr = np.zeros(vol.shape, np.uint8)
    arr[2:6, 3:7, 1:4] = 1
    arr[8:10, 1:3, 4:6] = 2
    lm = LabelMap.like(vol, arr, {0: "background", 1: "soft_tissue", 2: "bone"}, {1: (200, 50, 50)})
    card = read_card(make_bundle(tmp_path / "b"))
    out = export_dicom_seg(lm, card, tmp_path / "seg.dcm")
    seg = hd.seg.segread(str(out))
    assert [d.SegmentLabel for d in seg.SegmentSequence] == ["soft_tissue", "bone"]
    import pydicom

    mask = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[pydicom.dcmread(f).SOPInstanceUID for f in vol.meta["dicom_files"]],
        segment_numbers=[1, 2], combine_segments=True, skip_overlap_checks=True)
    # highdicom gives [frame, row, column]; ours is [column, row, slice].
    assert np.array_equal(np.transpose(mask, (2, 1, 0)), arr)


def test_reading_a_series_reports_progress_and_can_be_cancelled(tmp_path):
    from medpriv_desktop.core.errors import JobCancelled
    from medpriv_desktop.core.imaging.io import read_volume_job
    from medpriv_desktop.core.jobs import CancelToken, run_job

    write_dicom_series(tmp_path / "s", np.zeros((8, 8, 20), np.int16))
    seen = []
    vol = run_job(read_volume_job(tmp_path / "s"), seen.append)
    assert vol.shape == (8, 8, 20) and any("slice 9/20" in p.message for p in seen)
    token = CancelToken()
    with pytest.raises(JobCancelled):
        run_job(read_volume_job(tmp_path / "s"), lambda p: token.cancel(), token)


def test_multiframe_dicom_is_refused_clearly(tmp_path):
    import pydicom

    from medpriv_desktop.core.errors import InputError

    files = write_dicom_series(tmp_path / "m", np.zeros((8, 8, 3), np.int16))
    for f in files:
        ds = pydicom.dcmread(f)
        ds.NumberOfFrames = 2
        ds.save_as(f)
    with pytest.raises(InputError, match="multi-frame"):
        read_volume(tmp_path / "m")
