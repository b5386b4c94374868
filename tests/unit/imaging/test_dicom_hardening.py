"""DICOM reading under attack: DICOMDIR references confined to its folder, links out of a study folder not followed,
FIFOs skipped without blocking, slice sizes checked from the headers before any pixel is read, and a series with a
blank SOPClassUID read as images with a warning, its label maps, SEG, summary and audit entry all written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest

from _imaging_fixtures import in_time, make_bundle, write_dicom_series
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.dicom import dicomdir_series, list_dicom_series
from medpriv_desktop.core.imaging.io import read_volume

HU = np.full((12, 10, 5), -1000, np.int16)
HU[3:9, 2:8, :] = 40


def media(tmp_path: Path, hu=HU) -> Path:
    """A DICOM media folder (DICOMDIR + PT*/ST*/SE*/IM* files) written by pydicom's FileSet; returns the DICOMDIR."""
    from pydicom.fileset import FileSet

    files = write_dicom_series(tmp_path / "src", hu)
    fs = FileSet()
    for f in files:
        fs.add(f)
    fs.write(tmp_path / "media")
    return tmp_path / "media" / "DICOMDIR"


def _retarget_first_image(dicomdir: Path, file_id) -> None:
    ds = pydicom.dcmread(dicomdir)
    record = next(r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r)
    record.ReferencedFileID = file_id
    ds.save_as(dicomdir)


# -- DICOMDIR -------------------------------------------------------------------------------------------------------


def test_dicomdir_reads_the_series_it_references(tmp_path):
    dicomdir = media(tmp_path)
    vol = read_volume(dicomdir)
    assert vol.shape == HU.shape and np.array_equal(vol.array, HU)
    assert [s.n_slices for s in dicomdir_series(dicomdir)] == [HU.shape[2]]


@pytest.mark.parametrize("file_id", [["..", "..", "src", "x.dcm"], "/etc/passwd", ["PT000000", "..", "..", "x"],
                                     ["C:", "x"]])
def test_dicomdir_reference_outside_its_folder_is_refused(tmp_path, file_id):
    dicomdir = media(tmp_path)
    _retarget_first_image(dicomdir, file_id)
    with pytest.raises(InputError, match="refers to a file outside its folder") as info:
        read_volume(dicomdir)
    assert "DICOMDIR" in str(info.value)


def test_dicomdir_reference_through_a_link_leading_out_is_refused(tmp_path):
    dicomdir = media(tmp_path)
    outside = write_dicom_series(tmp_path / "other_patient", HU)[0]
    os.symlink(outside, tmp_path / "media" / "LINK0000")
    _retarget_first_image(dicomdir, ["LINK0000"])
    with pytest.raises(InputError, match="outside its folder"):
        read_volume(dicomdir)


def test_damaged_dicomdir_is_one_error(tmp_path):
    (tmp_path / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00" * 30)
    with pytest.raises(InputError, match="DICOMDIR"):
        read_volume(tmp_path / "DICOMDIR")


# -- study folders ----------------------------------------------------------------------------------------------------


def test_link_out_of_the_study_folder_is_not_followed(tmp_path):
    write_dicom_series(tmp_path / "study", HU)
    other = write_dicom_series(tmp_path / "other", HU, series_uid="1.2.3.4.5.6")
    os.symlink(other[0], tmp_path / "study" / "z_link.dcm")  # would add a second series (another patient)
    series = list_dicom_series(tmp_path / "study")
    assert len(series) == 1 and series[0].n_slices == HU.shape[2]
    vol = read_volume(tmp_path / "study")
    assert any("lead outside it and were not followed" in w for w in vol.meta["warnings"])


def test_fifo_in_a_study_folder_is_skipped_without_blocking(tmp_path):
    write_dicom_series(tmp_path / "study", HU)
    os.mkfifo(tmp_path / "study" / "pipe.dcm")
    vol = in_time(lambda: read_volume(tmp_path / "study"))
    assert vol.shape == HU.shape


# -- sizes from the headers before any pixel ----------------------------------------------------------------------


def _edit(path: Path, **tags) -> None:
    ds = pydicom.dcmread(path)
    for k, v in tags.items():
        setattr(ds, k, v)
    ds.save_as(path)


@pytest.mark.parametrize("tags,phrase", [
    ({"NumberOfFrames": 1_000_000}, "exceeds the limit"),
    ({"Rows": 65535, "Columns": 65535}, "exceeds the limit"),
    ({"NumberOfFrames": 3}, "multi-frame"),
    ({"SamplesPerPixel": 3}, "single-channel"),
    ({"BitsAllocated": 128}, "size tags"),
    ({"NumberOfFrames": "-5"}, "size tags"),
])
def test_slice_sizes_are_checked_before_pixels_are_read(tmp_path, monkeypatch, tags, phrase):
    files = sorted(write_dicom_series(tmp_path / "s", HU))
    _edit(files[3], **tags)  # a later slice: the first one is innocent
    monkeypatch.setenv("MEDPRIV_MAX_VOXELS", str(10**7))
    pixel_reads = []
    real = pydicom.dcmread

    def spy(fp, *args, **kwargs):
        if not kwargs.get("stop_before_pixels"):
            pixel_reads.append(fp)
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", spy)
    with pytest.raises(InputError, match=phrase) as info:
        read_volume(tmp_path / "s")
    assert files[3].name in str(info.value)
    assert pixel_reads == [], "pixel data was read before the sizes were checked"


# -- blank SOPClassUID -------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_model(medpriv_home) -> str:
    pytest.importorskip("onnx")
    from medpriv_desktop.core import paths

    make_bundle(paths.user_models_dir(), "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    return "seg-tiny-test"


def _blank_sop_class(files, media_too: bool) -> None:
    for f in files:
        ds = pydicom.dcmread(f)
        ds.SOPClassUID = ""
        if media_too:
            del ds.file_meta.MediaStorageSOPClassUID
        ds.save_as(f)


def _audit_actions() -> list[str]:
    from medpriv_desktop.core import paths

    log = paths.audit_dir() / "audit.jsonl"
    return [json.loads(line).get("action") for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("media_too", [False, True], ids=["media-class-kept", "media-class-blank"])
def test_blank_sop_class_series_is_segmented_with_every_output(tmp_path, capsys, tiny_model, media_too):
    from medpriv_desktop.cli import main

    files = write_dicom_series(tmp_path / "ct", HU)
    _blank_sop_class(files, media_too)
    vol = read_volume(tmp_path / "ct")
    # The class is known from the file meta unless that is blank too: only then is there something to say.
    assert any("no SOP Class UID" in w for w in vol.meta["warnings"]) == media_too
    rc = main(["segment", str(tmp_path / "ct"), "--model", tiny_model, "-o", str(tmp_path / "out"), "-q",
               "--threads", "1"])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err, err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (tmp_path / "out" / "ct_seg.nii.gz").is_file() and (tmp_path / "out" / "ct_seg.nrrd").is_file()
    assert any("no SOP Class UID" in w for w in summary["warnings"]) == media_too
    if media_too:  # nothing tells the class: no SEG, and the summary says why
        assert not (tmp_path / "out" / "ct_seg.dcm").exists()
        assert any("DICOM SEG not written" in w and "SOPClassUID" in w for w in summary["warnings"])
    else:  # the class from the file meta: a SEG that references the series
        seg = pydicom.dcmread(tmp_path / "out" / "ct_seg.dcm")
        assert seg.Modality == "SEG" and len(seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence) > 0
    assert "imaging.segment" in _audit_actions()
