"""UID remapping: the same source UID becomes the same new UID under the same key, everywhere and on every rerun.

A new UID is ``2.25.<integer>`` (PS3.5 B.2: a UID from a 128-bit number), the integer being the first 16 bytes of
HMAC-SHA256(deid key, label | source UID). Studies, series, instances, frames of reference and every reference to them
(Referenced SOP Instance UID, Source Image Sequence, a SEG's references) therefore stay linked after
de-identification, across patients, studies and separate runs, while nobody without the site's ``deid`` key can
recompute or reverse the mapping. UIDs that name a class rather than an instance (SOP classes, transfer syntaxes,
coding schemes, context groups: everything under the DICOM root ``1.2.840.10008.`` and the class attributes listed in
:data:`CLASS_UID_KEYWORDS`) identify nobody and stay as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: UID attributes whose value names a class, syntax or scheme (kept), not an instance (remapped).
CLASS_UID_KEYWORDS = frozenset({
    "SOPClassUID", "ReferencedSOPClassUID", "MediaStorageSOPClassUID", "ReferencedSOPClassUIDInFile",
    "TransferSyntaxUID", "ReferencedTransferSyntaxUIDInFile", "ImplementationClassUID", "AffectedSOPClassUID",
    "RequestedSOPClassUID", "CodingSchemeUID", "ContextUID", "MappingResourceUID", "RelatedGeneralSOPClassUID",
    "OriginalSpecializedSOPClassUID", "SOPClassesInStudy", "SOPClassesSupported",
})
DICOM_ROOT = "1.2.840.10008."
_LABEL = b"medpriv-dicom-uid/1|"
_NEW_UID = re.compile(r"2\.25\.(0|[1-9]\d{0,38})\Z")


def is_class_uid(keyword: str, value: str) -> bool:
    """True when a UID value names a class or scheme (never remapped)."""
    return keyword in CLASS_UID_KEYWORDS or value.startswith(DICOM_ROOT)


def looks_remapped(value: str) -> bool:
    """True when ``value`` has the form of a UID this module makes (``2.25.`` and at most 39 digits)."""
    return _NEW_UID.match(value) is not None


class UidMapper:
    """Keyed, deterministic UID remapping (see the module docstring)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        """The new UID for ``uid`` (surrounding spaces and NUL padding ignored); "" stays ""."""
        uid = str(uid).strip("\x00 ")
        if not uid:
            return ""
        new = self._cache.get(uid)
        if new is None:
            digest = hmac.new(self._key, _LABEL + uid.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
            new = self._cache[uid] = f"2.25.{int.from_bytes(digest[:16], 'big')}"
        return new
