"""Operator choice for the Notes workspace: tags, mask, surrogates, date shift.

Tags and masks come from the engine (:mod:`medpriv_desktop.core.notes.operators`), applied span by span so the
output pane knows where each replacement sits. The engine has no surrogate or date-shift operator yet, so a small
local adapter fills in: surrogates keep the shape of the value (digits stay digits, a name becomes an invented name)
and are consistent within a note (the same original gives the same surrogate); date shifting moves every parseable
date by the same number of days, so intervals survive.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from medpriv_desktop.core.notes import operators as core_ops
from medpriv_desktop.core.notes.spans import DATE_CATEGORIES, NAME_CATEGORIES, PhiSpan

#: (machine name, label shown in the window)
OPERATOR_CHOICES: tuple[tuple[str, str], ...] = (
    ("tag", "Tags  [NAME]"),
    ("mask", "Mask  ****"),
    ("surrogate", "Surrogates"),
    ("date_shift", "Date shift (tags for the rest)"),
)
DEFAULT_SHIFT_DAYS = -37

_FIRST = ("Alex", "Jordan", "Casey", "Morgan", "Riley", "Taylor", "Jamie", "Avery", "Quinn", "Rowan", "Skyler", "Drew")
_LAST = ("Ashdown", "Bellweather", "Carrow", "Dunmore", "Everly", "Fenwick", "Garland", "Holloway", "Ingram",
         "Jessop", "Kestrel", "Lowry")
_PLACES = {"CITY": ("Elmstead", "Harrowgate", "Millbrook", "Stonebridge"),
           "STATE": ("XX",), "COUNTRY": ("Freedonia",),
           "HOSPITAL": ("Northgate General Hospital", "Willow Creek Medical Center"),
           "STREET": ("12 Orchard Lane", "401 Quarry Road"),
           "WARD": ("Ward 7",), "ORGANIZATION": ("Acme Health",), "LOCATION": ("Elmstead",)}
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2}|\d{4}))?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TEXT_DATE = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def _pick(options: tuple[str, ...], original: str, salt: str) -> str:
    h = hashlib.sha256((salt + "|" + original.lower()).encode()).digest()
    return options[h[0] % len(options)]


def _shape_surrogate(original: str, salt: str) -> str:
    """Digits to digits and letters to letters, deterministically; punctuation and layout kept."""
    h = hashlib.sha256((salt + "|" + original).encode()).digest()
    out = []
    for i, c in enumerate(original):
        b = h[i % len(h)] + i
        if c.isdigit():
            out.append(str(b % 10))
        elif c.isalpha():
            ch = chr(ord("A") + b % 26)
            out.append(ch if c.isupper() else ch.lower())
        else:
            out.append(c)
    return "".join(out)


def shift_date(original: str, days: int) -> str | None:
    """``original`` moved by ``days`` in its own format, or None when it is not a date this parser knows."""
    s = original.strip()
    try:
        if m := _ISO_DATE.match(s):
            d = date(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=days)
            return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
        if m := _NUMERIC_DATE.match(s):
            year = int(m[3]) if m[3] else 2000  # a leap year, so 2/29 without a year stays valid
            if m[3] and len(m[3]) == 2:
                year += 2000 if year < 50 else 1900
            sep = "/" if "/" in s else "-"
            d = date(year, int(m[1]), int(m[2])) + timedelta(days=days)
            if not m[3]:
                return f"{d.month}{sep}{d.day}"
            y = f"{d.year % 100:02d}" if len(m[3]) == 2 else f"{d.year}"
            return f"{d.month}{sep}{d.day}{sep}{y}"
        if (m := _TEXT_DATE.match(s)) and m[1].lower()[:3] in [x[:3] for x in _MONTHS]:
            month = [x[:3] for x in _MONTHS].index(m[1].lower()[:3]) + 1
            d = date(int(m[3]), month, int(m[2])) + timedelta(days=days)
            name = _MONTHS[d.month - 1].capitalize()
            return f"{name[:3] if len(m[1]) == 3 else name} {d.day}, {d.year}"
    except ValueError:
        return None
    return None


def _surrogate_for(span: PhiSpan, original: str, salt: str, days: int) -> str:
    if span.category in NAME_CATEGORIES:
        words = original.split()
        if len(words) >= 2 and not original.lower().startswith("dr"):
            return f"{_pick(_FIRST, words[0], salt)} {_pick(_LAST, words[-1], salt)}"
        return _pick(_LAST, original, salt) if original[:1].isupper() else _pick(_LAST, original, salt).lower()
    if span.category in DATE_CATEGORIES:
        return shift_date(original, days) or f"[{span.tag}]"
    if span.category in _PLACES:
        return _pick(_PLACES[span.category], original, salt)
    if span.category == "EMAIL":
        return f"{_pick(_FIRST, original, salt).lower()}@example.org"
    if span.category == "URL":
        return "https://example.org"
    if span.category == "AGE":
        return original if not original.strip().isdigit() or int(original) <= 89 else "90+"
    return _shape_surrogate(original, salt)


def _replacer(operator: str, shift_days: int, salt: str):
    """A function ``(span, original) -> replacement`` for ``operator``; the same original gets the same value."""
    if operator not in {name for name, _ in OPERATOR_CHOICES}:
        raise ValueError(f"unknown operator {operator}")
    cache: dict[tuple[str, str], str] = {}

    def one(s: PhiSpan, orig: str) -> str:
        local = PhiSpan(0, len(orig), s.category, s.score, s.source)
        if operator == "tag":
            return core_ops.tag(orig, [local])
        if operator == "mask":
            return core_ops.mask(orig, [local])
        if operator == "date_shift":
            return (shift_date(orig, shift_days) or f"[{s.tag}]") if s.category in DATE_CATEGORIES else f"[{s.tag}]"
        return _surrogate_for(s, orig, salt, shift_days)

    def repl(s: PhiSpan, orig: str) -> str:
        # Same original and category -> same replacement within the note (consistency the reader can follow).
        return cache.setdefault((s.category, orig.lower()), one(s, orig))

    return repl


def render(text: str, spans: list[PhiSpan], operator: str, *, shift_days: int = DEFAULT_SHIFT_DAYS,
           salt: str = "medpriv") -> tuple[str, list[tuple[PhiSpan, int, int]]]:
    """The output note and, per replaced span, where its replacement sits in the output ``(span, start, end)``."""
    repl = _replacer(operator, shift_days, salt)
    out: list[str] = []
    regions: list[tuple[PhiSpan, int, int]] = []
    pos = n = 0
    for s in sorted(spans):
        if s.start < pos:
            continue
        out.append(text[pos:s.start])
        n += s.start - pos
        r = repl(s, text[s.start:s.end])
        out.append(r)
        regions.append((s, n, n + len(r)))
        n += len(r)
        pos = s.end
    out.append(text[pos:])
    return "".join(out), regions


def apply_operator(text: str, spans: list[PhiSpan], operator: str, *, shift_days: int = DEFAULT_SHIFT_DAYS,
                   salt: str = "medpriv") -> str:
    """The output note for ``operator`` over the (non-overlapping) ``spans``."""
    return render(text, spans, operator, shift_days=shift_days, salt=salt)[0]
