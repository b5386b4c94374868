"""Profiles: which options of PS3.15 Annex E a run uses, and the one action each attribute then gets.

A :class:`Profile` is the Basic Application Level Confidentiality Profile plus a set of options (CID 7050 codes).
Named profiles (``--profile``):

* ``basic``: the Basic Profile alone. Dates and times become dummies or empty, every private tag goes.
* ``retain-dates-shifted`` (the default): Basic + Retain Longitudinal Temporal Information with Modified Dates (every
  date moved by the patient's keyed offset, the one the notes use; times of day kept) + Retain Safe Private (the
  documented safe list of :mod:`.safe_private`).
* ``research``: ``retain-dates-shifted`` + Retain Patient Characteristics (sex, age, size, weight, smoking, pregnancy;
  an age over 89 becomes ``090Y``, as Safe Harbor's "90+").

Options added by flags: Clean Descriptors (``--clean-descriptors``: free text through the notes de-identifier instead
of removed), Retain Device Identity (``--retain-device-identity``), Retain Institution Identity
(``--retain-institution-identity``). Not offered: Retain UIDs (UIDs are always remapped), Retain Full Dates, Clean
Pixel Data, Clean Recognizable Visual Features, Clean Graphics, Clean Structured Content (their attributes are removed).

Compound actions of the table leave a choice "as the IOD requires". This implementation keeps an attribute present
whenever the table allows it (``X/Z`` and ``X/Z/D`` -> Z, ``X/D`` and ``Z/D`` -> D or Z), so that a Type 1 or 2
attribute of the source never goes missing; an attribute absent in the source stays absent. ``X/Z/U*`` (sequences of
references) keeps the sequence and remaps every UID in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from medpriv_desktop.core.dicom_deid.table import OPTION_COLUMNS, Row
from medpriv_desktop.core.errors import InputError, did_you_mean

#: CID 7050 "De-identification Method" (DCM) codes this implementation writes, with their meanings.
CID7050: dict[str, str] = {
    "113100": "Basic Application Confidentiality Profile",
    "113103": "Clean Graphics Option",
    "113104": "Clean Structured Content Option",
    "113105": "Clean Descriptors Option",
    "113106": "Retain Longitudinal Temporal Information Full Dates Option",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
    "113109": "Retain Device Identity Option",
    "113110": "Retain UIDs Option",
    "113111": "Retain Safe Private Option",
    "113112": "Retain Institution Identity Option",
}

#: Named profiles -> the option columns they switch on.
PROFILES: dict[str, frozenset[str]] = {
    "basic": frozenset(),
    "retain-dates-shifted": frozenset({"mod", "priv"}),
    "research": frozenset({"mod", "priv", "pat"}),
}
DEFAULT_PROFILE = "retain-dates-shifted"
#: Options a flag may add to a named profile.
FLAG_OPTIONS = frozenset({"desc", "dev", "inst"})
#: When several options name one attribute, the first in this order decides (retaining before cleaning).
_PRECEDENCE = ("full", "mod", "pat", "dev", "inst", "uids", "priv", "desc", "struct", "graph")


@dataclass(frozen=True)
class Profile:
    """A named profile plus flag options; :attr:`columns` are the option columns of Table E.1-1 in force."""

    name: str = DEFAULT_PROFILE
    columns: frozenset[str] = PROFILES[DEFAULT_PROFILE]

    @classmethod
    def named(cls, name: str, *, clean_descriptors: bool = False, retain_device: bool = False,
              retain_institution: bool = False) -> Profile:
        """The profile called ``name`` with the flag options added; :class:`InputError` for an unknown name."""
        if name not in PROFILES:
            raise InputError(f"unknown profile '{name}'",
                             hint=did_you_mean(name, list(PROFILES)) or f"choose one of {', '.join(PROFILES)}")
        extra = {c for c, on in (("desc", clean_descriptors), ("dev", retain_device), ("inst", retain_institution))
                 if on}
        return cls(name, PROFILES[name] | frozenset(extra))

    @classmethod
    def from_codes(cls, codes: list[str]) -> Profile:
        """The profile a de-identified file records in its DeidentificationMethodCodeSequence (for verification)."""
        by_code = {v: k for k, v in OPTION_COLUMNS.items()}
        columns = frozenset(by_code[c] for c in codes if c in by_code)
        name = next((n for n, cols in PROFILES.items() if cols == columns - FLAG_OPTIONS), "recorded")
        return cls(name, columns)

    @property
    def codes(self) -> list[str]:
        """The CID 7050 codes to record: the Basic Profile first, then each option in code order."""
        return ["113100"] + sorted(OPTION_COLUMNS[c] for c in self.columns)

    @property
    def shifts_dates(self) -> bool:
        """True when dates are moved by the patient's offset (Modified Dates Option)."""
        return "mod" in self.columns

    @property
    def safe_private(self) -> bool:
        """True when the safe private list is kept (Retain Safe Private Option)."""
        return "priv" in self.columns

    @property
    def clean_descriptors(self) -> bool:
        """True when descriptions go through the notes de-identifier (Clean Descriptors Option)."""
        return "desc" in self.columns

    @property
    def patient_characteristics(self) -> bool:
        """True when sex, age, size, weight... are kept (Retain Patient Characteristics Option)."""
        return "pat" in self.columns

    def method_text(self) -> list[str]:
        """DeidentificationMethod values (LO, at most 64 characters each): what was done, no key, no data."""
        from medpriv_desktop import __version__

        texts = [f"MedPriv Desktop {__version__}"[:64], "PS3.15 E.1-1 Basic Profile", f"profile {self.name}"[:64]]
        texts += [CID7050[OPTION_COLUMNS[c]][:64] for c in sorted(self.columns, key=_PRECEDENCE.index)]
        if self.shifts_dates:
            texts.append("dates shifted by a keyed per-patient offset")
        texts.append("UIDs remapped by keyed HMAC (2.25)")
        return texts

    def action(self, row: Row) -> str:
        """The one action (D, Z, X, K, C or U) ``row`` gets under this profile."""
        for col in _PRECEDENCE:
            if col in self.columns and col in row.options:
                return row.options[col]
        return resolve(row.basic)


def resolve(code: str) -> str:
    """One action from a table code: compound codes keep the attribute present where the table allows it."""
    if "/" not in code:
        return code
    parts = code.replace("*", "").split("/")
    if "U" in parts:
        return "U"
    if "Z" in parts:
        return "Z"
    return "D"


#: Dummy values of the ``D`` action by VR (``None`` for VRs that take an empty value instead).
_DUMMY_TEXT = "ANONYMIZED"
DUMMIES: dict[str, object] = {
    "PN": "ANONYMOUS", "LO": _DUMMY_TEXT, "SH": _DUMMY_TEXT, "ST": _DUMMY_TEXT, "LT": _DUMMY_TEXT, "UT": _DUMMY_TEXT,
    "UC": _DUMMY_TEXT, "CS": _DUMMY_TEXT, "AE": _DUMMY_TEXT, "DA": "19000101", "TM": "000000.00",
    "DT": "19000101000000.00", "DS": "0", "IS": "0", "AS": "000D", "US": 0, "SS": 0, "UL": 0, "SL": 0, "FL": 0.0,
    "FD": 0.0, "UV": 0, "SV": 0,
}


def dummy_for(vr: str) -> object | None:
    """The dummy value of ``vr`` (None when the VR has none and the element is emptied instead)."""
    return DUMMIES.get(vr)
