"""The PHI span model shared by recognizers, operators, batch jobs and evaluation.

A :class:`PhiSpan` is a half-open character range ``[start, end)`` of one note with a category from
:data:`CATEGORIES`, a score in [0, 1] and the name of the recognizer that found it. Spans never carry the note text
itself (slice the note when you need it), so a list of spans can be counted and logged safely.

Categories are the project's own short names (used in tags such as ``[NAME]``); each maps to a HIPAA Safe Harbor
identifier and an i2b2-2014 category (Stubbs & Uzuner 2015) so that results can be reported in either vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One PHI category: tag text, HIPAA Safe Harbor identifier and i2b2-2014 (type, subtype)."""

    name: str
    tag: str
    hipaa: str
    i2b2: str


_DEFS = [
    # name, tag, HIPAA identifier, i2b2-2014 TYPE/SUBTYPE
    ("PATIENT", "NAME", "(A) names", "NAME/PATIENT"),
    ("CLINICIAN", "NAME", "(A) names", "NAME/DOCTOR"),
    ("RELATIVE", "NAME", "(A) names", "NAME/PATIENT"),  # i2b2 has no relative subtype; relatives are names
    ("NAME", "NAME", "(A) names", "NAME/PATIENT"),
    ("USERNAME", "NAME", "(A) names", "NAME/USERNAME"),
    ("DATE", "DATE", "(C) dates (except year alone)", "DATE/DATE"),
    ("YEAR", "DATE", "(C) dates (year next to a date)", "DATE/DATE"),
    ("HOLIDAY", "DATE", "(C) dates", "DATE/DATE"),
    ("AGE", "AGE", "(C) ages over 89", "AGE/AGE"),
    ("STREET", "LOCATION", "(B) geographic subdivisions smaller than a state", "LOCATION/STREET"),
    ("CITY", "LOCATION", "(B) geographic subdivisions smaller than a state", "LOCATION/CITY"),
    ("STATE", "LOCATION", "(B) geographic subdivisions (state kept only if policy allows)", "LOCATION/STATE"),
    ("ZIP", "LOCATION", "(B) zip codes", "LOCATION/ZIP"),
    ("COUNTRY", "LOCATION", "(B) geographic subdivisions", "LOCATION/COUNTRY"),
    ("HOSPITAL", "LOCATION", "(B) geographic subdivisions (facility names)", "LOCATION/HOSPITAL"),
    ("WARD", "LOCATION", "(B) geographic subdivisions (facility names)", "LOCATION/ORGANIZATION"),
    ("ORGANIZATION", "LOCATION", "(R) any other unique identifying characteristic", "LOCATION/ORGANIZATION"),
    ("LOCATION", "LOCATION", "(B) geographic subdivisions smaller than a state", "LOCATION/LOCATION-OTHER"),
    ("PHONE", "PHONE", "(D) telephone numbers", "CONTACT/PHONE"),
    ("FAX", "PHONE", "(E) fax numbers", "CONTACT/FAX"),
    ("EMAIL", "EMAIL", "(F) email addresses", "CONTACT/EMAIL"),
    ("URL", "URL", "(N) web URLs", "CONTACT/URL"),
    ("IP", "IP", "(O) IP addresses", "CONTACT/IPADDR"),
    ("SSN", "ID", "(G) social security numbers", "ID/SSN"),
    ("MRN", "ID", "(H) medical record numbers", "ID/MEDICALRECORD"),
    ("ACCOUNT", "ID", "(J) account numbers", "ID/ACCOUNT"),
    ("LICENSE", "ID", "(K) certificate/license numbers", "ID/LICENSE"),
    ("DEVICE", "ID", "(M) device identifiers and serial numbers", "ID/DEVICE"),
    ("ID", "ID", "(R) any other unique identifying number", "ID/IDNUM"),
]

#: Every category by its name.
CATEGORIES: dict[str, Category] = {n: Category(n, t, h, i) for n, t, h, i in _DEFS}
NAME_CATEGORIES = frozenset({"PATIENT", "CLINICIAN", "RELATIVE", "NAME", "USERNAME"})
DATE_CATEGORIES = frozenset({"DATE", "YEAR", "HOLIDAY"})


@dataclass(frozen=True, order=True)
class PhiSpan:
    """One PHI finding: ``[start, end)`` in the note, category name, score and the recognizer that found it."""

    start: int
    end: int
    category: str
    score: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start or self.start < 0:
            raise ValueError(f"bad span {self.start}..{self.end}")
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown PHI category {self.category}")

    @property
    def tag(self) -> str:
        """The tag written by the tag operator (``NAME``, ``DATE``, ...)."""
        return CATEGORIES[self.category].tag

    @property
    def hipaa(self) -> str:
        """HIPAA Safe Harbor identifier."""
        return CATEGORIES[self.category].hipaa

    @property
    def i2b2(self) -> str:
        """i2b2-2014 TYPE/SUBTYPE."""
        return CATEGORIES[self.category].i2b2

    def overlaps(self, other: PhiSpan) -> bool:
        """True when the two ranges share at least one character."""
        return self.start < other.end and other.start < self.end


def merge_spans(spans: list[PhiSpan], text: str | None = None) -> list[PhiSpan]:
    """Resolve overlaps: overlapping or touching spans become one span (the union), labelled with the category of the
    highest-scoring member. With ``text``, spans separated only by spaces/hyphens/periods/commas inside one name or
    address chain are NOT joined (tags stay per item); joining happens only on real overlap."""
    out: list[PhiSpan] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if s.end <= s.start:
            continue
        if out and s.start < out[-1].end:
            prev = out[-1]
            best = prev if prev.score >= s.score else s
            out[-1] = PhiSpan(prev.start, max(prev.end, s.end), best.category, max(prev.score, s.score), best.source)
        else:
            out.append(s)
    return out
