"""Table tests of each location rule alone (input text -> the tokens or spans it marks). Texts are invented here."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes.recognizers import location_rules as lr
from medpriv_desktop.core.notes.recognizers import locations as lc
from medpriv_desktop.core.notes.recognizers.location_words import place_lexicon
from medpriv_desktop.core.notes.recognizers.rule_kit import Hits, NoteView, rule_hits


def found(rule, text: str) -> dict[str, str]:
    """Surface -> category of the tokens one rule marks in ``text``."""
    note = NoteView.of(text, place_lexicon())
    return {note.toks[i].raw: c for i, (c, _s) in rule_hits(rule, text, place_lexicon()).items()}


# (rule, text, {surface: category} it must mark, surfaces it must not mark)
TABLE = [
    (lr.facility_before_keyword, "PT ADMITTED TO FREDERICK MEMORIAL FOR ARREST",
     {"FREDERICK": "HOSPITAL", "MEMORIAL": "HOSPITAL"}, ["ADMITTED", "TO"]),
    (lr.facility_before_keyword, "transferred from reisterstown hospital", {"reisterstown": "HOSPITAL"}, ["hospital"]),
    (lr.facility_before_keyword, "TRANSFERRED FROM UNIVERSITY OF MD MEDICAL CENTER",
     {"UNIVERSITY": "HOSPITAL", "OF": "HOSPITAL", "MD": "HOSPITAL"}, ["MEDICAL", "CENTER", "FROM"]),
    (lr.facility_before_keyword, "Pt accepted in transfer from Brightwater Medical Center today.",
     {"Brightwater": "HOSPITAL"}, ["from"]),
    (lr.facility_before_keyword, "CONT MED AS ORDERED, HEART HEALTHY DIET", {}, ["CONT", "HEART"]),
    (lr.facility_before_keyword, "Tolerated heart health diet.", {}, ["heart"]),
    (lr.hospital_abbreviation, "transferred to GH, then MGH", {"GH": "HOSPITAL", "MGH": "HOSPITAL"}, []),
    (lr.hospital_abbreviation, "records from mgh pending", {}, ["mgh"]),
    (lr.ward_after_cue, "PLAN: TRANSFER TO QUARTERMAIN 2 WHEN BED AVAILABLE", {"QUARTERMAIN": "WARD"}, []),
    (lr.ward_after_cue, "RECEIVED 40 MG LASIX. TO CHAIR X 2", {}, ["CHAIR"]),
    (lr.ward_after_cue, "ENDO: RECIEVD 3 UNITS REG INSULIN", {}, ["RECIEVD"]),
    (lr.ward_after_transfer, "pt stable. c/o to harkness if stable overnight.", {"harkness": "WARD"}, []),
    (lr.ward_after_transfer, "Pt transfered to commode/chair with assist.", {}, ["commode"]),
    (lr.ward_closing_line, "plan: wean o2, oob, harkness 3\n", {"harkness": "WARD"}, []),
    (lr.ward_closing_line, "plan: wean o2, oob, harkness 3 days\n", {}, ["harkness"]),
    (lr.building, 'He says he is at the Lindqvist Building.', {"Lindqvist": "LOCATION"}, []),
    (lr.building, "walked down the main hall", {}, ["main"]),
    (lr.city_after_cue, "SON LIVES IN PIKESVILLE", {"PIKESVILLE": "CITY"}, []),
    (lr.city_after_cue, "pt is from Riverton originally", {"Riverton": "CITY"}, []),
    (lr.city_after_cue, "back in bed, going home", {}, ["bed", "home"]),
    (lr.city_after_cue, "phone numbers in Green chart. Moved from Green Bay", {"Green": "CITY"}, ["chart"]),
    (lr.city_after_cue, "phone numbers in Green chart.", {}, ["Green"]),
    (lr.city_before_state, "lives at 42 Elm Street, Boston, MA 02114", {"Boston": "CITY"}, ["Street"]),
]


@pytest.mark.parametrize("rule,text,expected,absent", TABLE, ids=[f"{r[0].__name__}-{i}" for i, r in enumerate(TABLE)])
def test_location_rule(rule, text, expected, absent):
    got = found(rule, text)
    for surface, category in expected.items():
        assert got.get(surface) == category, f"{rule.__name__} on {text!r}: {got}"
    for surface in absent:
        assert surface not in got, f"{rule.__name__} wrongly marked {surface!r}"


def test_keyword_abbreviation_goes_to_one_rule_only():
    """VAMC is a keyword and an abbreviation: after a name it ends the facility, alone it is the facility."""
    assert found(lr.facility_before_keyword, "SENT TO BRIGHTWATER VAMC") == {"BRIGHTWATER": "HOSPITAL"}
    assert found(lr.hospital_abbreviation, "SENT TO BRIGHTWATER VAMC") == {}
    assert found(lr.hospital_abbreviation, "VAMC CALLED") == {"VAMC": "HOSPITAL"}


# (pass that reads earlier hits, text, hits given to it by surface, expected {surface: category})
HIT_TABLE = [
    (lc.coordinated_facility, "BALTIMORE REHAB AND KIMBROUGH", {"BALTIMORE": ("HOSPITAL", 0.8)},
     {"BALTIMORE": "HOSPITAL", "KIMBROUGH": "HOSPITAL"}),
    (lc.coordinated_facility, "WALKING REHAB AND PT", {}, {}),
    (lc.hospital_phrase, "f/u at Johns Hopkins next week", {}, {"Johns": "HOSPITAL", "Hopkins": "HOSPITAL"}),
    (lc.bare_city, "family drove up from the city, then Pikesville", {}, {"Pikesville": "CITY"}),
    (lc.repeated_places, "TO QUARTERMAIN 2. QUARTERMAIN BUSY", {"QUARTERMAIN": ("WARD", 0.75)},
     {"QUARTERMAIN": "WARD"}),
]


@pytest.mark.parametrize("rule,text,given,expected", HIT_TABLE)
def test_location_pass_reading_hits(rule, text, given, expected):
    note = NoteView.of(text, place_lexicon())
    first = {t.raw: i for i, t in reversed(list(enumerate(note.toks)))}
    hits = Hits({first[s]: v for s, v in given.items()})
    hits.apply(rule(note, hits))
    assert {note.toks[i].raw: c for i, (c, _s) in hits.items()} == expected


@pytest.mark.parametrize("text,expected", [
    ("lives at 42 Elm Street, Boston, MA 02114", {"42 Elm Street": "STREET", "02114": "ZIP"}),
    ('then ("LindqvistBuilding").', {"LindqvistBuilding": "LOCATION"}),
    ("pt confused, says he is at marla petrosyan's house.", {"marla": "LOCATION", "petrosyan": "LOCATION"}),
    ("pt stayed at her daughter's house, then the patient's home", {}),
])
def test_pattern_spans(text, expected):
    spans = lc.pattern_spans(NoteView.of(text, place_lexicon()))
    assert {text[s.start:s.end]: s.category for s in spans} == expected


def test_location_recognizer_is_a_thin_adapter():
    rec = lc.LocationRecognizer()
    text = "SON LIVES IN PIKESVILLE. TRANSFER TO QUARTERMAIN 2"
    assert rec.find(text) == lc.find_locations(text)
    assert [r.entity_type for r in rec.analyze(text, entities=["WARD"])] == ["WARD"]
