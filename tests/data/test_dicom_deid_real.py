"""DICOM de-identification on the shared example series (a real Siemens CT whose headers still hold an institution
address, a station name, dates, an issuer of patient ID, acquisition UIDs and private tags). Skipped when absent."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.dicom_deid.verify import verify_folder
from medpriv_desktop.core.imaging.io import read_volume
from medpriv_desktop.core.jobs import run_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "dicom_deid"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "imaging"))


@pytest.fixture
def series(shared_data: Path) -> Path:
    d = shared_data / "imaging" / "totalsegmentator" / "example_ct_dicom"
    if not d.is_dir():
        pytest.skip("imaging/totalsegmentator/example_ct_dicom not in the shared data")
    return d


def _identifying(src: Path) -> set[str]:
    """Values of the source headers that must not survive (read from the files, not written into this test)."""
    values: set[str] = set()
    for f in sorted(src.iterdir()):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        for kw in ("InstitutionAddress", "StationName", "IssuerOfPatientID", "RequestingPhysician",
                   "PerformedProcedureStepID", "DeviceSerialNumber", "ProtocolName"):
            if str(ds.get(kw, "") or "").strip():
                values.add(str(ds.get(kw)).strip())
        for kw in ("IrradiationEventUID", "FrameOfReferenceUID"):
            values.add(str(ds.get(kw)))
        values.add(str(ds.file_meta.MediaStorageSOPInstanceUID))
        values.add(str(ds.file_meta.get("SourceApplicationEntityTitle", "") or "").strip())
        values |= {str(i.ReferencedSOPInstanceUID) for i in ds.get("ReferencedImageSequence", [])}
    return {v for v in values if len(v) >= 4}


def test_shared_series_is_clean_and_still_reads(series, tmp_path):
    from _scan import dicom_files, survivors

    out = tmp_path / "out"
    assert main(["deid-dicom", str(series), "-o", str(out), "-q"]) == 0
    outs = dicom_files(out)
    assert len(outs) == len(list(series.iterdir())) == 20
    result = run_job(verify_folder(out, series))
    assert result.ok and result.paired == 20, result.lines()
    needles = _identifying(series)
    assert len(needles) >= 8
    assert survivors(out, needles) == {}
    src_dates = {pydicom.dcmread(f, stop_before_pixels=True).StudyDate for f in series.iterdir()}
    for f in outs:
        ds = pydicom.dcmread(f)
        assert ds.StudyDate not in src_dates and ds.PatientIdentityRemoved == "YES"
        private = {e.tag.group for e in ds if e.tag.is_private}
        assert private <= {0x0019}  # only the Siemens numeric slots of the safe list
    before, after = read_volume(series), read_volume(outs[0].parent)
    assert np.array_equal(before.array, after.array) and np.allclose(before.affine, after.affine)
    src_pixels = sorted(pydicom.dcmread(f).PixelData for f in series.iterdir())
    assert src_pixels == sorted(pydicom.dcmread(f).PixelData for f in outs)


def test_shared_series_segments_and_its_seg_references_the_deidentified_uids(series, tmp_path):
    pytest.importorskip("onnx")
    from _imaging_fixtures import make_bundle

    from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
    from medpriv_desktop.core.models.registry import ModelRegistry

    out = tmp_path / "out"
    assert main(["deid-dicom", str(series), "-o", str(out), "-q"]) == 0
    deid_series = next(out.rglob("*.dcm")).parent
    dss = [pydicom.dcmread(p, stop_before_pixels=True) for p in deid_series.glob("*.dcm")]
    make_bundle(tmp_path / "bundled", spacing=(2.0, 2.0, 2.0))
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)
    entry = reg.get("seg-tiny-test")
    res = run_job(segment_study(Context.build(registry=reg), series, entry,
                                output=tmp_path / "seg", options=SegmentOptions(deidentify=True)))
    seg = pydicom.dcmread(next(p for p in res.outputs if p.suffix == ".dcm"))
    ref = seg.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == dss[0].SeriesInstanceUID
    assert {i.ReferencedSOPInstanceUID for i in ref.ReferencedInstanceSequence} <= {d.SOPInstanceUID for d in dss}
    (tmp_path / "segonly").mkdir()
    shutil.copy(seg.filename, tmp_path / "segonly" / "seg.dcm")
    assert run_job(verify_folder(tmp_path / "segonly")).ok
