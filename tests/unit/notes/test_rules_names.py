"""Table tests of each name rule alone (input text -> the tokens it marks), and of the word-names in the lexicon.

Texts are invented here. Each row runs one rule function on one text; ``found`` maps surface -> category.
"""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers import name_rules as nr
from medpriv_desktop.core.notes.recognizers import names as nm
from medpriv_desktop.core.notes.recognizers.name_words import name_lexicon
from medpriv_desktop.core.notes.recognizers.rule_kit import Hits, NoteView, rule_hits


def found(rule, text: str) -> dict[str, str]:
    """Surface -> category of the tokens one rule marks in ``text``."""
    hits = rule_hits(rule, text, name_lexicon())
    note = NoteView.of(text, name_lexicon())
    return {note.toks[i].raw: c for i, (c, _s) in hits.items()}


# (rule, text, {surface: category} it must mark, surfaces it must not mark)
TABLE = [
    (nr.after_title, "HO SPOKE WITH DR. TOSCANO ABOUT THIS", {"TOSCANO": "CLINICIAN"}, ["ABOUT"]),
    (nr.after_title, "Dr. Rakusin and Toolis aware.", {"Rakusin": "CLINICIAN", "Toolis": "CLINICIAN"}, []),
    (nr.after_title, "Plan discussed with Dr Will Kowalczyk (attending).", {"Will": "CLINICIAN"}, []),
    (nr.after_title, "MD AWARE. HO NOTIFIED. PA LINE DC'D. 2L NP GOOD SATS", {}, ["AWARE", "NOTIFIED", "LINE", "GOOD"]),
    (nr.after_title, "NP KARGAS AWARE OF K 3.1", {"KARGAS": "CLINICIAN"}, ["AWARE"]),
    (nr.after_title, "Dr. May saw the patient.", {"May": "CLINICIAN"}, ["saw"]),
    (nr.after_title, "DR MAY AWARE", {}, ["MAY"]),
    (nr.after_title, "Called the MD. May need more lasix.", {}, ["May"]),  # a sentence starts
    (nr.after_title, "Nurse Will aware of the plan.", {"Will": "CLINICIAN"}, []),
    (nr.after_patient_cue, "Patient Pieter Tanaka (MRN 123), admitted today.",
     {"Pieter": "PATIENT", "Tanaka": "PATIENT"}, []),
    (nr.after_patient_cue, "Patient Resting comfortably. PATIENT STABLE ON 2L.", {}, ["Resting", "STABLE"]),
    (nr.after_patient_cue, "PATIENT PIETER TANAKA ADMITTED", {}, ["PIETER"]),  # capitals say nothing here
    (nr.after_honorific, "MRS. GAUDREAU RESTING", {"GAUDREAU": "PATIENT"}, ["RESTING"]),
    (nr.after_honorific, "MS: SEDATED.", {}, ["SEDATED"]),
    (nr.after_honorific, "Mrs. May resting after lunch.", {"May": "PATIENT"}, []),
    (nr.after_relation, "SOCIAL: SPOKE WITH DAUGHTER PHILOMENA ON PHONE", {"PHILOMENA": "RELATIVE"}, []),
    (nr.after_relation, "SOCIAL: SISTER, GIRLFRIEND EVE IN ALL DAY", {"EVE": "RELATIVE"}, []),
    (nr.after_relation, "GIRLFRIEND MAY VISIT. SON WILL CALL. DAUGHTER JUNE 5 VISIT", {}, ["MAY", "WILL", "JUNE"]),
    (nr.after_relation, "daughter May called this am.", {"May": "RELATIVE"}, []),
    (nr.after_relation, "daughter may call later.", {}, ["may"]),
    (nr.after_relation, "Daughter May 5 visit planned.", {}, ["May"]),  # a date
    (nr.after_relation, "SON BILL CALLED", {"BILL": "RELATIVE"}, []),
    (nr.after_relation, "HCP (Heath care proxy on file)", {}, ["Heath", "care"]),  # health misspelt
    (nr.after_relation, "son Heath Carey called", {"Heath": "RELATIVE"}, []),
    (nr.after_verbal_cue, "Team has spoken at length with Oscar Brandvold about goals.",
     {"Oscar": "NAME", "Brandvold": "NAME"}, []),
    (nr.after_verbal_cue, "spoke with family about plan", {}, ["family"]),
    (nr.before_trailing_credential, "per note.\n\nanita morris rn\n", {"anita": "CLINICIAN", "morris": "CLINICIAN"},
     ["note"]),
    (nr.before_trailing_credential, "B. KARGAS PA AWARE", {"B": "CLINICIAN", "KARGAS": "CLINICIAN"}, []),
    (nr.before_trailing_credential, "REPORT GIVEN TO RN", {}, ["GIVEN", "TO"]),
    (nr.initial_with_period, "REPEAT AT 1000. N. GRANDONE AWARE.", {"N": "NAME", "GRANDONE": "NAME"}, []),
    (nr.initial_with_period, "Pupils equal. Corneal reflex absent to l. unresponsive to voice.", {},
     ["l", "unresponsive"]),
    (nr.bare_initial_before_verb, "LASIX GIVEN. K JOHNSON ORDERED REPEAT LYTES.", {"K": "NAME", "JOHNSON": "NAME"}, []),
    (nr.bare_initial_before_verb, "K 3.9 GIVEN. K REPLETED", {}, ["K"]),
    (nr.name_before_relation, "URSLA MORETTI (DAUGHTER) CALLED", {"URSLA": "RELATIVE", "MORETTI": "RELATIVE"}, []),
    (nr.first_and_surname, "MAUREEN KOWALCZYK VISITED", {"MAUREEN": "NAME", "KOWALCZYK": "NAME"}, ["VISITED"]),
    (nr.first_and_surname, "pt will mark rose on the chart", {}, ["mark", "rose"]),  # ordinary words, no rare one
]


@pytest.mark.parametrize("rule,text,expected,absent", TABLE, ids=[f"{r[0].__name__}-{i}" for i, r in enumerate(TABLE)])
def test_name_rule(rule, text, expected, absent):
    got = found(rule, text)
    for surface, category in expected.items():
        assert got.get(surface) == category, f"{rule.__name__} on {text!r}: {got}"
    for surface in absent:
        assert surface not in got, f"{rule.__name__} wrongly marked {surface!r}"


# (pass that reads earlier hits, text, hits given to it, expected {surface: category})
HIT_TABLE = [
    (nm.capitalised_first_name, "pt slept well. woke once Natalie came in at 0300.", {}, {"Natalie": "NAME"}),
    (nm.capitalised_first_name, "Pt slept. Natalie came in at 0300.", {}, {}),  # starts a sentence
    (nm.surname_after_first_name, "Plan made with Carlos Kowalski and the team.", {"Carlos": ("RELATIVE", 0.8)},
     {"Carlos": "RELATIVE", "Kowalski": "RELATIVE"}),
    (nm.repeated_strong_names, "DR. LOMISHKA AWARE.\nLATER LOMISHKA CAME.", {"LOMISHKA": ("CLINICIAN", 0.9)},
     {"LOMISHKA": "CLINICIAN"}),
]


@pytest.mark.parametrize("rule,text,given,expected", HIT_TABLE)
def test_name_pass_reading_hits(rule, text, given, expected):
    note = NoteView.of(text, name_lexicon())
    first = {s: i for i, t in reversed(list(enumerate(note.toks))) for s in (t.raw,)}
    hits = Hits({first[s]: v for s, v in given.items()})
    marks = rule(note, hits)
    hits.apply(marks)
    got = {note.toks[i].raw: c for i, (c, _s) in hits.items()}
    assert got == expected
    if rule is nm.repeated_strong_names:
        assert [m.idx for m in marks] == [(len(note.toks) - 3,)]  # the second LOMISHKA only


def test_the_first_of_equal_scores_wins():
    """The verb cue and the relation in parentheses both give 0.7, as NAME and as RELATIVE: the cue rules come first."""
    text = "talked with Oscar Brandvold (son) today"
    assert found(nr.name_before_relation, text) == {"Oscar": "RELATIVE", "Brandvold": "RELATIVE"}
    spans = {text[s.start:s.end]: (s.category, s.score) for s in nm.find_names(text)}
    assert spans == {"Oscar": ("NAME", 0.7), "Brandvold": ("NAME", 0.7)}


def test_word_names_are_explicit_in_the_lexicon():
    assert {"MAY", "WILL"} <= lx.CASE_GATED_NAMES
    assert {"EVE", "JUNE"} <= lx.NOUN_FIRST_NAMES
    # site deny lists: entries of ordinary words match only as written, rare names in any case
    for entry, exact in [("May", True), ("Bill", True), ("Will", True), ("Mark", True), ("Rose", True), ("Hope", True),
                         ("Grace", True), ("Okonkwo", False), ("Grace Okonkwo", False), ("Bill Will", True)]:
        assert lx.exact_case_entry(entry) is exact, entry


@pytest.mark.parametrize("text,surface,tagged", [
    ("pt may go home tomorrow if stable.", "may", False),
    ("Pt may go home. Daughter will call.", "may", False),
    ("daughter May called, updated on plan.", "May", True),
    ("DAUGHTER MAY CALL TONIGHT.", "MAY", False),  # capitals say nothing in an all-caps note
    ("Hope to extubate today. Spoke with daughter Hope.", "Hope", True),
    ("Wife Grace at bedside; grace period for the bill ends soon.", "Grace", True),
    ("Wife at bedside; grace period for the bill ends soon.", "grace", False),
    ("Wife at bedside; grace period for the bill ends soon.", "bill", False),
])
def test_names_that_are_also_words(text, surface, tagged):
    spans = {text[s.start:s.end] for s in nm.find_names(text)}
    assert (surface in spans) is tagged, spans


def test_name_recognizer_is_a_thin_adapter():
    rec = nm.NameRecognizer()
    text = "SON BILL CALLED. DR TOSCANO AWARE."
    assert rec.find(text) == nm.find_names(text)
    res = rec.analyze(text, entities=["CLINICIAN"])
    assert [(text[r.start:r.end], r.entity_type) for r in res] == [("TOSCANO", "CLINICIAN")]
