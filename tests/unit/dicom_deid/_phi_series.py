"""Generated DICOM series with planted PHI in every attribute class the profile names, nested and private.

Every text value planted is a unique token (``ZQ`` + letters), every planted UID is unique, every planted date is a
real date: a test can then look for each one in every element of every output, recursively, and in the raw bytes.
:func:`planted_rows` fills every attribute of Table E.1-1 whose VR takes text, dates, times or UIDs; sequences get an
item with nested PHI (a patient name, an institution, a UID, a date). Pixel arrays are tiny (16x12) and carry a CT
phantom the app's reader and the tiny segmentation model understand.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CT = "1.2.840.10008.5.1.4.1.1.2"
_LETTERS = string.ascii_uppercase


def _tokens():
    for n in itertools.count():
        a, b, c = n // 676 % 26, n // 26 % 26, n % 26
        yield "ZQ" + _LETTERS[a] + _LETTERS[b] + _LETTERS[c]


@dataclass
class Planted:
    """What was planted: tokens by keyword, UIDs, dates, and the source values the patient is known by."""

    tokens: dict[str, str] = field(default_factory=dict)
    uids: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    nested: dict[str, str] = field(default_factory=dict)
    private: dict[str, str] = field(default_factory=dict)


_TEXT_VRS = {"LO", "SH", "ST", "LT", "UT", "UC", "PN", "AE"}


def planted_rows(ds, planted: Planted, tokens, uid_base: str) -> None:
    """Set every table attribute (text, date, time, UID, sequence) on ``ds`` with a planted value."""
    from pydicom.datadict import dictionary_VR
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from medpriv_desktop.core.dicom_deid.table import table

    skip = {"PatientName", "PatientID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID",
            "FrameOfReferenceUID", "MediaStorageSOPInstanceUID", "PatientAge", "PatientSex", "DataSetTrailingPadding"}
    n = 0
    for tag, row in sorted(table().items()):
        if row.keyword in skip or (tag >> 16) in (0x0000, 0x0002):
            continue
        vr = dictionary_VR(tag)
        if " or " in vr:
            continue
        if vr in _TEXT_VRS:
            tok = next(tokens)
            setattr(ds, row.keyword, tok if vr != "PN" else f"{tok}^{next(tokens)}")
            planted.tokens[row.keyword] = tok
        elif vr == "DA":
            n += 1
            value = f"2019{1 + n % 12:02d}{1 + n % 27:02d}"
            setattr(ds, row.keyword, value)
            planted.dates.add(value)
        elif vr == "DT":
            n += 1
            value = f"2018{1 + n % 12:02d}{1 + n % 27:02d}101010"
            setattr(ds, row.keyword, value)
            planted.dates.add(value[:8])
        elif vr == "TM":
            setattr(ds, row.keyword, "101010")
        elif vr == "UI":
            n += 1
            value = f"{uid_base}.7.{n}"
            setattr(ds, row.keyword, value)
            planted.uids.add(value)
        elif vr == "SQ":
            item = Dataset()
            tok = next(tokens)
            item.PatientName = f"{tok}^NESTED"
            item.InstitutionName = next(tokens)
            n += 1
            item.ReferencedSOPInstanceUID = f"{uid_base}.8.{n}"
            item.ReferencedSOPClassUID = CT
            item.ContentDate = "20190505"
            planted.uids.add(item.ReferencedSOPInstanceUID)
            planted.nested[row.keyword] = tok
            planted.nested[row.keyword + ".InstitutionName"] = item.InstitutionName
            setattr(ds, row.keyword, Sequence([item]))


def add_private(ds, planted: Planted, tokens) -> None:
    """Siemens' safe numeric slots (kept under Retain Safe Private), a text in a safe slot, a private sequence."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds.add_new(0x00190010, "LO", "SIEMENS CT VA0  COAD")
    ds.add_new(0x00191092, "DS", "0.9236")           # safe and numeric: kept with the option
    ds.add_new(0x001910B0, "DS", "15.3")
    ds.add_new(0x00191093, "LO", next(tokens))         # safe slot, text inside: removed
    planted.private["coad-text"] = ds[0x00191093].value
    ds.add_new(0x00290010, "LO", "ACME PHI BLOCK")
    ds.add_new(0x00291001, "LO", next(tokens))
    planted.private["acme"] = ds[0x00291001].value
    item = Dataset()
    item.PatientName = next(tokens)
    planted.private["acme-seq"] = str(item.PatientName)
    ds.add_new(0x00291002, "SQ", Sequence([item]))
    ds.add_new(0x60000010, "US", 4)                    # an overlay: removed whole
    ds.add_new(0x60004000, "LT", next(tokens))
    planted.private["overlay"] = ds[0x60004000].value
    ds.add_new(0x0018FFF0, "LO", next(tokens))         # an even-group element no dictionary knows: removed
    planted.private["unknown"] = ds[0x0018FFF0].value


def write_phi_series(folder: Path, hu: np.ndarray | None = None, *, patient_id: str = "MRN4455",
                     patient_name: str = "SMITH^JOHN", study_date: str = "20210304", uid_base: str = "1.2.826.0.1.99",
                     sop_class: str = CT, extra=None, plant: bool = True, seed: int = 0) -> tuple[list[Path], Planted]:
    """Write a CT series (one file per slice) whose headers carry planted PHI; return the files and what was planted."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    if hu is None:
        hu = phantom_hu(seed)
    folder.mkdir(parents=True, exist_ok=True)
    planted = Planted()
    tokens = _tokens()
    study_uid, series_uid, for_uid = f"{uid_base}.1", f"{uid_base}.2", f"{uid_base}.3"
    planted.uids |= {study_uid, series_uid, for_uid}
    planted.tokens["PatientName"], planted.tokens["PatientID"] = patient_name, patient_id
    planted.dates.add(study_date)
    nx, ny, nz = hu.shape
    files = []
    for k in range(nz):
        sop_uid = f"{uid_base}.4.{k + 1}"
        planted.uids.add(sop_uid)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.SourceApplicationEntityTitle = "ZQAETITLE"
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        if plant:
            planted_rows(ds, planted, _tokens(), f"{uid_base}.{k + 1}")  # same tokens on every slice
            add_private(ds, planted, _tokens_from(500))
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, for_uid
        ds.PatientName, ds.PatientID = patient_name, patient_id
        ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = "19500607", "M", "095Y"
        ds.StudyDate, ds.SeriesDate, ds.StudyTime = study_date, study_date, "101010"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 3, k + 1
        ds.Manufacturer, ds.ImageType = "TESTVENDOR", ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-20.0, -30.0, 10.0 + 4.0 * k]
        ds.PixelSpacing, ds.SliceThickness = [3.0, 3.0], 4.0
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = np.ascontiguousarray((hu[:, :, k].T.astype(np.int32) + 1024).astype(np.uint16)).tobytes()
        if extra is not None:
            extra(ds, k)
        p = folder / f"{patient_name.replace('^', '_')}_{k:03d}.dcm"
        ds.save_as(str(p), enforce_file_format=True)
        files.append(p)
    return files, planted


def _tokens_from(start: int):
    t = _tokens()
    for _ in range(start):
        next(t)
    return t


def phantom_hu(seed: int = 0, shape=(16, 12, 6)) -> np.ndarray:
    """A small CT phantom: air around a soft-tissue body with a bone core (int16 HU)."""
    rng = np.random.default_rng(seed)
    hu = np.full(shape, -1000, np.int16)
    hu[3:13, 2:10, :] = 40
    hu[6:10, 4:8, :] = 700
    return (hu + rng.integers(-5, 5, shape)).astype(np.int16)
