"""Operators that turn a note and its PHI spans into the output text: tags, masks, surrogates and date shifting.

| operator     | dates                                          | ages over 89 | everything else            |
|--------------|------------------------------------------------|--------------|----------------------------|
| ``tag``      | ``[DATE]`` (with ``keep_year``: ``[DATE] 2019``) | ``[AGE]``    | ``[NAME]``, ``[PHONE]``... |
| ``mask``     | ``****`` (with ``keep_year``: ``*****2019``)     | ``**``       | ``*`` per character        |
| ``surrogate``| moved by the patient's keyed offset            | ``90+``      | keyed fake values          |
| ``date-shift``| moved by the patient's keyed offset           | ``[AGE]``    | tags                       |

HIPAA Safe Harbor (45 CFR 164.514(b)(2)) allows the year of a date but no other element of it, and no year that
reveals an age over 89. So ``keep_year`` keeps a year only when it lies within the last 89 years of
``reference_year`` (the year of the run): an older year may be a birth year of someone over 89 and goes with the rest
of the date. A two-digit year ("'92", "3/14/19") is kept only when even its 19xx reading is that recent ("'36" to
"'99" in 2025), because "3/14/29" may be a birth date in 1929. The surrogate and date-shift operators move every
date, year included, by the patient's offset (one per patient, from the site's ``deid`` key, never 0), so the
intervals between a patient's dates hold; they do not take ``keep_year`` (a real year beside a shifted day and month
would neither be Safe Harbor nor keep intervals).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.notes.spans import DATE_CATEGORIES, PhiSpan
from medpriv_desktop.core.notes.surrogates import dates_written_day_first

OPERATORS = ("tag", "mask", "surrogate", "date-shift")
#: Operators that need a :class:`~medpriv_desktop.core.notes.surrogates.Surrogator` (and so a patient per note).
KEYED_OPERATORS = ("surrogate", "date-shift")
#: Operators that may keep the year of a date.
KEEP_YEAR_OPERATORS = ("tag", "mask")
#: The most years back a kept year may lie (a year further back may reveal an age over 89).
MAX_YEARS_BACK = 89

Replacement = Callable[[PhiSpan, str], str]

_YEAR4 = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
_MDY2 = re.compile(r"\d{1,2}([/\-.])\d{1,2}\1(\d\d)\s*$")  # "3/14/92": two separators, the year last
_MY2 = re.compile(r"\s*\d{1,2}[/\-.](\d\d)\s*")  # "3/92": a year only when the number cannot be a day
_APOSTROPHE2 = re.compile(r"'(\d\d)(?!\d)|(?<!\d)(\d\d)'")  # "'92", "92'"
_BARE2 = re.compile(r"\s*(\d\d)\s*")  # a span that is two digits ("CABG 81")
_YEAR_ALONE = re.compile(r"'?(?:\d\d|\d{4})'?")


@dataclass(frozen=True)
class OperatorOptions:
    """How detected spans are replaced: the operator's name and whether dates keep their year.

    ``reference_year`` is the year that "within the last 89 years" counts from (default: this year).
    """

    name: str = "tag"
    keep_year: bool = False
    reference_year: int = field(default_factory=lambda: dt.date.today().year)

    def __post_init__(self) -> None:
        if self.name not in OPERATORS:
            raise InputError(f"unknown operator '{self.name}'", hint=f"choose one of {', '.join(OPERATORS)}")
        if self.keep_year and self.name not in KEEP_YEAR_OPERATORS:
            raise InputError(f"--keep-year works with the tag and mask operators, not with {self.name}",
                             hint="surrogate and date-shift move the whole date, year included, by the patient's "
                                  "keyed offset")

    @property
    def keyed(self) -> bool:
        """True when the operator needs the site's ``deid`` key and a patient for each note."""
        return self.name in KEYED_OPERATORS


# -- Safe Harbor pieces ----------------------------------------------------------------------------------------------

def year_to_keep(text: str, reference_year: int) -> tuple[int, int] | None:
    """Where in the date ``text`` its year is written, when Safe Harbor lets it stay; None otherwise.

    The last four-digit year (1800-2099) counts, else a two-digit year: last after two separators ("3/14/92"), after
    one separator when it cannot be a day ("3/92"), beside an apostrophe, or the whole span. A year more than
    :data:`MAX_YEARS_BACK` years before ``reference_year`` is not kept; a two-digit year is read as 19xx for that
    test (its oldest reading).
    """
    oldest = reference_year - MAX_YEARS_BACK
    fours = list(_YEAR4.finditer(text))
    if fours:
        m = fours[-1]
        return m.span() if int(m.group()) >= oldest else None
    where = None
    if m := _MDY2.search(text):
        where = m.span(2)
    elif (m := _MY2.fullmatch(text)) and int(m.group(1)) > 31:
        where = m.span(1)
    elif twos := list(_APOSTROPHE2.finditer(text)):
        g = 1 if twos[-1].group(1) else 2
        where = twos[-1].span(g)
    elif m := _BARE2.fullmatch(text):
        where = m.span(1)
    if where is None:
        return None
    return where if 1900 + int(text[where[0]:where[1]]) >= oldest else None


def _tag_keep_year(span: PhiSpan, original: str, reference_year: int) -> str:
    where = year_to_keep(original, reference_year) if span.category in DATE_CATEGORIES else None
    if where is None:
        return f"[{span.tag}]"
    if _YEAR_ALONE.fullmatch(original.strip()):
        return original  # a year alone is not an element Safe Harbor removes
    year = original[where[0]:where[1]]
    return f"[{span.tag}] " + (year if len(year) == 4 else "'" + year)


def _mask_chars(original: str, char: str, keep: tuple[int, int] | None = None) -> str:
    return "".join(c if c.isspace() or (keep and keep[0] <= i < keep[1]) else char for i, c in enumerate(original))


# -- replacements ----------------------------------------------------------------------------------------------------

def replacement_for(options: OperatorOptions | str, surrogator: Any = None, patient: str = "*", *,
                    day_first: bool = False) -> Replacement:
    """The function ``(span, original text) -> replacement`` for ``options`` in a note of ``patient``;
    ``day_first``: the note writes numeric dates day first (:func:`dates_written_day_first`, used by date shifting).

    Batch jobs and the window both replace through this one function, so a note looks the same from either.
    """
    opts = options if isinstance(options, OperatorOptions) else OperatorOptions(options)
    if opts.keyed and surrogator is None:
        raise ValueError(f"the {opts.name} operator needs a Surrogator")
    ref = opts.reference_year

    def one(s: PhiSpan, orig: str) -> str:
        if opts.name == "tag":
            return _tag_keep_year(s, orig, ref) if opts.keep_year else f"[{s.tag}]"
        if opts.name == "mask":
            keep = year_to_keep(orig, ref) if opts.keep_year and s.category in DATE_CATEGORIES else None
            if keep and _YEAR_ALONE.fullmatch(orig.strip()):
                return orig  # a year alone is not an element Safe Harbor removes
            return _mask_chars(orig, "*", keep)
        if opts.name == "surrogate":
            return surrogator.replace(s, orig, patient, day_first)
        # date-shift: the same keyed per-patient offset as the surrogate operator, tags for the rest
        return surrogator.replace(s, orig, patient, day_first) if s.category in DATE_CATEGORIES else f"[{s.tag}]"

    return one


def replace_spans(text: str, spans: list[PhiSpan], replacement: Replacement) -> str:
    """Rebuild ``text`` with every (non-overlapping, sorted) span replaced by ``replacement(span, original)``."""
    return replace_spans_with_regions(text, spans, replacement)[0]


def replace_spans_with_regions(text: str, spans: list[PhiSpan], replacement: Replacement,
                               ) -> tuple[str, list[tuple[PhiSpan, int, int]]]:
    """Like :func:`replace_spans`, and where each replacement sits in the output: ``(span, start, end)``."""
    out: list[str] = []
    regions: list[tuple[PhiSpan, int, int]] = []
    pos = n = 0
    for s in sorted(spans):
        if s.start < pos:
            continue  # overlaps one already replaced
        out.append(text[pos:s.start])
        n += s.start - pos
        r = replacement(s, text[s.start:s.end])
        out.append(r)
        regions.append((s, n, n + len(r)))
        n += len(r)
        pos = s.end
    out.append(text[pos:])
    return "".join(out), regions


def tag(text: str, spans: list[PhiSpan]) -> str:
    """``[NAME]``, ``[DATE]``, ... in place of each span."""
    return replace_spans(text, spans, replacement_for("tag"))


def mask(text: str, spans: list[PhiSpan], char: str = "*") -> str:
    """Each PHI character replaced by ``char`` (spaces and line breaks kept, so the layout holds)."""
    return replace_spans(text, spans, lambda s, orig: _mask_chars(orig, char))


def surrogate(text: str, spans: list[PhiSpan], surrogator: Any, patient: str) -> str:
    """Realistic fake values, consistent per patient (see :mod:`medpriv_desktop.core.notes.surrogates`)."""
    return replace_spans(text, spans, replacement_for("surrogate", surrogator, patient,
                                                      day_first=dates_written_day_first(text, spans)))


def apply_operator(options: OperatorOptions | str, text: str, spans: list[PhiSpan], surrogator: Any = None,
                   patient: str = "*") -> str:
    """``text`` with ``spans`` replaced as ``options`` says (an :class:`OperatorOptions` or an operator name)."""
    return replace_spans(text, spans, replacement_for(options, surrogator, patient,
                                                      day_first=dates_written_day_first(text, spans)))
