"""One DICOM instance de-identified: its identity (patient, study, series, instance), its elements, its markers.

:func:`source_identity` reads what ties a file to a patient, study and series *before* anything changes (a blank
Study, Series or SOP Instance UID, as some anonymisers leave them, is given a stable stand-in so that the output
still has real, consistent UIDs: the SOP Instance UID from the file meta when it is there, else from the file's keyed
content hash; the series from the same key the app's reader groups by). :func:`deidentify_instance` then applies the
profile (:mod:`.actions`), writes the de-identification markers PS3.15 asks for (PatientIdentityRemoved,
DeidentificationMethod, DeidentificationMethodCodeSequence with the CID 7050 codes of the options used,
LongitudinalTemporalInformationModified) and rebuilds the file meta from the new dataset (no source application
entity title, no private file meta). A blank SOPClassUID is filled from the file meta. Pixel data is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medpriv_desktop.core.dicom_deid.actions import DeidContext, deidentify_elements
from medpriv_desktop.core.dicom_deid.profile import CID7050, Profile


@dataclass(frozen=True)
class SourceIdentity:
    """What ties a source file to others (read before de-identification): source UIDs or their stand-ins."""

    patient_id: str
    study: str
    series: str
    instance: str
    sop_class: str


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip("\x00 ")


def source_identity(ds: Any, content_mac: str) -> SourceIdentity:
    """The source's patient id and study/series/instance UIDs (stand-ins for blank ones; see the module docstring)."""
    from medpriv_desktop.core.imaging.dicom_series import _series_key, sop_class

    meta = getattr(ds, "file_meta", None)
    instance = _text(ds, "SOPInstanceUID") or (_text(meta, "MediaStorageSOPInstanceUID") if meta is not None else "")
    instance = instance or f"blank-sop:{content_mac}"
    series = _text(ds, "SeriesInstanceUID") or f"blank-series:{_series_key(ds)}"
    study = _text(ds, "StudyInstanceUID")
    if not study:
        parts = [_text(ds, k) for k in ("PatientID", "StudyID", "StudyDate", "AccessionNumber")]
        study = "blank-study:" + "|".join(parts)
    return SourceIdentity(_text(ds, "PatientID"), study, series, instance, sop_class(ds))


def deidentify_instance(ds: Any, ctx: DeidContext, ident: SourceIdentity) -> None:
    """De-identify ``ds`` in place (elements, markers, file meta) under ``ctx`` for the source ``ident``."""
    if ident.sop_class and not _text(ds, "SOPClassUID"):
        ds.SOPClassUID = ident.sop_class
    deidentify_elements(ds, ctx)
    # After the walk (which mapped the source values, blank ones to blank): the identity's UIDs, stand-ins included.
    ds.StudyInstanceUID, ds.SeriesInstanceUID = ctx.uids(ident.study), ctx.uids(ident.series)
    ds.SOPInstanceUID = ctx.uids(ident.instance)
    mark_deidentified(ds, ctx.profile)
    rebuild_file_meta(ds)


def mark_deidentified(ds: Any, profile: Profile) -> None:
    """Write the PS3.15 markers: identity removed, the method in words and as CID 7050 codes, dates modified or not."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = profile.method_text()
    items = []
    for code in profile.codes:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "DCM", CID7050[code]
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    ds.LongitudinalTemporalInformationModified = "MODIFIED" if profile.shifts_dates else "REMOVED"


def rebuild_file_meta(ds: Any) -> None:
    """A new file meta from the de-identified dataset: its class and instance UIDs, the same transfer syntax."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

    old = getattr(ds, "file_meta", None)
    syntax = _text(old, "TransferSyntaxUID") if old is not None else ""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _text(ds, "SOPClassUID")
    meta.MediaStorageSOPInstanceUID = _text(ds, "SOPInstanceUID")
    meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MEDPRIV_DEID"
    ds.file_meta = meta
