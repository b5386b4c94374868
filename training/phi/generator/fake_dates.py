"""Fake dates and ages over 89 in every form notes use.

Dates: m/d, d/m (UK), m/d/yy, m/d/yyyy, ISO, "Jan 5", "5-Jan", "January 5th, 2019", "5 January 2019", month alone,
ordinals ("13th"), holidays, two-digit years ("'92", "81"), four-digit years. Ages: 90 to 109 in digits or words.
"""

from __future__ import annotations

import random

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
HOLIDAYS = ("Christmas", "Christmas Eve", "Thanksgiving", "New Year's Eve", "New Year's Day", "Easter", "Halloween",
            "Fourth of July", "July 4th", "Memorial Day", "Labor Day", "Valentine's Day", "Mother's Day",
            "Father's Day", "Rosh Hashanah", "Ramadan", "Passover", "Hanukkah", "Good Friday", "MLK Day", "Boxing Day")
_ONES = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def ordinal(n: int) -> str:
    """``13`` -> ``13th``, ``22`` -> ``22nd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _mdy(rng: random.Random, year: int | None = None) -> tuple[int, int, int]:
    """Month, day and year; the year is ``year`` (the note's) most of the time, when given."""
    if year is not None and rng.random() < 0.8:
        y = year + rng.choice((0, 0, 0, -1, 1))
    else:
        y = rng.choice((rng.randint(1930, 2029), rng.randint(1995, 2026)))
    return rng.randint(1, 12), rng.randint(1, 28), y


def _month(rng: random.Random, m: int) -> str:
    name = MONTHS[m - 1]
    return rng.choice((name, name[:3], name[:3] + ".", name.upper()[:3])) if rng.random() < 0.6 else name


def us_date(rng: random.Random, form: str | None = None, year: int | None = None) -> str:
    """A date as US notes write it; ``form`` picks one shape by name, ``year`` is the note's year."""
    m, d, y = _mdy(rng, year)
    mon = _month(rng, m)
    forms = {
        "md": f"{m}/{d}", "md0": f"{m:02d}/{d:02d}", "mdy2": f"{m}/{d}/{y % 100:02d}", "mdy4": f"{m}/{d}/{y}",
        "mdy4_0": f"{m:02d}/{d:02d}/{y}", "iso": f"{y}-{m:02d}-{d:02d}", "mon_d": f"{mon} {d}",
        "d_mon": f"{d}-{MONTHS[m - 1][:3]}", "long": f"{MONTHS[m - 1]} {ordinal(d)}, {y}",
        "long_plain": f"{MONTHS[m - 1]} {d}, {y}", "mon_y": f"{mon} {y}", "m_y": f"{m}/{y}", "dashes": f"{m}-{d}-{y}",
        "mon_ord": f"{MONTHS[m - 1]} {ordinal(d)}", "dmy_mon": f"{d} {mon} {y}", "md_dash": f"{m}-{d}",
    }
    return forms[form] if form else forms[rng.choice(tuple(forms))]


def uk_date(rng: random.Random, form: str | None = None, year: int | None = None) -> str:
    """A date as UK letters write it, day first; the day is above 12 half the time, so the order is visible."""
    m, d, y = _mdy(rng, year)
    if rng.random() < 0.5:
        d = rng.randint(13, 28)
    forms = {
        "dm": f"{d}/{m}", "dmy4": f"{d:02d}/{m:02d}/{y}", "dmy2": f"{d}/{m}/{y % 100:02d}", "dmy_dot": f"{d}.{m}.{y}",
        "d_month_y": f"{d} {MONTHS[m - 1]} {y}", "ord_month": f"{ordinal(d)} {MONTHS[m - 1]} {y}",
        "d_mon_y": f"{d} {MONTHS[m - 1][:3]} {y}", "dmy4_plain": f"{d}/{m}/{y}",
    }
    return forms[form] if form else forms[rng.choice(tuple(forms))]


def line_date(rng: random.Random) -> str:
    """A short date that opens a line of a running note ("10/13", "3/4/19")."""
    return us_date(rng, rng.choice(("md", "md", "md0", "mdy2")))


def month(rng: random.Random) -> str:
    """A month name alone."""
    return rng.choice(MONTHS) if rng.random() < 0.8 else rng.choice(MONTHS)[:3]


def two_digit_year(rng: random.Random, before: int = 2026) -> str:
    """A two-digit year within 45 years before ``before``, with or without an apostrophe ("'92", "81")."""
    y = rng.randint(before - 45, before) % 100
    return f"'{y:02d}" if rng.random() < 0.5 else f"{y:02d}"


def holiday(rng: random.Random) -> str:
    """A holiday name (a date under HIPAA)."""
    return rng.choice(HOLIDAYS)


def age_number(rng: random.Random) -> str:
    """An age over 89, in digits."""
    return str(rng.choice((rng.randint(90, 99), rng.randint(90, 104), rng.randint(90, 109))))


def age_words(rng: random.Random, n: int | None = None) -> str:
    """An age over 89 in words: "ninety-two", "one hundred and one" (``n``, or a random one)."""
    n = rng.randint(90, 104) if n is None else n
    if n < 100:
        return "ninety" + (f"-{_ONES[n - 90]}" if n > 90 else "")
    rest = n - 100
    if rest >= 10:
        return str(n)
    return "one hundred" + (f" and {_ONES[rest]}" if rest and rng.random() < 0.5 else f" {_ONES[rest]}" if rest else "")


def young_age(rng: random.Random) -> str:
    """An age of 89 or under (never PHI)."""
    return str(rng.choice((rng.randint(18, 89), rng.randint(40, 89), rng.randint(1, 17))))
