"""Table tests of the shapes the PHI tagger's word alone may not mask (core/notes/tagger_veto.py).

Each row: a note (invented), the word the tagger marked (first occurrence, or the one after ``[[``), the category
it gave, and whether that rule vetoes it. Rows of both kinds: a veto that is too wide loses PHI."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes import tagger_veto
from medpriv_desktop.core.notes.spans import PhiSpan


def _where(text: str, word: str) -> tuple[str, int, int]:
    if "[[" in text:
        start = text.index("[[")
        text = text.replace("[[", "").replace("]]", "")
        return text, start, start + len(word)
    start = text.index(word)
    return text, start, start + len(word)


def _check(rule, text, word, category, vetoed):
    text, s, e = _where(text, word)
    assert text[s:e] == word
    assert bool(rule(text, s, e, category)) is vetoed


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("Family are moving from Florida. Staying with his brother.", "Florida", "LOCATION", True),
    ("WHEN CHILDREN COME BACK FROM [[N]].C. TO DECIDE", "N", "LOCATION", True),
    ("WHEN CHILDREN COME BACK FROM N.[[C]]. TO DECIDE", "C", "LOCATION", True),
    ("Transferred from Washington yesterday.", "Washington", "LOCATION", False),  # also a city
    ("Pt received from university of maryland hospital.", "maryland", "LOCATION", False),
    ("ADMITTED FROM [[MD]] MEDICAL CENTER", "MD", "LOCATION", False),
    ("Daughter Florida visited.", "Florida", "NAME", False),  # a person: not the state rule's business
    ("Lives in Pellham, Georgia.", "Pellham", "LOCATION", False),
])
def test_state(text, word, cat, vetoed):
    _check(tagger_veto.state, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("Lives with Jonah in a shared apartment near campus.", "campus", "LOCATION", True),
    ("Lives with Jonah in a shared apartment near campus.", "shared", "LOCATION", True),
    ("PT LIVES ON 2ND FLOOR, ELEVATOR IN BUILDING.", "ELEVATOR", "LOCATION", True),
    ("Referred to Coastal Housing Partners for a bed.", "Coastal", "LOCATION", False),  # capitalised, cased note
    ("PT'S SON WOODS CALLED", "WOODS", "NAME", False),  # a surname in an all-caps note
    ("Home backs onto the woods near the creek.", "woods", "LOCATION", True),
    ("home backs onto the woods near the creek.", "woods", "LOCATION", False),  # no capitals: may be a name
    ("my son bubba is coming to take me home", "bubba", "NAME", False),  # rare word: a nickname
    ("spoke with jane ruiz about discharge", "jane", "NAME", False),
    ("Seen by Dr Ng at [[grace]] today.", "grace", "NAME", True),  # lower case in a cased note
    ("Pt from [[boston]] today. Family At bedside.", "boston", "LOCATION", False),  # a city
])
def test_ordinary_words(text, word, cat, vetoed):
    _check(tagger_veto.ordinary_words, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("significant air leak. m.d. aware.", "m.d.", "NAME", True),
    ("SOCIAL-son & dauther visited.", "dauther", "NAME", True),
    ("PT'S DUAGHTER IS HEALTH CARE PROXY.", "DUAGHTER", "NAME", True),
    ("gave senna. pt'sdaughter called", "sdaughter", "NAME", True),
    ("chaplain Br. Anselm visited", "Br", "NAME", True),
    ("spoke with Dautherty about meds", "Dautherty", "NAME", False),  # not close enough to "daughter"
    ("husband Brother visited", "Brother", "NAME", True),
    ("seen by Mothershed today", "Mothershed", "NAME", False),
    ("spoke with Sonia at bedside", "Sonia", "NAME", False),
])
def test_role_word(text, word, cat, vetoed):
    _check(tagger_veto.role_word, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("Lamar P. 52 yo M. PMH: OSA", "M", "NAME", True),
    ("67 y/o F with CHF", "F", "NAME", True),
    ("45M presents with chest pain", "M", "NAME", True),
    ("seen by M. Okafor today", "M", "NAME", False),  # an initial
])
def test_sex_letter(text, word, cat, vetoed):
    _check(tagger_veto.sex_letter, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("VA (Snellen, sc): OD 20/60", "Snellen", "NAME", True),
    ("CrCl ~28 mL/min (Cockcroft-Gault).", "Gault", "NAME", True),
    ("right hip OA, Kellgren-Lawrence grade 4", "Lawrence", "LOCATION", True),
    ("IOP (Goldmann applanation): 18/17", "Goldmann", "NAME", True),
    ("positive Babinski on the left", "Babinski", "NAME", True),
    ("spoke with Lawrence about discharge", "Lawrence", "NAME", False),
    ("Dr. Wells aware of labs", "Wells", "NAME", False),  # a common surname alone: a name
    ("Wells score 5, CTA ordered", "Wells", "NAME", True),
    ("soft tissue in the fossa of Rosenmüller is symmetric", "Rosenmüller", "NAME", True),
    ("no Bochdalek hernia", "Bochdalek", "NAME", True),
    ("status post Glenn operation, patent", "Glenn", "NAME", True),
    ("Glenn called back about the results", "Glenn", "NAME", False),  # a first name with no eponym noun
])
def test_eponym(text, word, cat, vetoed):
    _check(tagger_veto.eponym, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("synovitis of the 2nd and 3rd MCP joints", "2nd", "DATE", True),
    ("pathologic stage (AJCC 8th ed.)", "8th", "DATE", True),
    ("last seen in clinic on the 6th. Requests refill", "6th", "DATE", False),
    ("cant make my appt on the 15th because of school", "15th", "DATE", False),
    ("seen on March 2nd and 3rd", "2nd", "DATE", False),
    ("HR has been in the 90's nsr", "90", "DATE", True),
    ("OS 20/25; pinhole OD 20/40", "25", "DATE", True),
    ("IOP: 18/17 at 0915", "18/17", "DATE", True),
    ("Nurse line 1-800-555-0199 (24/7)", "24/7", "DATE", True),
    ("IV D5 1/2 NS ran at 100/hr", "1/2", "DATE", True),
    ("OVARIAN CA (12/93) S/P DEBULKING", "12/93", "DATE", False),
    ("seen 3/14 for follow-up", "3/14", "DATE", False),
    ("seen 14/3 in clinic", "14/3", "DATE", False),  # D/M
    ("visit 3 (week 12) of the study", "12", "DATE", True),
    ("MI in 92, CABG 81", "81", "DATE", False),  # a two-digit year after a procedure
    ("heparin 2000 u bolus", "2000", "DATE", True),
    ("moved here in 2000 after retiring", "2000", "DATE", False),
    ("synovitis of the 2nd and 3rd MCP joints", "2nd", "NAME", False),  # only DATE spans
    # scores out of ten and gestational ages (texts invented here), read as the date rule reads them
    ("Mild HA 3/10, no vomiting", "3/10", "DATE", True),
    ("chest tightness x 2 h, 7/10, radiating to L arm", "7/10", "DATE", True),
    ("dilaudid given, relief to 3/10 @0815", "3/10", "DATE", True),
    ("G3P2002 at 34 2/7 wk by early US", "2/7", "DATE", True),
    ("headache since 3/10, worse today", "3/10", "DATE", False),  # a firm date cue
    ("seen 3/10 in clinic", "3/10", "DATE", False),
    ("Now weaning on 5/5-.40 will soon extubate", "5", "DATE", True),  # ventilator settings
    ("seen from 5/5-5/7 in clinic", "5", "DATE", False),  # a range of dates
    ("follow-up 2/7 with Dr. X", "2/7", "DATE", False),  # no whole weeks before it
])
def test_not_a_date(text, word, cat, vetoed):
    _check(tagger_veto.not_a_date, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("Daughter notified by phone at 0330 (617-555-0151)", "0330", "PHONE", True),
    ("ARRIVED IN MICU @515PM NEURO: AGITATED", "515PM", "PHONE", True),
    ("sats (88-91) did not improve", "88-91", "PHONE", True),
    ("call 555-0199 with questions", "555-0199", "PHONE", False),
    ("ext 4021 for the unit", "4021", "PHONE", False),
    ("pager 0330 if needed", "0330", "PHONE", False),
    ("Nurse line 1-800-555-0199 (24/7), or message us", "24", "PHONE", True),
])
def test_not_a_phone(text, word, cat, vetoed):
    _check(tagger_veto.not_a_phone, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("GCS 14 (E4V4M6), confused", "E4V4M6", "ID", True),
    ("GCS 8T (E2VTM5)", "E2VTM5", "ID", True),
    ("MRN E4V4M6X2 on file", "E4V4M6X2", "ID", False),
])
def test_gcs_components(text, word, cat, vetoed):
    _check(tagger_veto.gcs_components, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("- CONTINUE Norco 5/325 every 6 hours as needed", "Norco", "LOCATION", True),  # also a city
    ("GAVE ATIVAN 1MG IV FOR AGITATION", "ATIVAN", "NAME", True),
    ("Lasix 40mg iv x1 with good UO", "Lasix", "NAME", True),
    ("Dr. Ryan 40 mg lasix ordered", "Ryan", "NAME", False),  # a title before it: a name
    ("son Mark 2 tabs of tylenol brought from home", "Mark", "NAME", False),  # a relation before it
    ("moved to Norco 5 years ago", "Norco", "LOCATION", False),  # no unit after the number
    ("seen by Ryan at 1300", "Ryan", "NAME", False),
    ("Peter Lang 40 mg", "Peter Lang", "NAME", False),  # two words: not one drug name
])
def test_drug_with_dose(text, word, cat, vetoed):
    _check(tagger_veto.drug_with_dose, text, word, cat, vetoed)


def _span(text, word, cat, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return PhiSpan(start, start + len(word), cat, 0.99, "phi-model")


def test_a_group_goes_only_when_every_span_in_it_is_vetoed():
    text = "Referred from university of maryland hospital; moving from N.C. soon."
    spans = [_span(text, "university", "LOCATION"), _span(text, "maryland", "LOCATION"),
             _span(text, "N", "LOCATION"), _span(text, "C.", "LOCATION")]
    spans[-1] = PhiSpan(spans[-1].start, spans[-1].start + 1, "LOCATION", 0.99, "phi-model")
    kept = [text[s.start:s.end] for s in tagger_veto.keep(text, spans)]
    assert kept == ["university", "maryland"]  # "university" alone would be an ordinary word


def test_an_address_keeps_its_state_with_its_neighbours():
    text = "1400 Harbor Street, Port Aldous, ME 04190."
    spans = [_span(text, "Aldous", "LOCATION"), _span(text, "ME", "LOCATION")]
    assert tagger_veto.keep(text, spans) == spans
    alone = [_span(text, "ME", "LOCATION")]
    assert tagger_veto.keep(text, alone) == []


def test_reason_names_the_rule():
    text = "GCS 14 (E4V4M6)"
    assert tagger_veto.reason(text, 8, 14, "ID") == "gcs_components"
    assert tagger_veto.reason("seen by Zorblewick", 8, 18, "NAME") is None


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("Findings can be seen in Covid-19 pneumonia.", "Covid", "LOCATION", True),
    ("Small Hiatal hernia. Trachea midline.", "Hiatal hernia", "NAME", True),
    ("Small Hiatal hernia. Trachea midline.", "Trachea", "NAME", True),
    ("IMPRESSION: CHOLELITHIASIS WITHOUT CHOLECYSTITIS", "CHOLELITHIASIS", "NAME", True),
    ("Foley draining clear urine", "Foley", "NAME", False),  # a census surname: left to the other rules
    ("seen by Dr. Patella in clinic", "Patella", "NAME", False),  # a surname too
    ("Trachea Hernia visited", "Trachea Hernia", "DATE", False),  # only names and places
    ("Hernia repair with Dr. Okonkwo", "Hernia repair with Dr. Okonkwo", "NAME", False),
])
def test_clinical_term(text, word, cat, vetoed):
    _check(tagger_veto.clinical_term, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("Pt sent back from brookhaven (SNF) with a wound", "SNF", "LOCATION", True),
    ("BCX FROM OSH GROWING GNR", "OSH", "LOCATION", True),
    ("Gen surg consulted; not a candidate", "surg", "NAME", True),
    ("GI (Dr. Rao) recommends a scope", "GI", "NAME", True),
    ("FOLEY IN PLACE, DRAINING WELL", "FOLEY", "NAME", True),  # all capitals, clinical lexicon
    ("Seen by Foley today", "Foley", "NAME", False),  # capitalised in a cased note: a name
    ("Spoke with Mac about discharge", "Mac", "NAME", False),
])
def test_chart_abbreviation(text, word, cat, vetoed):
    _check(tagger_veto.chart_abbreviation, text, word, cat, vetoed)


@pytest.mark.parametrize("text,word,cat,vetoed", [
    ("NEURO: A&O X3, PLEASANT, MAE. RESP: CLEAR", "MAE", "NAME", True),
    ("neuro: pt mae x4, follows commands", "mae", "NAME", True),
    ("Recognizes family. MAE, PERL at 3mm", "PERL", "NAME", True),
    ("MEDICATED WITH TYLENOL. MAE. PEARL. FOLLOWS COMMANDS", "PEARL", "NAME", True),
    ("WIFE MAE AT BEDSIDE", "MAE", "NAME", False),  # after a relation word: a name
    ("spoke with daughter pearl by phone", "pearl", "NAME", False),
    ("MS. PEARL CALLED BACK", "PEARL", "NAME", False),  # after a title
    ("Wife Mae at bedside, asking about discharge", "Mae", "NAME", False),  # capitalised: a name
    ("Pearl visited today", "Pearl", "NAME", False),
    ("MAE SECTOR OFFICE", "MAE", "LOCATION", False),  # names only
])
def test_neuro_shorthand(text, word, cat, vetoed):
    _check(tagger_veto.neuro_shorthand, text, word, cat, vetoed)


def test_the_m_of_am_is_not_a_name():
    _check(tagger_veto.sex_letter, "Will discuss with team in the a.[[m.]] round", "m.", "NAME", True)
    _check(tagger_veto.sex_letter, "52 yo [[M.]] PMH: OSA", "M.", "NAME", True)
    _check(tagger_veto.meridiem, "Will D/W team in the [[a]].m. round", "a", "NAME", True)
    _check(tagger_veto.meridiem, "seen at 9 [[p]]m by the team", "p", "NAME", True)
    _check(tagger_veto.meridiem, "[[A]]. MARTIN RN", "A", "NAME", False)  # an initial
    _check(tagger_veto.meridiem, "team in the [[a.m]]. |", "a.m", "NAME", True)


# Shapes read out of fold on the tuning part (cross-fit taggers, 2026-12-06); the texts here are invented.
@pytest.mark.parametrize("rule,text,word,cat,vetoed", [
    ("quantity", "wearing four fentanyl patches (100mcgs/ea.) and febrile", "100mcgs", "LOCATION", True),
    ("quantity", "lasix 40mg given", "40mg", "NAME", True),
    ("quantity", "zip 02114 on file", "02114", "LOCATION", False),
    ("st_segment_or_rhythm", "EKG W NEW Q'S V1-5 WO ACUTE ST CHGS", "ACUTE ST", "LOCATION", True),
    ("st_segment_or_rhythm", "HR remains in ST in 110's", "ST", "LOCATION", True),
    ("st_segment_or_rhythm", "converted initially to ST with lots of ectopy", "ST", "LOCATION", True),
    ("st_segment_or_rhythm", "NSR/ST, NO ECTOPY", "ST", "LOCATION", True),
    ("st_segment_or_rhythm", "lives at 12 Elm ST in town", "ST", "LOCATION", False),  # a street
    ("st_segment_or_rhythm", "admitted to ST MARY'S in 2019", "ST", "LOCATION", False),  # a saint
    ("misspelt_health_care", "Full Code- Heath Care Proxy - daughter", "Heath", "LOCATION", True),
    ("misspelt_health_care", "EXTENSIVE BACKGROUND IN HEATH CARE", "HEATH", "LOCATION", True),
    ("misspelt_health_care", "son Heath called re: care plan", "Heath", "NAME", False),
    ("country", "DAUGHTER HERE FROM ENGLAND-EXTENSIVE BACKGROUND", "ENGLAND", "LOCATION", True),
    ("country", "moved from Haiti in 2010", "Haiti", "LOCATION", True),
    ("country", "grew up in New Zealand", "New Zealand", "LOCATION", True),
    ("country", "call from Jordan today", "Jordan", "LOCATION", False),  # also a first name
    ("country", "seen by Dr. England today", "England", "LOCATION", False),  # a title before it
    ("country", "moved from Haiti in 2010", "Haiti", "NAME", False),  # only places
])
def test_out_of_fold_shapes(rule, text, word, cat, vetoed):
    _check(getattr(tagger_veto, rule), text, word, cat, vetoed)


def test_new_clinical_words_veto_lower_case_words():
    for word in ("thoracentesis", "translator", "fx", "tonoc"):
        text = f"pt seen, {word} noted"
        assert tagger_veto.reason(text, text.index(word), text.index(word) + len(word), "NAME") == "clinical_word"


# Shapes of the second out-of-fold reading (2026-12-06, later): a SOAP or DAR heading letter, a contraction, a kind
# of school, a body fluid's colour, a fluid balance. The texts are invented here.
@pytest.mark.parametrize("rule,text,word,cat,vetoed", [
    ("note_heading", "in large amts.  |   | A- (-) MI CHF  |   | P- Plan is to wean", "A", "NAME", True),
    ("note_heading", "in large amts.  |   | A- (-) MI CHF  |   | P- Plan is to wean", "P", "NAME", True),
    ("note_heading", 'arm."   |     | o-ms: a/o x3. obese', "o", "NAME", True),
    ("note_heading", "S: pain 4/10\nO: afebrile, resting", "O", "NAME", True),
    ("note_heading", "seen by A. Martin RN", "A", "NAME", False),  # an initial inside a line
    ("note_heading", "J- Kowalski aware", "J", "NAME", False),  # no heading letter
    ("note_heading", "in large amts.  |   | A- (-) MI CHF", "A", "LOCATION", False),
    ("contraction", "follow ms | con't same |", "con", "NAME", True),
    ("contraction", "cont'd on lasix gtt", "cont", "NAME", True),
    ("contraction", "pt didn't sleep", "didn", "NAME", True),
    ("contraction", "seen by O'Brien today", "O'Brien", "NAME", False),
    ("contraction", "Smith's wife called", "Smith", "NAME", False),
    ("kind_of_school", "JUST FINISHED NURSING SCHOOL; SISTER IS LIVING", "SCHOOL", "LOCATION", True),
    ("kind_of_school", "JUST FINISHED NURSING SCHOOL; SISTER IS LIVING", "NURSING SCHOOL", "LOCATION", True),
    ("kind_of_school", "graduated from high school in 1990", "school", "LOCATION", True),
    ("kind_of_school", "attends Lincoln High School", "School", "LOCATION", False),  # a city before the kind
    ("kind_of_school", "attends Lincoln High School", "High School", "LOCATION", False),
    ("kind_of_school", "SMITHFIELD NURSING SCHOOL GRAD", "SCHOOL", "LOCATION", False),  # a rare word before it
    ("kind_of_school", "went to Boston College", "College", "LOCATION", False),
    ("kind_of_school", "Lincoln High School", "Lincoln High School", "LOCATION", False),
    ("fluid_colour", "urine went from amber and aproximately 40 cc/hr to light yellow", "amber", "LOCATION", True),
    ("fluid_colour", "Suctioned for Yellow sputum", "Yellow", "NAME", True),
    ("fluid_colour", "Dr. Brown aware of low urine output", "Brown", "NAME", False),  # after a title
    ("fluid_colour", "Amber visited today", "Amber", "NAME", False),  # no fluid near
    ("fluid_balance", "IVF remains @ 150cc/hr. FB for LOS 12883, since 0000", "12883", "LOCATION", True),
    ("fluid_balance", "I/O +2400 since MN", "+2400", "LOCATION", True),
    ("fluid_balance", "IVF remains @ 150cc/hr. FB for LOS 12883, since 0000", "LOS 12883", "LOCATION", True),
    ("fluid_balance", "lives in Lowell MA 01852", "MA 01852", "LOCATION", False),
    ("fluid_balance", "lives in Lowell MA 01852", "01852", "LOCATION", False),
    ("fluid_balance", "MRN 12883 on file", "12883", "ID", False),
])
def test_second_out_of_fold_shapes(rule, text, word, cat, vetoed):
    _check(getattr(tagger_veto, rule), text, word, cat, vetoed)


def test_a_semicolon_ends_a_group():
    """A vetoed word before "; NAME" goes alone: a semicolon stands inside no name or address."""
    text = "JUST FINISHED NURSING SCHOOL; JOHN STATES HIS SISTER"
    spans = [_span(text, "SCHOOL", "LOCATION"), _span(text, "JOHN", "NAME")]
    assert [text[s.start:s.end] for s in tagger_veto.keep(text, spans)] == ["JOHN"]
    joined = "JUST FINISHED NURSING SCHOOL, JOHN STATES"  # a comma still joins (an address: "Port Aldous, ME")
    spans = [_span(joined, "SCHOOL", "LOCATION"), _span(joined, "JOHN", "NAME")]
    assert len(tagger_veto.keep(joined, spans)) == 2
