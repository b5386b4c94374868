"""Burned-in text: instances whose pixels may show identifying text, which no header change can remove.

An instance is held back (refused, or quarantined beside the output) unless the user allows it, when its header says
``BurnedInAnnotation`` is YES, or when it is of a kind known to carry text in its pixels:

* secondary captures (screen captures, dose screens, scanned pages: the Secondary Capture SOP classes);
* ultrasound (patient name and date are part of the image on most machines);
* encapsulated documents (PDF, CDA, STL... a scanned request or report);
* dose reports (the radiation dose SR classes) and images typed as screen saves or dose information;
* photographs (visible light and external camera images: faces, wristbands).

The screen reads only the header (SOP class, Modality, ImageType, BurnedInAnnotation). It does not read pixels: text
in the pixels of an ordinary CT or MR slice, or a face that a head scan lets one render, is not detected (PS3.15's
Clean Pixel Data and Clean Recognizable Visual Features options are not implemented).
"""

from __future__ import annotations

from typing import Any

_SC = "1.2.840.10008.5.1.4.1.1.7"
#: SOP class UID prefixes or values -> the reason given in the report.
_CLASS_REASONS: tuple[tuple[str, str], ...] = (
    (_SC, "secondary capture"),               # .7, .7.1 ... .7.4 (multi-frame SC)
    ("1.2.840.10008.5.1.4.1.1.6.", "ultrasound"),      # US image, US multi-frame (.3.1 retired below)
    ("1.2.840.10008.5.1.4.1.1.3.1", "ultrasound"),
    ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.88.67", "dose report"),
    ("1.2.840.10008.5.1.4.1.1.88.68", "dose report"),
    ("1.2.840.10008.5.1.4.1.1.88.73", "dose report"),
    ("1.2.840.10008.5.1.4.1.1.77.1.4", "photograph"),
    ("1.2.840.10008.5.1.4.1.1.77.1.1", "photograph"),
)
_MODALITY_REASONS = {"US": "ultrasound", "SC": "secondary capture", "DOC": "encapsulated document",
                     "XC": "photograph", "GM": "photograph"}
_IMAGE_TYPE_REASONS = {"SCREEN SAVE": "secondary capture", "DOSE_INFO": "dose report", "DOSE INFO": "dose report",
                       "DOSE REPORT": "dose report", "CSA REPORT": "dose report"}

#: Every reason the screen gives (the report counts by these).
REASONS = ("burned-in annotation", "secondary capture", "ultrasound", "encapsulated document", "dose report",
           "photograph")


def _sop_class(ds: Any) -> str:
    from medpriv_desktop.core.imaging.dicom_series import sop_class

    return sop_class(ds)


def burned_in_reason(ds: Any) -> str | None:
    """Why ``ds`` may carry text in its pixels (one of :data:`REASONS`), or None when nothing says so."""
    if str(ds.get("BurnedInAnnotation", "") or "").strip().upper() == "YES":
        return "burned-in annotation"
    cls = _sop_class(ds)
    for prefix, reason in _CLASS_REASONS:
        if cls == prefix or cls.startswith(prefix + ".") or (prefix.endswith(".") and cls.startswith(prefix)):
            return reason
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality in _MODALITY_REASONS:
        return _MODALITY_REASONS[modality]
    image_type = ds.get("ImageType") or []
    values = [image_type] if isinstance(image_type, str) else list(image_type)
    for v in values:
        reason = _IMAGE_TYPE_REASONS.get(str(v).strip().upper())
        if reason:
            return reason
    return None
