"""Public word lists used by the rule recognizers (``resources/lexicons``), loaded once and shared.

The files are built by ``training/phi/lexicons.py`` from public sources (US Census names, GeoNames cities, the BERT
vocabulary as a list of ordinary words) and hand-written lists below; nothing is taken from any annotated corpus.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from medpriv_desktop.core import paths

#: Titles and roles that precede a clinician's name.
CLINICIAN_TITLES = frozenset(
    "DR DR. DRS DRS. DOCTOR MD HO NP PA RN RRT PCP ATTENDING RESIDENT FELLOW INTERN NURSE PROVIDER SURGEON "
    "CARDIOLOGIST NEUROLOGIST ONCOLOGIST INTENSIVIST HOSPITALIST".split()
)
#: Honorifics that precede a patient's (or anyone's) name.
HONORIFICS = frozenset("MR MR. MRS MRS. MS MS. MISS MISTER".split())
#: Relations that precede a relative's or proxy's name.
RELATIONS = frozenset(
    "SON SONS DAUGHTER DAUGHTERS DTR DAU WIFE HUSBAND SPOUSE SISTER SISTERS BROTHER BROTHERS MOTHER MOM FATHER DAD "
    "FRIEND GIRLFRIEND BOYFRIEND PARTNER NIECE NEPHEW AUNT AUNTS UNCLE COUSIN GRANDSON GRANDDAUGHTER GRANDDAUGHTERS "
    "GRANDSONS GRANDMOTHER GRANDFATHER PROXY HCP CAREGIVER NEIGHBOR FIANCE FIANCEE STEPSON STEPDAUGHTER RABBI PRIEST "
    "CHAPLAIN PASTOR REV REVEREND FR GUARDIAN".split()
)
#: Credentials written after a name in signatures ("anita morris rn").
CREDENTIALS = frozenset("RN RRT MD NP PA PT OT SW LICSW LPN CNA PHD DO PHARMD RD MSW BSN CCRN NNP SLP".split())
#: Words that follow a verb-like title and are not names ("DR AWARE", "MD NOTIFIED").
NOT_NAMES = frozenset(
    """AWARE NOTIFIED NOTIFED INFORMED CALLED PAGED UPDATED ORDERED ORDERS ORDER HERE IN AT ON TO OF FOR BY WITH AND OR
    THE A AN THIS THAT THESE TEAM TEAMS OFFICE NOTE NOTES SERVICE STAFF ON-CALL ONCALL CALL COVERING COVERAGE AS IS WAS
    WERE HAS HAD WILL WOULD SAID SAYS STATES STATED SPOKE SPOKEN MADE GAVE GIVEN WANTS WANTED FEELS FELT RECOMMENDS
    RECOMMENDED REQUESTS REQUESTED AGREES AGREED PLAN PLANS EVALUATED EXAMINED SEEN SAW VISITED CAME COME UP OUT BACK
    ALSO STILL NOW THEN TODAY TONIGHT YESTERDAY TOMORROW AM PM NOC EVE EVENING MORNING NIGHT AFTERNOON ABOUT RE RE:
    REGARDING RE. PT PTS PATIENT PATIENTS FAMILY FAMILIES HIS HER HIM SHE HE THEY THEM THEIR WE US I ME MY OUR YOUR IT
    ITS NOT NO YES ANY ALL SOME MULTIPLE SEVERAL X2 X3 CONSULT CONSULTED CONTACTED INTO FROM UPON OVER VIA PER BUT
    LLL RLL RUL LUL RML ORDERING MEDICAL SURGICAL MICU SICU CCU CSRU ICU ER ED OR DEPT DEPARTMENT RESIDENT ATTENDING FELLOW NURSE NURSES
    ADDENDUM IS. AWARE. WHO WHICH WHAT WHEN WHERE WHY HOW NP. MD. RN. HO. BEDSIDE UNIT FLOOR ROOM PHONE TELEPHONE
    PAGER PAGE CONTACT CONTACTS IF SO THAT'S DNR DNI CMO FULL CODE AGAIN ASAP STAT SHIFT OVERNIGHT SEE DR DRS MR MRS MS
    MISS SON SONS DAUGHTER DAUGHTERS WIFE HUSBAND MOTHER FATHER SISTER BROTHER REPORT DONE SPEAKING NAMED WORKS WISH
    GOOD WELL CURRENTLY UNTIL SEVERE PAIN MED MEDS LINE LINES CATHETER INCISION ECTOPY PHYSICIAN NOTIFY
    MONDAY TUESDAY WEDNESDAY THURSDAY FRIDAY SATURDAY SUNDAY MON TUES WED THURS FRI SAT SUN""".split()
) | frozenset(RELATIONS) | frozenset(CLINICIAN_TITLES) | frozenset(HONORIFICS)
# Names that are also ordinary words. The census lists hold many first names and surnames that are English words
# ("May", "Will", "Bill", "Mark", "Rose", "Hope", "Grace"). No built-in rule takes a word for a name from a list alone:
# a list name counts only after a cue (title, honorific, relation, credential, verb of talking) or beside a rare
# word ("Grace Okonkwo"); in mixed-case notes a capitalised list name inside a sentence counts too, and there case
# decides ("with Grace" is tagged, "grace period" is not). Three groups get explicit treatment:
#: First names that are also verbs or months ("DAUGHTER MAY VISIT", "SON WILL CALL" use them as verbs): a name only
#: when written capitalised in a note whose capitals carry information, right after a title, honorific or relation
#: ("daughter May called", "Dr. May aware", "Mrs. Will resting"); never in a note typed all in capitals or all in
#: lower case, never from the name list alone ("pt may go home" keeps "may").
CASE_GATED_NAMES = frozenset("MAY WILL".split())
#: First names that are chart nouns (evening, months): a name right after a relation word in any case ("GIRLFRIEND
#: EVE IN ALL DAY"), unless a number follows ("DAUGHTER JUNE 5" is a date).
NOUN_FIRST_NAMES = frozenset("EVE JUNE APRIL AUGUST".split())
# Noun-like names that are not chart words ("Bill", "Mark", "Rose", "Hope", "Grace") are names after a cue in any
# case ("SON BILL CALLED"); the site's own deny lists match them only as written (see :func:`exact_case_entry`).
#: Month names and their abbreviations.
MONTHS = {
    "JANUARY": 1, "JAN": 1, "FEBRUARY": 2, "FEB": 2, "MARCH": 3, "MAR": 3, "APRIL": 4, "APR": 4, "MAY": 5,
    "JUNE": 6, "JUN": 6, "JULY": 7, "JUL": 7, "AUGUST": 8, "AUG": 8, "SEPTEMBER": 9, "SEPT": 9, "SEP": 9,
    "OCTOBER": 10, "OCT": 10, "NOVEMBER": 11, "NOV": 11, "DECEMBER": 12, "DEC": 12,
}
#: Named holidays (dates under HIPAA).
HOLIDAYS = (
    "CHRISTMAS EVE", "CHRISTMAS", "XMAS", "NEW YEAR'S EVE", "NEW YEAR'S DAY", "NEW YEARS EVE", "NEW YEARS DAY",
    "NEW YEAR'S", "NEW YEARS", "THANKSGIVING", "EASTER", "HALLOWEEN", "INDEPENDENCE DAY", "FOURTH OF JULY",
    "4TH OF JULY", "MEMORIAL DAY", "LABOR DAY", "VETERANS DAY", "VETERAN'S DAY", "PRESIDENTS DAY",
    "PRESIDENT'S DAY", "MARTIN LUTHER KING DAY", "MLK DAY", "COLUMBUS DAY", "VALENTINE'S DAY", "VALENTINES DAY",
    "MOTHER'S DAY", "MOTHERS DAY", "FATHER'S DAY", "FATHERS DAY", "ST PATRICK'S DAY", "HANUKKAH", "CHANUKAH",
    "PASSOVER", "YOM KIPPUR", "ROSH HASHANAH", "RAMADAN", "KWANZAA", "GOOD FRIDAY",
)
#: Words that end a facility name (not PHI themselves: "X HOSPITAL" -> only X is PHI).
FACILITY_KEYWORDS = frozenset(
    """HOSPITAL HOSPITALS HOSP HOSP. MEDICAL MED CENTER CENTRE CLINIC CLINICS REHAB REHABILITATION INFIRMARY SANATORIUM
    HOSPICE NURSING ASSISTED SKILLED MANOR HEALTHCARE HEALTH VA VAMC CAMPUS PAVILION""".split()
)
#: Words that may be part of a facility name even though they are ordinary English words.
FACILITY_NAME_WORDS = frozenset(
    """UNIVERSITY OF ST ST. SAINT GENERAL MEMORIAL COMMUNITY COUNTY REGIONAL CHILDREN'S CHILDRENS MERCY HOLY CROSS
    GOOD SAMARITAN SAM SACRED HEART PROVIDENCE BAPTIST METHODIST PRESBYTERIAN LUTHERAN ADVENTIST JEWISH DEACONESS
    UNION CITY VALLEY LAKE LAKES RIVER HILL HILLS MOUNT MT MT. SQUARE NORTH SOUTH EAST WEST NORTHERN SOUTHERN EASTERN
    WESTERN CENTRAL NEW FRANKLIN JOHNS WASHINGTON LINCOLN VETERANS BAYVIEW SINAI GRACE HOPE TRINITY ANGELS LADY OUR
    SHORE BAY HARBOR COAST KAISER""".split()
)
#: Well-known hospital names and hospital abbreviations that appear without a keyword.
HOSPITAL_NAMES = (
    "HOLY CROSS", "GOOD SAMARITAN", "GOOD SAM", "SACRED HEART", "JOHNS HOPKINS", "HOPKINS", "MASS GENERAL",
    "MAYO CLINIC", "CLEVELAND CLINIC", "MOUNT SINAI", "MT SINAI", "BETH ISRAEL", "BRIGHAM", "MERCY", "ST JOSEPH",
    "ST JOSEPH'S", "ST MARY'S", "ST MARY", "ST AGNES", "ST LUKE'S", "UNION MEMORIAL", "SINAI", "KERNAN", "SHOCK TRAUMA",
)
HOSPITAL_ABBREVIATIONS = frozenset("GH MGH BWH BIDMC UMMC JHH JHMC GBMC UMH NEBH CHOP UCSF UCLA NYU VAMC".split())
#: Street suffixes (USPS).
STREET_SUFFIXES = frozenset(
    """STREET AVENUE AVE ROAD RD BOULEVARD BLVD LANE LN DRIVE COURT PARKWAY PKWY HIGHWAY HWY PIKE TERRACE CIRCLE""".split()
)


_WORDS = re.compile(r"[^\W\d_]+")


def lexicon_dir() -> Path:
    """The folder of the bundled lexicon files."""
    return paths.resources_dir() / "lexicons"


@functools.lru_cache(maxsize=None)
def load(name: str) -> frozenset[str]:
    """The upper-case entries of ``resources/lexicons/<name>.txt`` (empty when the file is absent)."""
    f = lexicon_dir() / f"{name}.txt"
    if not f.is_file():
        return frozenset()
    return frozenset(
        line.strip().upper() for line in f.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
    )


@functools.lru_cache(maxsize=None)
def ranked(name: str, top: int) -> frozenset[str]:
    """The ``top`` first (most frequent) entries of a lexicon file."""
    f = lexicon_dir() / f"{name}.txt"
    if not f.is_file():
        return frozenset()
    lines = [ln.strip().upper() for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return frozenset(lines[:top])


@functools.lru_cache(maxsize=None)
def clinical_words() -> frozenset[str]:
    """Clinical words and abbreviations that are never names or places (whitespace-separated in the file)."""
    f = lexicon_dir() / "clinical_words.txt"
    if not f.is_file():
        return frozenset()
    words = []
    for line in f.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words += line.upper().split()
    return frozenset(words)


def ordinary_word(word: str) -> bool:
    """True when ``word`` (any case) is an ordinary English or chart word, a month, or a verb-like first name."""
    up = word.upper()
    return up in common_words() or up in NOT_NAMES or up in MONTHS or up in CASE_GATED_NAMES


def exact_case_entry(entry: str) -> bool:
    """For a site deny list: True when ``entry`` is made only of ordinary words ("May", "Rose", "Bill Will"), so it
    matches only with the capitals it is written with ("daughter May called" is tagged, "pt may go home" is not);
    an entry with a rare word ("Okonkwo", "Grace Okonkwo") matches in any case."""
    words = _WORDS.findall(entry)
    return bool(words) and all(ordinary_word(w) for w in words)


def first_names() -> frozenset[str]:
    """US Census first names."""
    return load("first_names")


def surnames() -> frozenset[str]:
    """US Census surnames (60,000 most frequent)."""
    return load("surnames")


def common_words() -> frozenset[str]:
    """Ordinary English words (whole words of the BERT uncased vocabulary)."""
    return load("common_words")


def cities() -> frozenset[str]:
    """GeoNames city names."""
    return load("cities")


def countries() -> frozenset[str]:
    """Country names in English (``resources/lexicons/countries.txt``, one a line)."""
    return load("countries")


def states() -> frozenset[str]:
    """US state names and USPS codes."""
    return load("us_states")
