"""Who "the patient" of a DICOM file is, and the pseudonyms it gets: the same ones the notes give that patient.

The patient is the file's PatientID, or, with ``--patient-id MAPPING.csv``, the ``patient`` column of the row whose
``patient_id`` column equals the file's PatientID (a mapping lets DICOM PatientIDs meet the patient keys a notes run
used, e.g. a study number). A file whose PatientID is empty, or that the mapping does not list, is its own patient per
study (counted as unplaced): it is never linked to anyone else, as an unplaced note is not.

Pseudonyms come from the notes' :class:`~medpriv_desktop.core.notes.surrogates.Surrogator` under the site's ``deid``
key, with the same patient key, so that notes and images of one patient line up:

* dates move by ``Surrogator.date_offset(patient)``, the notes' per-patient offset (never 0);
* PatientName: each component (family, given, middle...) through ``Surrogator.name(patient, component)``, exactly the
  fake words a surrogate note of that patient shows for those words;
* PatientID: what a surrogate note of that patient writes for the ID (``Surrogator.digits_like``, category MRN:
  the layout kept, every character from its own keyed byte); IDs with fewer than 8 letters and digits get keyed
  digits appended so two patients never share one (:func:`pseudonym_id`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError

_ID_COLUMNS = ("patient_id", "PatientID")


def own_patient(study_key: str) -> str:
    """The patient of a file that names no (mapped) patient: its own per study; no real id takes this value."""
    return f"\x00dicom-study:{study_key}"


class PatientMap:
    """Patients from PatientID, or from a mapping CSV (columns ``patient_id`` and ``patient``)."""

    def __init__(self, mapping: Path | None = None) -> None:
        self.mapping_path = Path(mapping) if mapping is not None else None
        self.mapping = self._load(self.mapping_path) if self.mapping_path is not None else None
        self.unplaced: set[str] = set()

    @staticmethod
    def _load(path: Path) -> dict[str, str]:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read the patient mapping ({type(exc).__name__})", path=path) from None
        columns = set(rows[0]) if rows else set()
        id_col = next((c for c in _ID_COLUMNS if c in columns), None)
        if id_col is None or "patient" not in columns:
            raise InputError("the patient mapping needs the columns 'patient_id' and 'patient'", path=path)
        return {r[id_col].strip(): r["patient"].strip() for r in rows if r.get(id_col) and r.get("patient")}

    @property
    def source(self) -> str:
        """Where patients come from: ``mapping`` or ``patient-id``."""
        return "mapping" if self.mapping is not None else "patient-id"

    def patient_for(self, patient_id: str, study_key: str) -> str:
        """The patient key of a file with this PatientID in the study ``study_key`` (see the module docstring)."""
        pid = patient_id.strip()
        found = (self.mapping.get(pid) if self.mapping is not None else pid) if pid else None
        if not found:
            self.unplaced.add(study_key)
            return own_patient(study_key)
        return found


def pseudonym_name(surrogator: Any, patient: str, original: str) -> str:
    """The patient's fake name in DICOM form: every ``^`` component replaced word by word as the notes do."""
    if not original.strip():
        return ""
    return "^".join(surrogator.name(patient, part) if part.strip() else part for part in original.split("^"))


def pseudonym_id(surrogator: Any, patient: str, original: str) -> str:
    """The patient's fake ID: exactly what the notes' surrogate operator writes for this ID in this patient's notes
    (:meth:`Surrogator.digits_like`, category MRN: the original's layout, every character from its own keyed byte).
    An ID with fewer than 8 letters and digits gets keyed digits appended, so that two patients never share a
    pseudonym (a 3-digit ID has only 1,000 layouts); such short IDs then differ from the notes' surrogate."""
    original = original.strip()[:64]
    out = surrogator.digits_like(patient, original, "MRN")
    alnum = sum(c.isalnum() for c in out)
    if alnum < 8:
        extra = surrogator.keyed_bytes(8 - alnum, "dicom-patient-id", patient, original)
        out += "".join(str(b % 10) for b in extra)
    return out[:64]