"""Surrogates: realistic fake values that stay consistent for one patient and are reproducible from a secret key.

Every choice is an HMAC-SHA256 of (patient, category, normalised original value) under the site's ``deid`` key
(:func:`medpriv_desktop.core.keys.load_key`), so the same real name in two notes of one patient becomes the same fake
name, a second run gives the same output, and nobody without the key can map surrogates back or recompute them.
Dates move by one offset per patient (1-364 days back or forward, never 0, from the key: nobody without the key can
guess it), so intervals between a patient's dates hold; a year written alone moves by the whole years that offset
carries a mid-year day (0 or 1 year back or forward), so years of one patient stay the same distance apart. Ages
over 89 become Safe Harbor's single category "90+"; an age under 90 is not an identifier and stays. The key is never
written next to the output (see ``core/keys.py`` for where it lives and how to rotate it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.spans import PhiSpan

_MONTHS = ["JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
           "NOVEMBER", "DECEMBER"]
_HOSPITAL_WORDS = ["ASHFORD", "BRIARWOOD", "CEDARVALE", "DUNMORE", "ELMHURST", "FAIRHAVEN", "GLENROCK", "HOLLISTER",
                   "IVYBRIDGE", "KESTREL", "LANGDON", "MAPLECREST", "NORTHFIELD", "OAKRIDGE", "PINEHURST", "REDMOND",
                   "STONEBROOK", "THORNBURY", "WESTBROOK", "WILLOWDALE"]


#: Safe Harbor's single category for every age over 89.
AGE_OVER_89 = "90+"
_AGE_NUMBER = re.compile(r"\s*(\d{1,3})(?!\d)(.*)", re.S)


def age_surrogate(original: str) -> str:
    """"90+" for an age over 89 ("97-year-old" -> "90+ year-old"); an age under 90 stays as written.

    Text without a leading number (an age in words) becomes "90+": the detector called it an age over 89.
    """
    m = _AGE_NUMBER.fullmatch(original)
    if m is None:
        return AGE_OVER_89
    if int(m.group(1)) < 90:
        return original
    rest = m.group(2)
    return AGE_OVER_89 + (" " + rest[1:] if rest.startswith("-") else rest)


def _match_case(fake: str, original: str) -> str:
    if original.isupper():
        return fake.upper()
    if original.islower():
        return fake.lower()
    return fake.title()


class Surrogator:
    """Fake values for one key; call :meth:`replace` per span with the patient the note belongs to."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._firsts = sorted(lx.ranked("first_names", 2000))
        self._lasts = sorted(lx.ranked("surnames", 5000))
        self._cities = sorted(c for c in lx.ranked("cities", 1500) if c.isalpha())

    # -- keyed choices --------------------------------------------------------------------------------------------

    def _digest(self, *parts: str) -> int:
        msg = "\x1f".join(parts).encode("utf-8")
        return int.from_bytes(hmac.new(self.key, msg, hashlib.sha256).digest()[:8], "big")

    def _pick(self, pool: list[str], *parts: str) -> str:
        return pool[self._digest(*parts) % len(pool)] if pool else "X"

    def _pick_other(self, pool: list[str], original: str, *parts: str) -> str:
        """:meth:`_pick`, but never the original itself (the pool's next entry then): a surrogate that happens to be
        the real name would hide the real name among the fakes."""
        if not pool:
            return "X"
        i = self._digest(*parts) % len(pool)
        return pool[(i + 1) % len(pool)] if pool[i].upper() == original.upper() else pool[i]

    def date_offset(self, patient: str) -> int:
        """The patient's date shift in days (never 0)."""
        d = self._digest("date-offset", patient) % 728
        return d - 364 if d < 364 else d - 363

    # -- per category ---------------------------------------------------------------------------------------------

    def name(self, patient: str, original: str) -> str:
        """A fake name with the same number of words and the same case style."""
        words = re.findall(r"[A-Za-z][A-Za-z'\-]*|[^A-Za-z]+", original)
        out = []
        for w in words:
            if not w[0].isalpha():
                out.append(w)
            elif len(w) == 1:
                out.append(self._pick_other(list("ABCDEFGHJKLMNPRSTW"), w, patient, "initial", w.upper()))
            else:
                pool = self._firsts if w.upper() in lx.first_names() and w.upper() not in lx.surnames() else self._lasts
                out.append(_match_case(self._pick_other(pool, w, patient, "name", w.upper()), w))
        return "".join(out)

    def shift_date(self, patient: str, original: str, day_first: bool = False) -> str:
        """The date moved by the patient's offset, written in the original's format; unparsed forms get a fake
        month-day. ``day_first``: the note writes numeric dates day first (:func:`dates_written_day_first`), so an
        ambiguous "03.06.2020" is the 3rd of June."""
        off = dt.timedelta(days=self.date_offset(patient))
        s = original.strip()
        m = re.fullmatch(r"(\d{1,2})([/\-.])(\d{1,2})(?:\2(\d{2}|\d{4}))?", s)
        if m:
            mo, sep, da, yr = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
            # A first part that cannot be a month is a day ("27.05.2020"), and so is any first part in a note that
            # writes dates day first; otherwise month first, as US notes write it. A zero-padded date stays padded.
            swap = (mo > 12 or day_first) and 1 <= da <= 12
            if swap:
                mo, da = da, mo
            # no year written: a reference year far from any leap day keeps intervals exact
            year = 2002 if yr is None else _full_year(yr)
            try:
                d = dt.date(year, mo, da) + off
            except ValueError:
                return self._fallback_date(patient, original)
            first, second = (d.day, d.month) if swap else (d.month, d.day)
            width = 2 if m.group(1).startswith("0") or m.group(3).startswith("0") else 1  # "03.06.2020" pads
            core = f"{first:0{width}d}{sep}{second:0{width}d}"
            if yr is not None:
                core += f"{sep}{d.year % 100:02d}" if len(yr) == 2 else f"{sep}{d.year}"
            return core
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
        if m:
            try:
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + off
                return d.isoformat()
            except ValueError:
                return self._fallback_date(patient, original)
        m = re.fullmatch(r"'?(\d{4}|\d{2})'?", s)
        if m:  # a year alone: moved by the whole years of the offset (mid-year reference)
            y = int(m.group(1))
            full = y if y > 999 else y + (1900 if y > 30 else 2000)
            new = (dt.date(full, 7, 1) + off).year
            return s.replace(m.group(1), str(new) if y > 999 else f"{new % 100:02d}")
        m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th|ST|ND|RD|TH)?(?:,?\s*(\d{4}))?", s)
        if m and m.group(1).upper()[:3] in [x[:3] for x in _MONTHS]:
            mo = [x[:3] for x in _MONTHS].index(m.group(1).upper()[:3]) + 1
            year = int(m.group(3)) if m.group(3) else 2000
            try:
                d = dt.date(year, mo, int(m.group(2))) + off
            except ValueError:
                return self._fallback_date(patient, original)
            text = f"{_MONTHS[d.month - 1].title()} {d.day}" + (f", {d.year}" if m.group(3) else "")
            return _match_case(text, m.group(1)) if m.group(1).isupper() or m.group(1).islower() else text
        return self._shift_other_forms(s, off) or self._fallback_date(patient, original)

    @staticmethod
    def _shift_other_forms(s: str, off: dt.timedelta) -> str | None:
        """Day before a month name ("27 May 2020", "27-MAY-2020", "3rd of June 2019"), a month name and a year
        ("May 2020", "Sept. '19"), a month name alone ("March") and a numeric month and year ("05/2020"), shifted
        and written as they were; None for any other form. A month without a day moves from the middle of the
        month."""
        m = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?(\s+of\s+|\s*-\s*|\s+)([A-Za-z]+)(\.?)"
                         r"(?:(,?\s*|\s*-\s*)(\d{4}|\d{2}))?", s, re.I)
        if m and _month_number(m.group(4)):
            year = _full_year(m.group(7)) if m.group(7) else 2002
            try:
                d = dt.date(year, _month_number(m.group(4)), int(m.group(1))) + off
            except ValueError:
                return None
            day = f"{d.day}{_ordinal_suffix(d.day, m.group(2))}" if m.group(2) else f"{d.day:0{len(m.group(1))}d}"
            # "27-May-2020": the dashed form abbreviates months, so "May" is read as one there
            dashed = "-" in m.group(3)
            out = f"{day}{m.group(3)}{_month_like(d.month, m.group(4), abbreviated=dashed or None)}{m.group(5)}"
            return out + (f"{m.group(6)}{_year_like(d.year, m.group(7))}" if m.group(7) else "")
        m = re.fullmatch(r"([A-Za-z]+)(\.?)(,?\s*|\s*-\s*)('?)(\d{4}|\d{2})", s)
        if m and _month_number(m.group(1)):
            d = dt.date(_full_year(m.group(5)), _month_number(m.group(1)), 15) + off
            return f"{_month_like(d.month, m.group(1))}{m.group(2)}{m.group(3)}{m.group(4)}{_year_like(d.year, m.group(5))}"
        m = re.fullmatch(r"([A-Za-z]+)(\.?)", s)
        if m and _month_number(m.group(1)):  # a month alone ("in March")
            d = dt.date(2002, _month_number(m.group(1)), 15) + off
            return f"{_month_like(d.month, m.group(1))}{m.group(2)}"
        m = re.fullmatch(r"(\d{1,2})([/\-.])(\d{4})", s)
        if m and 1 <= int(m.group(1)) <= 12:
            d = dt.date(int(m.group(3)), int(m.group(1)), 15) + off
            return f"{d.month:0{len(m.group(1))}d}{m.group(2)}{d.year}"
        return None

    def _fallback_date(self, patient: str, original: str) -> str:
        d = dt.date(2000, 1, 1) + dt.timedelta(days=self._digest(patient, "date", original.upper()) % 365)
        return f"{d.month}/{d.day}"

    def keyed_bytes(self, n: int, *parts: str) -> bytes:
        """``n`` keyed pseudo-random bytes for ``parts`` (HMAC-SHA512 in counter mode)."""
        msg = "\x1f".join(parts).encode("utf-8", "surrogateescape")
        out = b""
        block = 0
        while len(out) < n:
            out += hmac.new(self.key, msg + b"\x1e" + str(block).encode(), hashlib.sha512).digest()
            block += 1
        return out[:n]

    def digits_like(self, patient: str, original: str, tag: str) -> str:
        """Same layout, keyed random digits (phones, ids, zips); letters stay letters. Every character comes from its
        own keyed byte, so two different originals of the same layout almost never share a surrogate (an earlier
        version drew all characters from one 64-bit number: 8-digit IDs collided about once in six)."""
        stream = self.keyed_bytes(len(original), "digits", patient, tag, original)
        out = []
        for i, c in enumerate(original):
            b = stream[i]
            if c.isdigit():
                out.append(str(b % 10) if i else str(1 + b % 9))
            elif c.isalpha():
                out.append(chr(ord("A") + b % 26))
            else:
                out.append(c)
        return "".join(out)

    def replace(self, span: PhiSpan, original: str, patient: str, day_first: bool = False) -> str:
        """The surrogate text for ``original`` (the span's text) in a note of ``patient``; ``day_first`` as in
        :meth:`shift_date`."""
        cat = span.category
        if cat in ("PATIENT", "CLINICIAN", "RELATIVE", "NAME", "USERNAME"):
            return self.name(patient, original)
        if cat in ("DATE", "YEAR"):
            return self.shift_date(patient, original, day_first)
        if cat == "HOLIDAY":
            return self._fallback_date(patient, original)
        if cat == "AGE":
            return age_surrogate(original)
        if cat in ("PHONE", "FAX", "SSN", "MRN", "ACCOUNT", "LICENSE", "DEVICE", "ID", "ZIP"):
            return self.digits_like(patient, original, cat)
        if cat == "EMAIL":
            return f"{self._pick(self._lasts, patient, 'email', original.lower()).lower()}@example.org"
        if cat == "URL":
            return f"https://www.example.org/{self._digest(patient, 'url', original) % 10000}"
        if cat == "IP":
            h = self._digest(patient, "ip", original)
            return f"10.{h % 256}.{(h >> 8) % 256}.{(h >> 16) % 256}"
        if cat == "CITY":
            return _match_case(self._pick(self._cities, patient, "city", original.upper()).title(), original)
        if cat == "STREET":
            num = self._digest(patient, "street", original.upper()) % 900 + 100
            return _match_case(f"{num} {self._pick(self._lasts, patient, 'street', original.upper()).title()} Street", original)
        # hospitals, wards, organisations, other places
        words = original.split()
        fake = " ".join(self._pick(_HOSPITAL_WORDS, patient, "place", w.upper()) for w in words) or "ASHFORD"
        return _match_case(fake, original)


def _month_number(word: str) -> int:
    """1-12 for a month name or its abbreviation ("Sept", "jan"), else 0."""
    up = word.upper()
    for i, name in enumerate(_MONTHS, start=1):
        if len(up) >= 3 and name.startswith(up):
            return i
    return 0


def _month_like(month: int, original: str, abbreviated: bool | None = None) -> str:
    """The name of ``month`` in the original's style: abbreviated to three letters when the original was shorter
    than its own month's name ("Sept" -> "Oct"; "May" stays a full name unless ``abbreviated``), and in its case."""
    name = _MONTHS[month - 1]
    if abbreviated or len(original) < len(_MONTHS[_month_number(original) - 1]):
        name = name[:3]
    return _match_case(name, original)


def _full_year(digits: str) -> int:
    y = int(digits)
    return y if len(digits) == 4 else y + (1900 if y > 30 else 2000)


def _year_like(year: int, original: str) -> str:
    return f"{year % 100:02d}" if len(original) == 2 else str(year)


def _ordinal_suffix(n: int, original: str) -> str:
    """"st", "nd", "rd" or "th" for ``n``, in the case of the original suffix."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return suffix.upper() if original.isupper() else suffix


_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})[/\-.](\d{1,2})(?:[/\-.]\d{2,4})?\s*")


def dates_written_day_first(text: str, spans: list[PhiSpan]) -> bool:
    """True when the note's numeric dates are written day first: at least one date span whose first part cannot be a
    month ("27.05.2020") and none whose second part cannot be ("5/27/2020"). Date shifting then reads the ambiguous
    ones ("03.06.2020") the same way, so intervals within the note hold."""
    day_first = month_first = False
    for sp in spans:
        if sp.category != "DATE":
            continue
        m = _NUMERIC_DATE.fullmatch(text[sp.start:sp.end])
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            day_first |= a > 12 and b <= 12
            month_first |= b > 12 and a <= 12
    return day_first and not month_first
