"""Burned-in text: instances that may show text in their pixels are refused, quarantined beside, or allowed."""

from __future__ import annotations

import json

import pydicom
import pytest
from _phi_series import write_phi_series
from _scan import dicom_files
from pydicom.dataset import Dataset

from medpriv_desktop.core.dicom_deid.batch import DicomDeidOptions, deidentify_dicom_folder
from medpriv_desktop.core.dicom_deid.burned_in import burned_in_reason
from medpriv_desktop.core.jobs import run_job

CASES = [
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "Modality": "CT"}, None),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "Modality": "CT", "BurnedInAnnotation": "YES"},
     "burned-in annotation"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "Modality": "CT", "BurnedInAnnotation": "NO"}, None),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7", "Modality": "OT"}, "secondary capture"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7.4", "Modality": "CT"}, "secondary capture"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.6.1", "Modality": "US"}, "ultrasound"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.3.1", "Modality": "US"}, "ultrasound"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.104.1", "Modality": "DOC"}, "encapsulated document"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.88.67", "Modality": "SR"}, "dose report"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "Modality": "CT", "ImageType": ["DERIVED", "SECONDARY",
                                                                                  "SCREEN SAVE"]},
     "secondary capture"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "Modality": "CT", "ImageType": ["DERIVED", "SECONDARY",
                                                                                  "DOSE_INFO"]}, "dose report"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.77.1.4", "Modality": "XC"}, "photograph"),
    ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.4", "Modality": "MR", "ImageType": ["DERIVED", "SECONDARY"]}, None),
]


@pytest.mark.parametrize("attrs,reason", CASES)
def test_screen_by_header(attrs, reason):
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    assert burned_in_reason(ds) == reason


def _mixed_study(tmp_path):
    """Six CT slices, two of them flagged: one BurnedInAnnotation YES, one secondary capture."""
    def flag(ds, k):
        if k == 1:
            ds.BurnedInAnnotation = "YES"
        if k == 4:
            ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"

    write_phi_series(tmp_path / "in" / "ct", extra=flag, plant=False)
    return tmp_path / "in"


@pytest.mark.parametrize("policy", ["refuse", "quarantine", "allow"])
def test_policies_write_where_they_say_and_the_report_lists_them(tmp_path, policy):
    inp = _mixed_study(tmp_path)
    out = tmp_path / "out"
    options = DicomDeidOptions(quarantine=policy == "quarantine", allow_burned_in=policy == "allow")
    summary = run_job(deidentify_dicom_folder(inp, out, options))
    report = json.loads((out / "deid_report.json").read_text(encoding="utf-8"))
    held = report["held_back"]
    assert sorted(h["reason"] for h in held) == ["burned-in annotation", "secondary capture"]
    outcome = {"refuse": "refused", "quarantine": "quarantined", "allow": "allowed"}[policy]
    assert {h["outcome"] for h in held} == {outcome}
    written = {pydicom.dcmread(p).SOPInstanceUID for p in dicom_files(out)}
    quarantined = {pydicom.dcmread(p).SOPInstanceUID for p in dicom_files(tmp_path / "out-quarantine")}
    held_uids = {h["instance"] for h in held}
    if policy == "refuse":
        assert len(written) == 4 and not (written & held_uids) and not quarantined
    elif policy == "quarantine":
        assert len(written) == 4 and quarantined == held_uids
        assert all(pydicom.dcmread(p).PatientIdentityRemoved == "YES" for p in dicom_files(tmp_path / "out-quarantine"))
    else:
        assert len(written) == 6 and held_uids <= written
    key = "burned_in_allowed" if policy == "allow" else outcome
    assert report["counts"][key] == 2 == summary.count(outcome)
