"""A de-identification session: one key, one profile, one patient map, applied to any number of instances.

Both the folder job (:mod:`.batch`) and de-identified exports (:mod:`.exports`) go through it, so an image written by
``medpriv deid-dicom`` and a DICOM SEG written by ``medpriv segment --deidentify`` from the same source agree on every
UID, pseudonym and date. Output names are pseudonymous: ``patient-<keyed hash>/study-<hash>/series-<hash>/<hash>.dcm``,
where the study, series and instance hashes are of the *new* UIDs (already keyed), so no source value is in a path.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from medpriv_desktop.core.dicom_deid.actions import DeidContext
from medpriv_desktop.core.dicom_deid.instance import SourceIdentity, deidentify_instance
from medpriv_desktop.core.dicom_deid.patients import PatientMap
from medpriv_desktop.core.dicom_deid.profile import Profile
from medpriv_desktop.core.dicom_deid.uids import UidMapper


def _short(text: str, n: int) -> str:
    return hashlib.sha256(text.encode("ascii", "replace")).hexdigest()[:n]


class DeidSession:
    """Keyed tools shared by every instance of a run (see the module docstring)."""

    def __init__(self, profile: Profile | None = None, key: bytes | None = None, patients: PatientMap | None = None,
                 clean_text: Callable[[str], str] | None = None) -> None:
        from medpriv_desktop.core.notes.surrogates import Surrogator

        if key is None:
            from medpriv_desktop.core.keys import load_key

            key = load_key("deid")
        self.key = key
        self.profile = profile or Profile()
        self.surrogator = Surrogator(key)
        self.uids = UidMapper(key)
        self.patients = patients or PatientMap()
        self.clean_text = clean_text
        self.counts: collections.Counter = collections.Counter()

    def patient(self, ident: SourceIdentity) -> str:
        """The patient key of a source instance (PatientID or mapping; its own per study when unplaced)."""
        return self.patients.patient_for(ident.patient_id, ident.study)

    def deidentify(self, ds: Any, ident: SourceIdentity, patient: str | None = None) -> str:
        """De-identify ``ds`` in place; returns the patient key used."""
        patient = patient if patient is not None else self.patient(ident)
        ctx = DeidContext(self.profile, self.surrogator, self.uids, patient, self.clean_text, self.counts)
        deidentify_instance(ds, ctx, ident)
        return patient

    def context(self, patient: str) -> DeidContext:
        """A context for ``patient`` (for elements of derived objects, e.g. a SEG's own dates)."""
        return DeidContext(self.profile, self.surrogator, self.uids, patient, self.clean_text, self.counts)

    def patient_folder(self, patient: str) -> str:
        """The pseudonymous folder name of a patient (a keyed hash: the key is never written)."""
        mac = hmac.new(self.key, f"dicom-patient-folder|{patient}".encode("utf-8"), hashlib.sha256).hexdigest()
        return f"patient-{mac[:10]}"

    def output_name(self, ident: SourceIdentity, patient: str) -> str:
        """The output path of an instance, relative to the output folder, with ``/`` separators."""
        study, series, inst = self.uids(ident.study), self.uids(ident.series), self.uids(ident.instance)
        return (f"{self.patient_folder(patient)}/study-{_short(study, 10)}/series-{_short(series, 10)}/"
                f"{_short(inst, 16)}.dcm")

    def export_stem(self, ident: SourceIdentity) -> str:
        """A pseudonymous base name for exports made from a series (segmentations, meshes, statistics)."""
        return f"series-{_short(self.uids(ident.series), 10)}"
