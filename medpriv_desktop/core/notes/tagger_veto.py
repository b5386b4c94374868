"""Shapes the PHI tagger's word alone may not mask: small rule functions, each with its own table test.

The tagger (:mod:`medpriv_desktop.core.notes.model_recognizer`) reads every token and its findings are joined to the
rule recognizers' by union. On notes it was not trained on, most of what it over-masks has a recognisable shape:
ordinary English or chart words ("lives near campus", "ELEVATOR IN BLDG"), US states (not PHI under Safe Harbor),
misspelt relation words ("dauther", "pt'sdaughter"), the sex letter after an age ("52 yo M"), eponyms ("Snellen",
"Cockcroft-Gault"), numbers that cannot be dates ("20/25", "24/7", "week 12", "the 2nd", "in the 90's", "heparin
2000 u"), clock times and vital-sign ranges read as phone numbers ("at 0330", "@515PM", "sats 88-91") and GCS
components read as IDs ("E4V4M6"), neuro-exam shorthand read as names ("MAE, PEARL"), anatomy and diseases in any
case ("Trachea", "Hiatal hernia", "Covid-19"), the heading letters of SOAP notes ("A- (-) MI"), contractions
("con't"), kinds of school ("nursing school"), the colour of a body fluid ("amber" urine) and fluid balances ("LOS
12883"). These shapes were read on the tuning notes (tuning-val, and since 1.4.1 the cross-fit taggers' out-of-fold
scores), the shared invented-dev notes and the public Open-i and CT-RATE reports
(``benchmarks/bench_deid_reports.py``), never on the locked part.

A veto applies to one tagger span only. It never removes what a rule recognizer found: the union keeps that.
:func:`reason` returns the name of the first rule that vetoes a span, or ``None``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from medpriv_desktop.core.notes import lexicons
from medpriv_desktop.core.notes.recognizers.base import cased_note
from medpriv_desktop.core.notes.recognizers.dates import fraction_not_a_date
from medpriv_desktop.core.notes.recognizers.name_words import MISSPELT_HEALTH

# -- helpers -------------------------------------------------------------------------------------------------------

_LETTERS = re.compile(r"[^\W\d_]+")
_EDGE = ".,;:()[]{}\"'!?@<>*"


def token_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The whitespace-delimited token holding ``text[start:end]``, without leading/trailing punctuation."""
    s, e = start, end
    while s > 0 and not text[s - 1].isspace():
        s -= 1
    while e < len(text) and not text[e].isspace():
        e += 1
    while s < start and text[s] in _EDGE:
        s += 1
    while e > end and text[e - 1] in _EDGE:
        e -= 1
    return s, e


def _word_before(text: str, start: int) -> str:
    """The word (letters, digits, '#', '/') just before ``start``, upper case."""
    m = re.search(r"([A-Za-z#/.]+)[\s(:]*$", text[max(0, start - 30):start])
    return m.group(1).upper().strip(".") if m else ""


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@functools.lru_cache(maxsize=1)
def _eponyms() -> tuple[frozenset[str], tuple[str, ...]]:
    """(single-word eponyms, multi-word or hyphenated eponym phrases), upper case."""
    entries = lexicons.load("eponyms")
    return (frozenset(e for e in entries if " " not in e and "-" not in e),
            tuple(sorted((e for e in entries if " " in e or "-" in e), key=len, reverse=True)))


@functools.lru_cache(maxsize=1)
def _eponym_phrases() -> re.Pattern[str]:
    """One pattern for every eponym phrase, longest first, hyphens with optional spaces, whole words only."""
    _, phrases = _eponyms()
    alts = "|".join(re.escape(ph).replace(r"\-", r"\s*-\s*") for ph in phrases) or "(?!)"
    return re.compile(r"(?<![A-Za-z])(?:" + alts + r")(?![A-Za-z])", re.IGNORECASE)


def _person_or_place(word: str) -> bool:
    up = word.upper()
    return up in lexicons.first_names() or up in lexicons.surnames() or up in lexicons.cities()


#: How many of the most frequent words of the common-word list count as ordinary (further down, the BERT vocabulary
#: holds many given names: "Ronnie" is near 8,300, "Bubba" near 14,600).
ORDINARY_TOP = 6000


def _ordinary(word: str) -> bool:
    """A word of three letters or more among the most frequent ordinary words, or a chart word; never a state or a
    city ("maryland" in lower case is still a place)."""
    up = word.upper()
    if len(up) < 3 or up in lexicons.states() or up in lexicons.cities():
        return False
    return up in lexicons.ranked("common_words", ORDINARY_TOP) or up in lexicons.clinical_words()


# -- the rules (each: text, start, end, category -> True when the tagger's span is vetoed) --------------------------

def state(text: str, start: int, end: int, category: str) -> bool:
    """A US state name or postal code ("moving from Florida", "N.C."): not PHI under Safe Harbor. A state that is
    also a city ("Washington") stays masked, and so does one inside an institution's name ("University of
    Maryland", "MD Medical Center")."""
    if category != "LOCATION":
        return False
    s, e = token_around(text, start, end)
    if re.search(r"\bof\s*$", text[max(0, s - 5):s], re.IGNORECASE):
        return False
    after = re.match(r"[\s.,]*([A-Za-z]+)", text[e:e + 20])
    if after and after.group(1).upper() in lexicons.FACILITY_KEYWORDS:
        return False
    if re.fullmatch(r"[A-Za-z]\.[A-Za-z]\.?", text[s:e]):  # "N.C." (the token loses its last dot)
        return text[s:e].replace(".", "").upper() in lexicons.states()
    words = _LETTERS.findall(text[start:end])
    if not words:
        return False
    phrase = " ".join(words).upper()
    return phrase in lexicons.states() and phrase not in lexicons.cities()


def ordinary_words(text: str, start: int, end: int, category: str) -> bool:
    """Every word of a NAME/LOCATION span is a frequent ordinary English word or a chart word. In a note whose
    capitals carry information, only words written in lower case ("near campus", "the woods"): a capitalised word
    there may be part of a name ("Coastal Housing Partners"). In a note typed all in capitals or all in lower case,
    only when no word is also a first name, surname or city ("ELEVATOR", "shared")."""
    if category not in ("NAME", "LOCATION"):
        return False
    words = _LETTERS.findall(text[start:end])
    if not words or not all(_ordinary(w) for w in words):
        return False
    if cased_note(text):
        return all(w.islower() for w in words)
    return not any(_person_or_place(w) for w in words)


_KIN = tuple(w for w in lexicons.RELATIONS if len(w) >= 5 and w.isalpha())
_TITLES = frozenset(lexicons.CREDENTIALS | lexicons.CLINICIAN_TITLES | lexicons.HONORIFICS
                    | {"BR", "SR", "FR", "PGY", "SN"})


def role_word(text: str, start: int, end: int, category: str) -> bool:
    """A title, credential or relation word, also misspelt or run together ("m.d.", "dauther", "DUAGHTER",
    "pt'sdaughter"), that is not itself a first name or surname."""
    if category != "NAME":
        return False
    raw = text[start:end]
    letters = "".join(_LETTERS.findall(raw)).upper()
    if not letters or len(_LETTERS.findall(raw)) > 2:
        return False
    if letters in _TITLES or letters in lexicons.RELATIONS:
        return True
    if _person_or_place(letters):
        return False
    for kin in _KIN:
        if letters.endswith(kin) and len(letters) - len(kin) <= 2:
            return True
        if abs(len(letters) - len(kin)) <= 2 and _edit_distance(letters, kin) <= (2 if len(kin) >= 7 else 1):
            return True
    return False


#: Chart abbreviations written in capitals or lower case that the tagger takes for names or places ("GI (Dr. X)
#: recommends", "sent back from SNF", "BCX FROM OSH", "gen surg", "the housestaff"), besides the clinical lexicon.
CHART_ABBREVIATIONS = frozenset("GI ID SNF OSH BLDG SURG HOUSESTAFF SN LOS PGY MAC ALINE".split())


def chart_abbreviation(text: str, start: int, end: int, category: str) -> bool:
    """One word, written all in capitals or all in lower case, that is a chart abbreviation or a word of the
    clinical lexicon and not a first name ("SNF", "OSH", "surg"); written capitalised ("Foley", "Mac") it may be a
    name and stays."""
    word = text[start:end]
    if category not in ("NAME", "LOCATION") or not word.isalpha() or not (word.isupper() or word.islower()):
        return False
    up = word.upper()
    if up in CHART_ABBREVIATIONS:
        return True
    return up in lexicons.clinical_words() and up not in lexicons.first_names() and word.isupper() \
        and not cased_note(text)


#: Neuro-exam shorthand of nursing notes: "MAE" (moves all extremities) and the pupil checks "PERRL", "PERRLA",
#: "PEARL", "PEARLA", "PERL". "Mae" and "Pearl" are first names too.
NEURO_SHORTHAND = frozenset("MAE PERRL PERRLA PEARL PEARLA PERL".split())


def neuro_shorthand(text: str, start: int, end: int, category: str) -> bool:
    """Neuro-exam shorthand taken for a name ("A&O X3, MAE, PEARL", "pt mae x4"), written all in capitals or all in
    lower case and not after a relation, title or credential word ("wife mae", "MS. PEARL" stay masked); written
    capitalised ("Mae", "Pearl") it is a name and stays."""
    word = text[start:end]
    if category != "NAME" or not word.isalpha() or not (word.isupper() or word.islower()):
        return False
    if word.upper() not in NEURO_SHORTHAND:
        return False
    before = _word_before(text, start)
    # "PT" is a credential (physical therapist) but before shorthand it is the patient: "pt mae x4"
    return before not in lexicons.RELATIONS and (before not in _TITLES or before == "PT")


def sex_letter(text: str, start: int, end: int, category: str) -> bool:
    """The sex letter after an age ("52 yo M", "67 y/o F", "45M")."""
    if category != "NAME" or text[start:end].rstrip(".").upper() not in ("M", "F"):
        return False
    if text[start:end].lower().startswith("m") and re.search(r"\b[ap]\.\s?$", text[max(0, start - 3):start], re.I):
        return True  # "a.m.", "p.m."
    return re.search(r"(?:\d\s*|\b(?:yo|y/o|y\.o\.?|yr|yrs|year[- ]old|years?[- ]old)\s+)$",
                     text[max(0, start - 20):start], re.IGNORECASE) is not None


def meridiem(text: str, start: int, end: int, category: str) -> bool:
    """The "a" or "p" of "a.m." / "p.m." read as a name (its "m" is :func:`sex_letter`'s)."""
    if category != "NAME":
        return False
    word = text[start:end].rstrip(".").lower()
    if re.fullmatch(r"[ap]\.\s?m", word):  # the whole "a.m" as one span
        return True
    return word in ("a", "p") and re.match(r"\.?\s?m\b", text[start + 1:start + 5], re.IGNORECASE) is not None


_EPONYM_NOUNS = frozenset(
    """SIGN SIGNS TEST TESTS SCORE SCALE GRADE CRITERIA FORMULA EQUATION CLASSIFICATION MANEUVER MANOEUVRE REFLEX
    CHART CATHETER TUBE DRAIN SYNDROME DISEASE STAGE POSITION APPLANATION TONOMETRY TONOMETER ACUITY NODES NODE
    LESIONS SPOTS TRIAD PROCEDURE OPERATION FUNDOPLICATION POUCH BLOCK PHENOMENON RESPIRATION BREATHING HERNIA FOSSA
    LINE LINES HUMP SHUNT SARCOMA MALFORMATION ANOMALY DEFORMITY FRACTURE NODULE NODULES""".split())


def eponym(text: str, start: int, end: int, category: str) -> bool:
    """A medical eponym ("Snellen", "Cockcroft-Gault", "Kellgren-Lawrence grade 4", "Goldmann applanation"). An
    eponym that is also a common name counts only inside an eponym phrase or before a noun such as "sign",
    "score" or "applanation"."""
    if category not in ("NAME", "LOCATION"):
        return False
    singles, _ = _eponyms()
    # Only near the span: a phrase holding it starts at most its own length before it (the lexicon's are short).
    for m in _eponym_phrases().finditer(text, max(0, start - 40), min(len(text), end + 60)):
        if m.start() <= start and end <= m.end():
            return True
    words = _LETTERS.findall(text[start:end])
    if not words or not all(w.upper() in singles for w in words):
        return False
    if not any(_person_or_place(w) for w in words):
        return True
    after = re.match(r"['’]?s?\s*([A-Za-z]+)", text[end:end + 30])
    return bool(after and after.group(1).upper() in _EPONYM_NOUNS)


_MONTH_NEAR = re.compile(r"\b(" + "|".join(sorted(lexicons.MONTHS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
_COUNTERS = frozenset(
    """WEEK WEEKS WK WKS DAY DAYS VISIT CYCLE POD HD GRADE STAGE LEVEL STEP PHASE ROOM RM BED # X GCS SCORE ED
    EDITION VERSION V NUMBER NO TYPE CLASS SIZE FR GAUGE G ZONE BAY SLOT LINE LEAD""".split())
#: Nouns an ordinal counts ("8th ed.", "2nd floor", "3rd MCP", "4th ICS"): no date follows them.
_ORDINAL_NOUNS = frozenset(
    """ED EDITION FLOOR FL SHIFT GRADE DEGREE RIB RIBS TOE TOES FINGER FINGERS DIGIT DIGITS MCP PIP DIP MTP ICS
    INTERCOSTAL CRANIAL NERVE TRIMESTER PERCENTILE GENERATION LINE TIME TIMES DOSE DOSES CYCLE ROUND ATTEMPT STAGE
    VENTRICLE METATARSAL METACARPAL LUMBAR CERVICAL THORACIC VERTEBRA PLACE YEAR GRADER GRADE""".split())
_UNITS = re.compile(r"\s*(u|units?|iu|mg|mcg|g|kg|ml|cc|l|meq|mmol|kcal|cal|mosm|ng|mm|cm)\b", re.IGNORECASE)


def _valid_day_month(a: int, b: int) -> bool:
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


def not_a_date(text: str, start: int, end: int, category: str) -> bool:
    """Numbers that cannot be a date: an ordinal with no month beside it ("the 2nd", "AJCC 8th ed."), a decade
    ("in the 90's"), a fraction that is a date neither as M/D nor D/M ("20/25", "18/17") or is "24/7", a fraction in
    a fluid name ("D5 1/2 NS"), a score out of ten or a gestational age's days (``fraction_not_a_date``: "HA 3/10",
    "34 2/7 wk"), ventilator settings ("5/5-.40"), a count after a counting word ("week 12"), a quantity before a
    unit ("2000 u")."""
    if category != "DATE":
        return False
    s, e = token_around(text, start, end)
    tok = text[s:e]
    if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", tok, re.IGNORECASE):
        if _MONTH_NEAR.search(text[max(0, s - 15):e + 15]):
            return False
        after = re.match(r"[\s.,]*([A-Za-z]+)(?:[\s.,]+(\d{1,2}(?:st|nd|rd|th)))?", text[e:e + 30])
        return bool(after and (after.group(1).upper() in _ORDINAL_NOUNS
                               or (after.group(1).upper() in ("AND", "OR", "TO", "THROUGH") and after.group(2))))
    if re.fullmatch(r"\d0['’]?s", tok, re.IGNORECASE):
        return True
    if re.fullmatch(r"\d{1,2}/\d{1,2}-\s*(?:\.\d+|\d{2}\s*%)", tok):  # ventilator settings: "5/5-.40", "10/5-40%"
        return True
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})", tok)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if tok == "24/7" or not (_valid_day_month(a, b) or 1 <= a <= 12):  # "12/93" is a month and a year
            return True
        if fraction_not_a_date(text, s, e):  # "HA 3/10", "34 2/7 wk": as the date rule reads them
            return True
        return bool(re.search(r"\bD5W?\s*$", text[max(0, s - 8):s], re.IGNORECASE)
                    or re.match(r"\s*NS\b", text[e:e + 5], re.IGNORECASE))
    if re.fullmatch(r"\d{1,2}", tok):
        return _word_before(text, s) in _COUNTERS
    if re.fullmatch(r"\d{3,5}", tok):
        return _UNITS.match(text, e) is not None
    return False


def not_a_phone(text: str, start: int, end: int, category: str) -> bool:
    """A clock time ("at 0330", "@515PM", "0915h"), a range of two small numbers ("sats 88-91") or "24/7" read as a
    phone number."""
    if category != "PHONE":
        return False
    s, e = token_around(text, start, end)
    tok = text[s:e].lstrip("@~")
    if tok == "24/7":
        return True
    m = re.fullmatch(r"(\d{1,2}):?(\d{2})\s*(am|pm|a|p|h|hr|hrs)?", tok, re.IGNORECASE)
    if m and int(m.group(1)) <= 24 and int(m.group(2)) < 60:
        if m.group(3) or ":" in tok:
            return True
        return bool(re.search(r"\b(at|@|since|until|till|by|from|to|around|approx|@)\s*$", text[max(0, s - 10):s],
                              re.IGNORECASE) or text[max(0, s - 1):s] == "@" or text[s:s + 1] == "@")
    m = re.fullmatch(r"(\d{2,3})-(\d{2,3})", tok)
    return bool(m and int(m.group(1)) <= 300 and int(m.group(2)) <= 300)


def gcs_components(text: str, start: int, end: int, category: str) -> bool:
    """A Glasgow Coma Scale breakdown ("E4V4M6", "E3VTM5") read as an ID."""
    if category != "ID":
        return False
    s, e = token_around(text, start, end)
    return re.fullmatch(r"E[1-4]\s*V(?:[1-5]|T)\s*M[1-6]", text[s:e], re.IGNORECASE) is not None


def clinical_word(text: str, start: int, end: int, category: str) -> bool:
    """A lone lower-case word from the clinical lexicon ("foley in place", "picc", "lytes") that is not a first
    name (a name written in lower case next to another name word, or after a cue such as "dr", is still found, by
    the tagger's multi-word span or by the rules)."""
    word = text[start:end]
    if not word.isalpha() or not word.islower():
        return False
    up = word.upper()
    return up in lexicons.clinical_words() and up not in lexicons.first_names()


def clinical_term(text: str, start: int, end: int, category: str) -> bool:
    """A name or place span made only of clinical-lexicon words none of which is a census first name, surname or a
    city, in any case ("Trachea", "Hiatal hernia", "Covid-19 pneumonia", "CHOLELITHIASIS"): capitals do not make a
    word such as these a name. A word that can be a name ("Foley", "Vena") is left to the other rules."""
    if category not in ("NAME", "LOCATION"):
        return False
    words = _LETTERS.findall(text[start:end])
    clinical = lexicons.clinical_words()
    return bool(words) and all(w.upper() in clinical and len(w) >= 3 and not _person_or_place(w) for w in words)


#: A dose right after a word: an amount with its unit ("40 mg", "2 tabs", "0.5mg") or a combination strength
#: ("5/325").
_DOSE_AFTER = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*(?:mg|mcg|g|gm|gms|ml|cc|units?|u|meq|mmol|tabs?|tablets?|caps?|"
                         r"capsules?|puffs?|gtts?|drops?|patch|%)(?![A-Za-z])|\d{1,2}(?:\.\d)?/\d{3,4}(?!\d))",
                         re.IGNORECASE)


def dose_after(text: str, end: int) -> bool:
    """Whether a dose starts at ``end`` ("Norco| 5/325", "ATIVAN| 1MG"); the location rules ask it too."""
    return _DOSE_AFTER.match(text, end) is not None


def drug_with_dose(text: str, start: int, end: int, category: str) -> bool:
    """One word read as a name or place right before a dose is a drug ("CONTINUE Norco 5/325", "ATIVAN 1MG", "gave
    Ambien 10 mg"), also when it shares its spelling with a city or a person; not after a title, honorific or
    relation word ("Dr. Ryan 40 mg" stays a name)."""
    if category not in ("NAME", "LOCATION"):
        return False
    words = _LETTERS.findall(text[start:end])
    if len(words) != 1 or len(words[0]) < 4 or not dose_after(text, end):
        return False
    before = _word_before(text, start)
    return before not in _TITLES and before not in lexicons.RELATIONS


#: A number run together with its unit ("100mcgs", "40mg", "2.5ml"): a quantity, never PHI.
_QUANTITY = re.compile(r"\d+(?:\.\d+)?(?:mg|mgs|mcg|mcgs|g|gm|gms|ml|cc|units?|meq|mmol|kg|kgs|lbs?|cm|mm|"
                       r"hrs?|mins?|%)", re.IGNORECASE)


def quantity(text: str, start: int, end: int, category: str) -> bool:
    """A number run together with its unit ("wearing four Fentanyl patches (100mcgs/ea.)") read as PHI."""
    s, e = token_around(text, start, end)
    return _QUANTITY.fullmatch(text[s:e].split("/")[0]) is not None


#: What follows "ST" when it is the ECG's ST segment ("ST CHGS", "ST elevation") ...
_ST_AFTER = re.compile(r"\s*-?\s*(?:CHG|CHGS|CHANGES?|ELEV\w*|DEPRESS\w*|SEG\w*|WAVES?|ABN\w*|T\b|&\s*T\b)",
                       re.IGNORECASE)
#: ... or what comes before it when it is a rhythm, sinus tachycardia ("HR remains in ST in 110's", "NSR/ST").
_ST_BEFORE = re.compile(r"(?:\b(?:IN|TO|INTO|SINUS|RHYTHM|NSR|SR|AF|AFIB|RATE)\s*|/)$", re.IGNORECASE)


def st_segment_or_rhythm(text: str, start: int, end: int, category: str) -> bool:
    """"ST" of the ECG (the ST segment, or sinus tachycardia as a rhythm) read as a street or saint, alone or with
    ordinary words ("WO ACUTE ST CHGS", "converted initially to ST with lots of ectopy")."""
    if category not in ("NAME", "LOCATION"):
        return False
    words = list(_LETTERS.finditer(text, start, end))
    sts = [w for w in words if w.group().upper() == "ST"]
    if not sts or any(w.group().upper() != "ST" and not _ordinary(w.group()) for w in words):
        return False
    for w in sts:
        nxt = re.match(r"\.?\s*([A-Za-z]{3,})", text[w.end():w.end() + 20])
        if nxt and nxt.group(1).upper() in lexicons.first_names():  # a saint: "ST MARY'S", "St. Vincent"
            return False
        if not (_ST_AFTER.match(text, w.end()) or _ST_BEFORE.search(text, max(0, w.start() - 12), w.start())):
            return False
    return True


def misspelt_health_care(text: str, start: int, end: int, category: str) -> bool:
    """"Heath care" ("HEATH CARE PROXY", "BACKGROUND IN HEATH CARE"): health misspelt, read as a heath or a surname."""
    if category not in ("NAME", "LOCATION"):
        return False
    s, e = token_around(text, start, end)
    return text[s:e].upper() in MISSPELT_HEALTH and re.match(r"\s*CARE\b", text[e:e + 8], re.IGNORECASE) is not None


def country(text: str, start: int, end: int, category: str) -> bool:
    """A country ("daughter here from England", "moved from Haiti in 2010"): not a geographic subdivision smaller
    than a state, so not PHI under Safe Harbor; not when a title or relation word stands before it, and never one
    spelt like a census first name ("Jordan", "Chad", "Kenya": left to the other rules)."""
    if category != "LOCATION":
        return False
    phrase = " ".join(_LETTERS.findall(text[start:end])).upper()
    if phrase not in lexicons.countries() or phrase in lexicons.first_names():
        return False
    before = _word_before(text, start)
    return before not in _TITLES and before not in lexicons.RELATIONS


#: Headings of SOAP, SOAPIE and DAR nursing notes (subjective, objective, assessment, plan, intervention,
#: evaluation; data, action, response).
_HEADING_LETTERS = frozenset("SOAPIEDR")
#: A heading letter at the start of a line (these notes may join lines with "|") followed by "-" or ":".
_LINE_START = re.compile(r"(?:^|\n|\|)[ \t]*$")


def note_heading(text: str, start: int, end: int, category: str) -> bool:
    """The heading letter of a SOAP or DAR note, alone at the start of a line before "-" or ":" ("A- (-) MI CHF",
    "P: wean as tolerated", "o-ms: a/o x3"), read as an initial."""
    if category != "NAME" or end - start != 1 or text[start].upper() not in _HEADING_LETTERS:
        return False
    return _LINE_START.search(text, max(0, start - 12), start) is not None \
        and re.match(r"[ \t]*[-:]", text[end:end + 3]) is not None


#: Contractions of chart prose ("con't", "cont'd", "didn't"): a word with "n't" or a continue-abbreviation.
_CONTRACTION = re.compile(r"[A-Za-z]+n['’]t|cont?['’][td]", re.IGNORECASE)


def contraction(text: str, start: int, end: int, category: str) -> bool:
    """A span inside a contraction ("con't same", "cont'd", "pt didn't sleep") read as a name."""
    if category not in ("NAME", "LOCATION"):
        return False
    s, e = token_around(text, start, end)
    return _CONTRACTION.fullmatch(text[s:e]) is not None


#: Kinds of school or training that say what was studied, not where ("JUST FINISHED NURSING SCHOOL").
_SCHOOL_KINDS = frozenset("NURSING HIGH MEDICAL MED LAW GRAD GRADUATE BUSINESS DENTAL ELEMENTARY MIDDLE JUNIOR "
                          "PHARMACY TRADE VOCATIONAL NIGHT SUMMER BEAUTY".split())
_SCHOOLS = frozenset("SCHOOL SCHOOLS COLLEGE".split())


def kind_of_school(text: str, start: int, end: int, category: str) -> bool:
    """A kind of school, not a named one ("just finished nursing school", "quit HIGH SCHOOL at 16"): the span is the
    school word, or the kind and the school word, and the word before the kind is no name, place or capitalised rare
    word ("Lincoln High School", "Smithfield Nursing School" stay masked)."""
    if category != "LOCATION":
        return False
    words = [m.group().upper() for m in _LETTERS.finditer(text, start, end)]
    if not words or words[-1] not in _SCHOOLS or any(w not in _SCHOOL_KINDS for w in words[:-1]) or len(words) > 2:
        return False
    head = start
    if len(words) == 1:
        kind = re.search(r"([A-Za-z]+)\s+$", text[max(0, start - 20):start])
        if not kind or kind.group(1).upper() not in _SCHOOL_KINDS:
            return False
        head = start - len(kind.group(0))
    before = re.search(r"([A-Za-z]+)[\s,]*$", text[max(0, head - 25):head])
    if before is None:
        return True
    word = before.group(1)  # a capitalised word that is no ordinary word, or a first name, may name the school
    return not (word[:1].isupper() and (not _ordinary(word) or word.upper() in lexicons.first_names()))


#: Colour words of body fluids, and the fluids ("urine went from amber ... to light yellow", "green sputum").
_FLUID_COLOURS = frozenset("AMBER YELLOW STRAW TEA GREEN BROWN RED PINK ORANGE CLEAR CLOUDY BLOODY SEROUS "
                           "SANGUINOUS SEROSANGUINOUS DARK".split())
_FLUIDS = re.compile(r"\b(?:urine|uop|u/o|stool|stools|sputum|secretions|drainage|emesis|bile|fluid|output)\b",
                     re.IGNORECASE)


def fluid_colour(text: str, start: int, end: int, category: str) -> bool:
    """A colour word within a few words of a body fluid ("urine went from amber and approx 40 cc/hr", "Yellow
    sputum") read as a name or place; not after a title, honorific or relation word ("Dr. Brown, re urine")."""
    if category not in ("NAME", "LOCATION"):
        return False
    words = _LETTERS.findall(text[start:end])
    if len(words) != 1 or words[0].upper() not in _FLUID_COLOURS:
        return False
    before = _word_before(text, start)
    if before in _TITLES or before in lexicons.RELATIONS:
        return False
    return _FLUIDS.search(text, max(0, start - 30), min(len(text), end + 30)) is not None


#: Words before a fluid balance ("FB for LOS 12883", "I/O +2400", "net -850"): the number after them is a volume.
_BALANCE_WORDS = frozenset("LOS FB BALANCE NET I/O TBB".split())


def fluid_balance(text: str, start: int, end: int, category: str) -> bool:
    """A fluid balance read as a ZIP code or an ID: a number, signed or not, right after "LOS" (length of stay),
    "FB", "I/O" or "net", or one span of the word and the number ("LOS 12883")."""
    if category not in ("LOCATION", "ID"):
        return False
    s, e = token_around(text, start, end)
    span = text[start:end] if " " in text[start:end].strip() else text[s:e]
    m = re.fullmatch(r"(?:([A-Za-z/]+)\s+)?[+-]?\d[\d,]*(?:cc|ml)?", span.strip(), re.IGNORECASE)
    if m is None:
        return False
    return (m.group(1) or _word_before(text, s)).upper() in _BALANCE_WORDS


#: The rules, in the order they are tried.
RULES: tuple[Callable[[str, int, int, str], bool], ...] = (
    clinical_word, clinical_term, chart_abbreviation, neuro_shorthand, state, ordinary_words, role_word, sex_letter,
    meridiem, eponym, not_a_date, not_a_phone, gcs_components, drug_with_dose, quantity, st_segment_or_rhythm,
    misspelt_health_care, country, note_heading, contraction, kind_of_school, fluid_colour, fluid_balance,
)


def reason(text: str, start: int, end: int, category: str) -> str | None:
    """The name of the first rule that vetoes the tagger's span ``text[start:end]`` of ``category``, or None."""
    for rule in RULES:
        if rule(text, start, end, category):
            return rule.__name__
    return None


#: What may stand between two spans of one group: up to three spaces or punctuation marks, or a linking word; never
#: a semicolon, which ends a clause and stands inside no name or address ("NURSING SCHOOL; JOHN STATES").
_JOINING_GAP = re.compile(r"[^\w;]{0,3}|[^\w;]{1,2}(?:of|de|del|la|le|the|and|&)[^\w;]{1,2}", re.IGNORECASE)


def keep(text: str, spans: list) -> list:
    """The tagger's spans (sorted, PhiSpan-like) that survive the veto. Spans that touch across at most three
    characters of spaces or punctuation other than a semicolon, or a linking word ("St. Brigid's", "O'Connell",
    "N.C.", "University of Maryland") form one group, and a group goes only
    when every span in it is vetoed: a vetoed word inside a name or an address ("ME 04190", "Lakeview Primary Care")
    stays masked with its neighbours."""
    groups: list[list] = []
    for sp in spans:
        gap = text[groups[-1][-1].end: sp.start] if groups else None
        if gap is not None and _JOINING_GAP.fullmatch(gap):
            groups[-1].append(sp)
        else:
            groups.append([sp])
    return [sp for g in groups if not all(reason(text, sp.start, sp.end, sp.category) for sp in g) for sp in g]
