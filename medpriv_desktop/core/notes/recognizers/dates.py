"""Dates in every form clinical notes use: m/d, m/d/y, ISO, month names with day or year, years next to clinical
events, and holidays. Numeric m/d needs care: ``5/5`` strength, ``1/2 NS`` and ``120/80`` are not dates."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes import lexicons
from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan

_MON = r"(?:JAN(?:UARY)?|FEB(?:RUARY)?|MAR(?:CH)?|APR(?:IL)?|MAY|JUNE?|JULY?|AUG(?:UST)?|SEPT?(?:EMBER)?|OCT(?:OBER)?|NOV(?:EMBER)?|DEC(?:EMBER)?)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:ST|ND|RD|TH)?"
_YEAR = r"(?:19|20)\d\d"


#: A symptom or rating word before "N/10" that makes it a score out of ten, not a date.
_SCORE_BEFORE = re.compile(
    r"(?:PAIN|RATING|RATES|RATED|SCALE|CP|DISCOMFORT|AS|\b(?:HA|HEADACHE|RELIEF|ACHE|ACHING|HURT\w*|SORE\w*|CRAMP\w*"
    r"|TIGHTNESS|PRESSURE|NAUSEA|ANXIETY|DYSPNEA|ITCH\w*|BURNING|NUMBNESS|TINGLING|FATIGUE|MOOD|SEVERITY|INTENSITY"
    r"|NRS|VAS))\W",
    re.I)
#: ... or a symptom word right after it ("7/10, radiating", "3/10 pain").
_SCORE_AFTER = re.compile(
    r"^\W{0,3}(?:PAIN|RADIAT\w*|ACHE|ACHING|HEADACHE|HA\b|SEVERITY|INTENSITY|ON\s+(?:THE\s+)?(?:PAIN\s+)?SCALE"
    r"|SHARP|DULL|THROBBING|CRAMP\w*|BURNING|PRESSURE)", re.I)
#: A whole number of weeks just before "N/7": a gestational age ("34 2/7 wk", "GA 29 4/7").
_WEEKS_BEFORE = re.compile(r"(?<![\d/.])(?:[1-4]\d)\s*\+?\s*$")
_DATE_CUE = re.compile(r"\b(?:ON|SINCE|FROM|UNTIL|DATE|DOS|ADMIT\w*|OF)\W{0,3}$", re.I)
#: The cues that keep a fraction a date even beside a symptom word ("headache since 3/10"); not "of" and "from",
#: which scores take too ("pain of 7/10", "from 8/10 to 3/10").
_FIRM_DATE_CUE = re.compile(r"\b(?:ON|SINCE|UNTIL|DATED?|DOS|ADMIT\w*)\W{0,3}$", re.I)


def fraction_not_a_date(text: str, start: int, end: int) -> bool:
    """Whether the fraction ``text[start:end]`` ("3/10", "2/7") is a score out of ten beside a symptom or rating word
    ("HA 3/10", "relief to 3/10", "7/10, radiating") or a gestational age's days ("34 2/7 wk"), not a month and day.
    A firm date cue just before it ("on 3/10", "since 3/10") keeps it a date. Shared by the date rule and the tagger's
    veto, so both read these the same way."""
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})", text[start:end])
    if not m:
        return False
    a, b = int(m.group(1)), int(m.group(2))
    if _FIRM_DATE_CUE.search(text[max(0, start - 14):start]):
        return False
    if b == 10 and a <= 10:
        return bool(_SCORE_BEFORE.search(text[max(0, start - 30):start]) or _SCORE_AFTER.match(text[end:end + 25]))
    return b == 7 and a <= 6 and bool(_WEEKS_BEFORE.search(text[max(0, start - 6):start]))


class DateRecognizer(MedPrivRecognizer):
    """Numeric and written dates, years and holidays."""

    NAME = "date"
    CATEGORIES = ("DATE", "YEAR", "HOLIDAY")

    FULL_NUMERIC = re.compile(r"(?<![\w/.])(?:0?[1-9]|1[0-2])([/\-.])(?:0?[1-9]|[12]\d|3[01])\1(?:\d{4}|\d{2})(?![\w/%])")
    #: Day first, where the day cannot be a month ("27.05.2020", "13/01/19", "31-12-1999"): European and many
    #: radiology reports write dates so. A two-digit year only with "/" or "." (dash chains of small numbers are
    #: more often scores or settings).
    DAY_FIRST = re.compile(r"(?<![\w/.\-])(?:1[3-9]|2\d|3[01])(?:([/.])(?:0?[1-9]|1[0-2])\1\d{2}(?:\d{2})?"
                           r"|-(?:0?[1-9]|1[0-2])-(?:19|20)\d{2})(?![\w/%]|\.\d)")
    #: Run-together dates: MMDDYY or MMDDYYYY standing alone ("family meeting 041523").
    COMPACT = re.compile(r"(?<![\w/.\-:])(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d\d|(?:19|20)\d\d)(?![\w/.\-:])")
    #: Ventilator and pressure settings written as slash chains ("5/10/40%", "simv 900 10/25").
    SETTINGS_CHAIN = re.compile(r"(?:%|\d\s*X\s*\d+|\b(?:SIMV|IMV|AC|PS|PSV|CPAP|BIPAP|PEEP|VENT\w*|SETTINGS?)\s*\d{2,4})\s*/?\s*$", re.I)
    ISO = re.compile(r"(?<![\w/])(?:19|20)\d\d-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?![\w/])")
    MONTH_DAY = re.compile(r"(?<![\d/.])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\d/]|\.\d)")
    WRITTEN = re.compile(
        rf"\b(?:{_DAY}\s*(?:OF\s+)?{_MON}\.?(?:,?\s*(?:\d{{4}}|'?\d\d\b))?|{_MON}\.?\s*{_DAY}(?:,?\s*\d{{4}})?(?!\s*(?:MG|ML|CC|UNITS?)\b)"
        rf"|{_MON}\.?,?\s*{_YEAR})\b", re.I)
    MONTH_YEAR = re.compile(r"(?<![\d/.])(?:0?[1-9]|1[0-2])/(?:3[2-9]|[4-9]\d|0\d|(?:19|20)\d\d)(?![\w/%]|\.\d)")
    YEAR_APOSTROPHE = re.compile(r"(?<![\w/.'])\d\d'(?=[\s.,;)]|$)")
    MONTH_ALONE = re.compile(r"\b(?:JANUARY|FEBRUARY|APRIL|JUNE|JULY|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER)\b", re.I)
    YEAR = re.compile(rf"(?<![\w/.\-])(?:'?{_YEAR})(?![\w/]|\.\d)|(?<![\d/.\-'])'\d\d(?![\w/']|\.\d)")
    HOLIDAY = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in lexicons.HOLIDAYS) + r")\b", re.I)
    # m/d look-alikes: strength grades, fluids, ratios, blood pressure parts, fractions of doses.
    NOT_DATE_BEFORE = re.compile(r"(?:\bD5|\bD10|\bSTRENGTH|\bMAE|\bGRADE|\bMOVES|\bPULSES?|\bREFLEX\w*|\d/|\+|\bX|\bBP|\bRATIO|\bIE|\bI:E)\W{0,2}$", re.I)
    NOT_DATE_AFTER = re.compile(r"^\s*(?:NS|N/S|STRENGTH|NORMAL|TAB|TABS|AMP|MG|ML|CC|L\b|TSP|CUP|CAN|UNITS?|HOURS?|HRS?|PACK|PPD|SCALE|BILAT|BILATERALLY|BUE|BLE|MUSCLE|STRENGH|THROUGHOUT|EXTREM|IN\s+ALL|ALL|X\s*4|WITH\s+ASSIST|ASSIST|GRIPS?|LARGE|SMALL|OF\b)", re.I)
    TIME_BEFORE = re.compile(r"(?:@|=|\bCK|\bPRESENT|\bIS|\bWAS|\bAT|\bAPPROX\.?|~|\bBY|\bUNTIL|\bSINCE|\bAROUND|\bTIME:?|\bFROM|\bTO|\bBETWEEN|\bAND|-|\bAFTER|\bBEFORE|\bTHRU|\bTHROUGH|\bTILL|\bOF|\bQ)\s*$", re.I)
    TIME_AFTER = re.compile(r"^\s*(?:HRS?\b|HOURS?\b|H\b|AM\b|PM\b|-+\s*\d{3,4}|>+\s*\d{3,4}|TO\s+\d{3,4}|:\d\d)", re.I)

    def find(self, text: str) -> list[PhiSpan]:
        out: list[PhiSpan] = []
        taken: list[tuple[int, int]] = []

        def add(s: int, e: int, cat: str, score: float) -> None:
            if not any(s < te and ts < e for ts, te in taken):
                taken.append((s, e))
                out.append(self.span(s, e, cat, score))

        for m in self.FULL_NUMERIC.finditer(text):
            add(m.start(), m.end(), "DATE", 0.95)
        for m in self.DAY_FIRST.finditer(text):
            add(m.start(), m.end(), "DATE", 0.95)
        for m in self.ISO.finditer(text):
            add(m.start(), m.end(), "DATE", 0.95)
        for m in self.COMPACT.finditer(text):
            add(m.start(), m.end(), "DATE", 0.6)
        for m in self.WRITTEN.finditer(text):
            word = re.match(r"\D+", m.group().strip())
            if word and word.group().strip(" .,").upper() in ("MAY", "MAR", "MARCH") and not re.search(r"\d", m.group()):
                continue
            add(m.start(), m.end(), "DATE", 0.9)
        for m in self.HOLIDAY.finditer(text):
            add(m.start(), m.end(), "HOLIDAY", 0.85)
        for m in self.MONTH_DAY.finditer(text):
            before, after = text[max(0, m.start() - 12): m.start()], text[m.end(): m.end() + 16]
            a, b = (int(x) for x in m.group().split("/"))
            if self.NOT_DATE_BEFORE.search(before) or self.NOT_DATE_AFTER.search(after):
                continue
            if self.SETTINGS_CHAIN.search(text[max(0, m.start() - 16): m.start()]) or re.match(r"/\d+\s*%", after):
                continue
            ctx = text[max(0, m.start() - 14): m.start()]
            if re.search(r"(?:CPAP|PS|BIPAP|IPAP|EPAP|PEEP|VENT|IMV|SIMV|AC|MASK|VENTILATION|SETTINGS|PRESSURE|\bX|&|%,|PERRLA?|WEANED TO|WEANING ON)\W{0,3}$", ctx, re.I):
                continue
            date_cue = _DATE_CUE.search(ctx)
            if fraction_not_a_date(text, m.start(), m.end()):
                continue
            if not date_cue and ((a < b <= 4) or (a == b <= 5)):
                continue
            if b <= 5 and a <= 5 and re.search(r"(?:strength|\d/5|motor|equal|bilat|grip|push|pull)", text[max(0, m.start() - 40): m.start()] + " " + text[m.end(): m.end() + 40], re.I):
                continue
            add(m.start(), m.end(), "DATE", 0.8)
        for m in self.MONTH_YEAR.finditer(text):
            add(m.start(), m.end(), "DATE", 0.7)
        for m in self.YEAR_APOSTROPHE.finditer(text):
            add(m.start(), m.end(), "YEAR", 0.6)
        for m in self.MONTH_ALONE.finditer(text):
            add(m.start(), m.end(), "DATE", 0.6)
        for m in self.YEAR.finditer(text):
            digits = m.group().lstrip("'")
            if len(digits) == 2:
                pass  # '85: an apostrophe year
            else:
                year = int(digits)
                before, after = text[max(0, m.start() - 12): m.start()], text[m.end(): m.end() + 8]
                looks_time = year % 100 < 60 and (self.TIME_BEFORE.search(before) or self.TIME_AFTER.search(after))
                if looks_time and not re.search(r"\b(?:IN|SINCE|OF|FROM|YEAR|CLASS)\s*$", before, re.I):
                    continue
                if re.match(r"\s*(?:CC|ML|MG|MCG|KCAL|CAL|U\b|UNITS|G\b|GM)", after, re.I):
                    continue
            add(m.start(), m.end(), "YEAR", 0.6)
        return out
