"""Keyword extraction and the PHI gate: canary PHI must never come through the keyword path."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes.synth.engines import SynthRequest, get_engine
from medpriv_desktop.core.notes.synth.keywords import KeywordGate, extract_keywords, tag_phi
from medpriv_desktop.core.notes.synth.methods import prepare_request
from medpriv_desktop.core.notes.synth.terms import find_terms, is_negated
from medpriv_desktop.core.notes.synth.yake_scores import yake_keywords
from medpriv_desktop.core.notes.spans import PhiSpan
from tests.unit.notes_synth._synth_helpers import ListDetector

# Invented canary values: none is a real person, place or number.
CANARY_NOTE = (
    "Nursing note 3/14/2091. Mr. Zebulon Quaxworth, MRN 88812345, seen by Dr. Ottoline Varnavides.\n"
    "Pt admitted to Quaxworth Memorial Hospital with chest pain and shortness of breath. Afebrile, lungs with "
    "crackles at bases. Given lasix and aspirin; foley in place. Daughter Perpetua Quaxworth called from "
    "617-555-0199 and will visit on 3/16. Plan: monitor urine output, fall precautions, family meeting.\n")
CANARY_TOKENS = ("zebulon", "quaxworth", "88812345", "ottoline", "varnavides", "perpetua", "617", "0199", "3/14",
                 "2091", "3/16")


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [t for t in CANARY_TOKENS if t in low]


@pytest.fixture(scope="module")
def deid():
    """The project's real de-identification engine (built once for this module)."""
    import sys

    from medpriv_desktop.core.notes.engine import DeidEngine

    # spaCy imports torch when it can (seconds, unused by the rule engine): hide it while the engine builds.
    blocked = [n for n in ("torch", "tensorflow", "transformers") if n not in sys.modules]
    for n in blocked:
        sys.modules[n] = None
    try:
        return DeidEngine()
    finally:
        for n in blocked:
            if sys.modules.get(n, 0) is None:
                del sys.modules[n]


def test_canary_phi_never_reaches_keywords_or_the_synthetic_note(deid):
    kr = extract_keywords(CANARY_NOTE, deid, max_keywords=30)
    assert kr.keywords, "the note has clinical content; keywords expected"
    assert kr.n_phi_spans >= 4
    assert not _leaks(" ".join(k.text for k in kr.keywords))
    texts = {k.text for k in kr.keywords}
    assert {"chest pain", "lasix", "foley"} <= texts
    for seed in range(3):
        prep = prepare_request(CANARY_NOTE, "keyword", deid, seed=seed)
        note = get_engine("template").generate(prep.request)
        assert not _leaks(note), f"canary leaked with seed {seed}"


def test_gate_alone_stops_canaries_the_detector_misses():
    # A detector that sees nothing: the vocabulary and digit gates must still hold the line.
    kr = extract_keywords(CANARY_NOTE, ListDetector(), max_keywords=40)
    assert not _leaks(" ".join(k.text for k in kr.keywords))
    assert kr.rejected.get("unknown-word", 0) >= 1


def test_gate_rejects_what_the_detector_flags_in_the_keyword_or_its_carrier():
    det = ListDetector({"pleural effusion": "HOSPITAL"})
    gate = KeywordGate(det)
    assert gate.check("pleural effusion") == "phi"
    assert gate.check("chest pain") is None
    assert gate.check("room 12") == "digits"
    assert gate.check("[NAME] pain") == "tag"
    calls = det.calls
    gate.check("chest pain")
    assert det.calls == calls, "decisions are memoised"


def test_name_pattern_rejected_even_when_words_are_common():
    gate = KeywordGate(None)
    gate._lexicons()
    if not gate._first:
        pytest.skip("name lexicons not installed")
    assert gate.check("john smith") in ("name-pattern", "unknown-word")


def test_tags_break_keywords_and_never_appear():
    text = "Patient John seen. Chest pain improved."
    tagged = tag_phi(text, [PhiSpan(8, 12, "PATIENT")])
    assert "[NAME]" in tagged and "John" not in tagged
    kr = extract_keywords(text, ListDetector({"john": "PATIENT"}))
    assert all("[" not in k.text and "john" not in k.text for k in kr.keywords)


def test_detector_required_unless_text_already_deidentified():
    with pytest.raises(ValueError):
        extract_keywords("chest pain", None)
    assert extract_keywords("chest pain today", None, already_deidentified=True).keywords


def test_terms_negation_and_yake_ranking():
    terms = find_terms("No pleural effusion. Small pneumothorax on the right. Denies chest pain.")
    got = {p: k for p, k, _ in terms}
    assert got["no pleural effusion"] == "negated"
    assert got["pneumothorax"] == "finding"
    assert got["no chest pain"] == "negated"
    assert is_negated("no acute ", 9) and not is_negated("there is ", 9)
    text = ("Swan placement was discussed. Swan placement consent signed by mother. The team reviewed swan "
            "placement risks. Patient sedated overnight.")
    top = [k for k, _ in yake_keywords(text, top=3)]
    assert top[0] == "swan placement"


def test_keyword_request_never_carries_source_context():
    with pytest.raises(ValueError):
        SynthRequest("keyword", [], "the source note")


@pytest.mark.parametrize("keyword,reason", [
    ("j smith ordered", "initial"),
    ("u of md", "initial"),
    ("chest pain", None),
    ("bp stable", None),
    ("no pleural effusion", None),
])
def test_gate_drops_initials_and_free_keywords_with_name_or_place_words(keyword, reason):
    assert KeywordGate(None).check(keyword) == reason


def test_gate_drops_free_keywords_holding_a_surname_but_keeps_list_terms():
    gate = KeywordGate(None)
    gate._lexicons()
    if not gate._last:
        pytest.skip("name lexicons not installed")
    surname = next(w for w in ("CARPENTER", "SMITH", "JOHNSON") if w in gate._last)
    assert gate.check(f"{surname.lower()} assisted") == "name-word"
    assert gate.check("lasix") is None
