"""Table-driven tests of the rule recognizers: what each must find, and look-alikes it must leave alone."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes.recognizers.age import AgeRecognizer
from medpriv_desktop.core.notes.recognizers.contact import ContactRecognizer
from medpriv_desktop.core.notes.recognizers.dates import DateRecognizer
from medpriv_desktop.core.notes.recognizers.ids import IdRecognizer
from medpriv_desktop.core.notes.recognizers.locations import LocationRecognizer
from medpriv_desktop.core.notes.recognizers.names import NameRecognizer
from medpriv_desktop.core.notes.recognizers.phone import PhoneRecognizer

RECOGNIZERS = {"date": DateRecognizer, "phone": PhoneRecognizer, "contact": ContactRecognizer, "ids": IdRecognizer,
               "age": AgeRecognizer, "names": NameRecognizer, "locations": LocationRecognizer}
_cache: dict = {}


def found(kind: str, text: str) -> dict[str, str]:
    """Surface text -> category of everything the recognizer finds."""
    rec = _cache.setdefault(kind, RECOGNIZERS[kind]())
    return {text[s.start: s.end]: s.category for s in rec.find(text)}


# (recognizer, text, expected {surface: category})
POSITIVE = [
    ("date", "ADMITTED 8/18 FOR VFIB ARREST", {"8/18": "DATE"}),
    ("date", "seen on 10/3/2016 and 2016-10-04", {"10/3/2016": "DATE", "2016-10-04": "DATE"}),
    ("date", "s/p CABG in nov. 2016, f/u March 21, 1999", {"nov. 2016": "DATE", "March 21, 1999": "DATE"}),
    ("date", "PT THOUGHT IT WAS CHRISTMAS", {"CHRISTMAS": "HOLIDAY"}),
    ("date", "S/P CABG 1957, 1971", {"1957": "YEAR", "1971": "YEAR"}),
    ("date", "OVARIAN CA (12/93) S/P DEBULKING", {"12/93": "DATE"}),
    ("date", "back surgery '85.", {"'85": "YEAR"}),
    ("date", "CT CHEST, 27.05.2020: compared with 13/01/19 and 31-12-1999.",
     {"27.05.2020": "DATE", "13/01/19": "DATE", "31-12-1999": "DATE"}),
    ("phone", "his wife (201/324/1423) confirms", {"201/324/1423": "PHONE"}),
    ("phone", "CELL 410 202-6694, FAX: 617-555-0100", {"410 202-6694": "PHONE", "617-555-0100": "FAX"}),
    ("phone", "Pager: #32007", {"32007": "PHONE"}),
    ("contact", "mail jo.doe@example.com or see www.example.org, host 192.168.1.20",
     {"jo.doe@example.com": "EMAIL", "www.example.org": "URL", "192.168.1.20": "IP"}),
    ("ids", "MRN: 12345678, SSN 123-45-6789", {"12345678": "MRN", "123-45-6789": "SSN"}),
    ("age", "93 YO MALE, AGE 101", {"93": "AGE", "101": "AGE"}),
    ("names", "HO SPOKE WITH DR. TOSCANO ABOUT THIS", {"TOSCANO": "CLINICIAN"}),
    ("names", "Dr. Rakusin and Toolis aware.", {"Rakusin": "CLINICIAN", "Toolis": "CLINICIAN"}),
    ("names", "SOCIAL: SPOKE WITH DAUGHTER PHILOMENA ON PHONE", {"PHILOMENA": "RELATIVE"}),
    ("names", "MRS. GAUDREAU RESTING", {"GAUDREAU": "PATIENT"}),
    ("names", "per note.\n\nanita morris rn\n", {"anita": "CLINICIAN", "morris": "CLINICIAN"}),
    ("names", "REPEAT AT 1000. N. GRANDONE AWARE.", {"N": "NAME", "GRANDONE": "NAME"}),
    ("names", "ATTENDING DR RETTERER-MOORE. LATER DR. RETTERER-MOORE CALLED",
     {"RETTERER": "CLINICIAN", "MOORE": "CLINICIAN"}),
    ("locations", "PT ADMITTED TO FREDERICK MEMORIAL FOR ARREST", {"FREDERICK": "HOSPITAL", "MEMORIAL": "HOSPITAL"}),
    ("locations", "transferred to GH from reisterstown hospital", {"GH": "HOSPITAL", "reisterstown": "HOSPITAL"}),
    ("locations", "PLAN: TRANSFER TO QUARTERMAIN 2 WHEN BED AVAILABLE", {"QUARTERMAIN": "WARD"}),
    ("locations", "SON LIVES IN PIKESVILLE", {"PIKESVILLE": "CITY"}),
    ("locations", "lives at 42 Elm Street, Boston, MA 02114", {"42 Elm Street": "STREET", "02114": "ZIP"}),
    # cues added for the cross-validation misses (texts invented here)
    ("names", "Team has spoken at length with Oscar Brandvold about goals of care.",
     {"Oscar": "NAME", "Brandvold": "NAME"}),
    ("names", "Plan discussed with Dr Will Kowalczyk (attending) and the family.",
     {"Will": "CLINICIAN", "Kowalczyk": "CLINICIAN"}),
    ("names", "LASIX GIVEN. K JOHNSON ORDERED REPEAT LYTES.", {"K": "NAME", "JOHNSON": "NAME"}),
    ("names", "pt slept well. woke once Natalie came in at 0300.", {"Natalie": "NAME"}),
    ("names", "SOCIAL: SISTER, GIRLFRIEND EVE IN ALL DAY", {"EVE": "RELATIVE"}),
    ("names", "Patient Pieter Tanaka (MRN 123), admitted today.", {"Pieter": "PATIENT", "Tanaka": "PATIENT"}),
    ("names", "Transport arranged for Carlos Kowalski at noon.", {"Carlos": "NAME", "Kowalski": "NAME"}),
    ("locations", "TRANSFERRED FROM UNIVERSITY OF MD MEDICAL CENTER, THEN U OF MD MED CENTER",
     {"UNIVERSITY": "HOSPITAL", "OF": "HOSPITAL", "MD": "HOSPITAL", "U": "HOSPITAL"}),
    ("locations", "Pt accepted in transfer from Brightwater Medical Center today.", {"Brightwater": "HOSPITAL"}),
    ("locations", 'He says he is at the Lindqvist Building, then ("LindqvistBuilding").',
     {"Lindqvist": "LOCATION", "LindqvistBuilding": "LOCATION"}),
    ("locations", "pt confused, says he is at marla petrosyan's house.", {"marla": "LOCATION", "petrosyan": "LOCATION"}),
    ("locations", "pt stable. c/o to harkness if stable overnight.", {"harkness": "WARD"}),
    ("locations", "plan: wean o2, oob, harkness 3\n", {"harkness": "WARD"}),
    ("date", "family meeting 041523\n", {"041523": "DATE"}),
    # a firm date cue keeps a fraction beside a symptom word a date; so does a plain "seen" (texts invented here)
    ("date", "headache since 3/10, seen 3/10 in clinic, HA on 4/10", {"3/10": "DATE", "4/10": "DATE"}),
    ("date", "follow-up 2/7 with cardiology", {"2/7": "DATE"}),
    ("locations", "GOOD REHAB POTENTIAL. TO GOOD SAMARITAN HOSPITAL", {"GOOD": "HOSPITAL", "SAMARITAN": "HOSPITAL"}),
    ("locations", "Discharged to Lake Hospital on Friday.", {"Lake": "HOSPITAL"}),
    ("locations", "Grew up Norco 20 years ago", {"Norco": "CITY"}),  # a number without a dose unit
    ("names", "pt resting. woke once Allen came in at 0300.", {"Allen": "NAME"}),  # no eponym noun after it
]

# (recognizer, text, surfaces that must NOT be found)
NEGATIVE = [
    ("date", "STRENGTH 5/5 BILAT, CPAP 5/5, PS 10/5, PAIN 3/10", ["5/5", "10/5", "3/10"]),
    ("date", "D5 1/2 NS AT 75CC, CRACKLES 1/2 WAY UP, BP 120/80", ["1/2", "120/80"]),
    ("date", "ENZYMES SENT @ 1900, ARRIVE AT 2000 HRS", ["1900", "2000"]),
    ("phone", "TV 500-1000, VT 930-1000", ["500-1000", "930-1000"]),
    ("names", "MD AWARE. HO NOTIFIED. PA LINE DC'D. 2L NP GOOD SATS", ["AWARE", "NOTIFIED", "LINE", "GOOD"]),
    ("names", "MS: SEDATED. PT'S SON AT BEDSIDE.", ["SEDATED", "PT'S", "AT"]),
    ("names", "GIVEN BOLUS, TEMP 99.1, ALINE FLUSHED", ["BOLUS", "TEMP", "ALINE"]),
    ("locations", "CONT MED AS ORDERED, HEART HEALTHY DIET, DSD CDI, CA GLUCONATE", ["CONT", "HEART", "CDI", "DSD"]),
    ("locations", "RECEIVED 40 MG LASIX. TO CHAIR X 2", ["CHAIR"]),
    ("date", "CPAP 5/10/40%, SIMV 700 12/5 and 50% 8/5, AC/600X12/40%", ["5/10/40", "12/5", "8/5", "12/40"]),
    # scores out of ten beside a symptom word and a gestational age's days (texts invented here)
    ("date", "Mild HA 3/10. chest tightness x 2 h, 7/10, radiating. relief to 2/10 @0815. pain of 8/10",
     ["3/10", "7/10", "2/10", "8/10"]),
    ("date", "pain decreased from 8/10 to 4/10 after dilaudid", ["8/10", "4/10"]),
    ("date", 'S: "my chest still hurts" 4/10. states it hurts 6/10 when walking', ["4/10", "6/10"]),
    ("date", "G3P2002 at 34 2/7 wk by 8 wk US; born at 29 4/7 wks; GA 36+5/7", ["2/7", "4/7", "5/7"]),
    ("date", "vent 20/10/40%, GCS 15-10-20, version 14.2.13.5, 17.5.8 cm", ["20/10/40", "15-10-20", "14.2.13",
                                                                            "17.5.8"]),
    ("names", "Pupils equal. Corneal reflex absent to l. unresponsive to voice.", ["l", "unresponsive"]),
    ("names", "NEURO: MS, RESP UNLABORED", ["RESP"]),
    ("names", "Patient Resting comfortably. PATIENT STABLE ON 2L.", ["Resting", "STABLE"]),
    ("names", "Patient ambulating. Carlos Street clinic follow-up in ICU", ["ICU"]),
    ("names", "GIRLFRIEND MAY VISIT. SON WILL CALL. DAUGHTER JUNE 5 VISIT", ["MAY", "WILL", "JUNE"]),
    ("locations", "Tolerated heart health diet. Pt resting.", ["heart"]),
    ("locations", "ENDO: RECIEVD 3 UNITS REG INSULIN", ["RECIEVD"]),
    ("locations", "Pt transfered to commode/chair with assist.", ["commode"]),
    ("locations", "pt stayed at her daughter's house, then the patient's home", ["daughter", "patient"]),
    ("names", "Extensor tendon intact, Allen test normal, cap refill brisk.", ["Allen"]),  # an eponym before its noun
    ("locations", "NUTRITION ASSESSMENT\nReason: MST 3, poor PO intake x 2 wks.", ["MST"]),  # a screening score
    ("locations", "- CONTINUE Norco 5/325 every 6 hours as needed for pain", ["Norco"]),  # a drug before its dose
    # a lone adjective before a facility keyword (texts invented here)
    ("locations", "Expected post-op deficits, good rehab potential. Plan: BID PT", ["good"]),
    ("locations", "GOOD HOSPITAL COURSE, NEW REHAB GOALS SET", ["GOOD"]),
    # health misspelt after a relation cue; a city-spelt word before a chart noun (texts invented here)
    ("names", "Full code. HCP (Heath care proxy on file). Pt has HCP Heath care form", ["Heath", "care"]),
    ("names", "HEALTH CARE PROXY: SON. WIFE IS HCP, HEATH CARE PROXY SIGNED", ["HEATH", "HEALTH", "CARE"]),
    ("locations", "Staying with inlaws, phone numbers in Green chart. Wife involved", ["Green"]),
]


@pytest.mark.parametrize("kind,text,expected", POSITIVE)
def test_recognizer_finds(kind, text, expected):
    got = found(kind, text)
    for surface, category in expected.items():
        assert surface in got, f"{kind} missed {surface!r}; found {got}"
        assert got[surface] == category


@pytest.mark.parametrize("kind,text,absent", NEGATIVE)
def test_recognizer_leaves_lookalikes(kind, text, absent):
    got = found(kind, text)
    for surface in absent:
        assert surface not in got, f"{kind} wrongly found {surface!r}"


def test_name_found_once_is_tagged_everywhere_in_note():
    text = "DR. LOMISHKA AWARE.\nLATER LOMISHKA CAME TO BEDSIDE."
    spans = NameRecognizer().find(text)
    assert [text[s.start:s.end] for s in spans] == ["LOMISHKA", "LOMISHKA"]


def test_presidio_adapter_returns_recognizer_results():
    res = DateRecognizer().analyze("seen 8/18", entities=["DATE"])
    assert len(res) == 1 and res[0].entity_type == "DATE" and (res[0].start, res[0].end) == (5, 9)
    assert DateRecognizer().analyze("seen 8/18", entities=["PHONE"]) == []
