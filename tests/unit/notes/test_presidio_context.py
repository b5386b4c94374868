"""Presidio's context machinery does real work for the built-in recognizers (issue 20 item 6).

Weak candidates (a bare 5-6 digit number, a code of letters and digits, a phone number with spaces inside its groups,
an extension, a short pager number) score 0.05; Presidio's lemma context enhancer lifts one to at least 0.4 when one
of its recognizer's context words is among the five words before it, and the engine keeps only what reaches 0.4.
Everything here is invented text.
"""

from __future__ import annotations

import pytest
from spacy.lang.en.stop_words import STOP_WORDS

from medpriv_desktop.core.notes.engine import CONTEXT_FLOOR, DeidEngine, EngineConfig
from medpriv_desktop.core.notes.recognizers import default_recognizers
from medpriv_desktop.core.notes.recognizers.base import WEAK_BELOW, WEAK_SCORE


@pytest.fixture(scope="module")
def engine() -> DeidEngine:
    return DeidEngine(EngineConfig(use_model=False, site_recognizers=False))


def _found(engine: DeidEngine, text: str) -> dict[str, str]:
    return {text[s.start:s.end]: s.category for s in engine.analyze(text)}


CASES = [
    # (note, candidate, kept)
    ("MRN for this admission: 482913.", "482913", True),
    ("Medical record on file, see 482913", "482913", True),
    ("Seen 482913 today.", "482913", False),
    ("chart AB-48213 noted", "AB-48213", True),
    ("Charted AB-48213 noted", "AB-48213", False),  # whole words only
    ("chart reviewed, vitals stable, pain controlled, plan unchanged; AB-48213", "AB-48213", False),  # > 5 words
    ("reach daughter (phone on file) at 617- 555- 0199", "617- 555- 0199", True),
    ("labs 617- 555- 0199 pending", "617- 555- 0199", False),
    ("Reach wife at work x2231", "x2231", True),
    ("given 2 x 500 mg", "x 500", False),
    ("insurance card copied, 55012 on it", "55012", True),
    ("wbc 12.5 plt 250000 stable", "250000", False),
    ("badge # KP-30917 on file", "KP-30917", True),  # codes of letters and digits
    ("device SN RNB217446H.", "RNB217446H", True),
    ("auth # PA-2021-55183 given", "PA-2021-55183", True),
    ("seen 2021-55183 again", "2021-55183", False),
    ("RRT pgr 4417 aware", "4417", True),  # pager numbers (recognizers/pager.py)
    ("call pager 2231.", "2231", True),
    ("pager: gave 1000 mg", "1000", False),  # a dose
    ("paged MD at 1415", "1415", False),  # "paged" is not a pager context word: 1415 is a time
    ("paged dr x (pgr 4417) at 0300 re: k", "0300", False),  # a clock time after "at", though "pgr" is near
    ("pgr 4417 at 0300", "4417", True),
    ("reach him on pager at 4417", "4417", True),  # 44:17 is no clock time
    ("daughter called, marguerite (555 - 0166)", "555 - 0166", True),
    ("range 555 - 0166", "555 - 0166", False),
]


@pytest.mark.parametrize("text,candidate,kept", CASES)
def test_a_context_word_decides_a_weak_candidate(engine, text, candidate, kept):
    assert (candidate in _found(engine, text)) is kept


def test_without_context_the_weak_candidates_are_not_found_by_the_rules_alone(engine):
    """The candidates above are not something the recognizers' own cue rules already catch."""
    for text, candidate, kept in CASES:
        if kept:
            assert all(text[s.start:s.end] != candidate for r in engine.recognizers for s in r.find(text))


def test_the_enhancer_lifts_scores_the_presidio_way(engine):
    """Straight from Presidio's analyzer: the weak score without a context word, the floor with one."""
    def score(text, entity):
        res = engine.analyzer.analyze(text=text, language="en", entities=[entity], score_threshold=0.0)
        return max(r.score for r in res)

    assert score("Seen 482913 today, record updated.", "ID") == pytest.approx(WEAK_SCORE)  # only words before count
    assert score("MRN for this admission: 482913.", "ID") == pytest.approx(CONTEXT_FLOOR)
    assert score("labs 617- 555- 0199, phone later", "PHONE") == pytest.approx(WEAK_SCORE)
    assert score("phone on file: 617- 555- 0199", "PHONE") == pytest.approx(CONTEXT_FLOOR)


def test_results_of_the_cue_rules_keep_their_scores(engine):
    """A number the phone rules decided (0.9) is not boosted by a nearby context word: the rules' scores, and with
    them which category wins an overlap, stay what the recognizers said."""
    res = engine.analyzer.analyze(text="home phone 617-555-0199", language="en", entities=["PHONE"],
                                  score_threshold=0.0)
    assert [round(r.score, 2) for r in res] == [0.9]


def test_notes_without_an_open_candidate_are_not_tokenised(engine, monkeypatch):
    calls: list[int] = []
    real = engine.analyzer.nlp_engine.process_text
    monkeypatch.setattr(engine.analyzer.nlp_engine, "process_text", lambda t, lang: calls.append(1) or real(t, lang))
    engine.analyze("Dr. Smith saw the patient on 3/4, home phone 617-555-0199, MRN 482913.")
    assert calls == []  # every result was decided by a cue rule
    engine.analyze("Seen 482913 today.")
    assert calls == []  # no context word anywhere in the note: the candidate is not even made
    engine.analyze("Seen 482913 today, record updated.")
    assert calls == [1]


def test_tokenising_every_note_gives_the_same_spans(engine):
    every = DeidEngine(EngineConfig(use_model=False, site_recognizers=False, spacy_tokens=True))
    for text, _candidate, _kept in CASES:
        assert engine.analyze(text) == every.analyze(text)


def test_context_words_are_ones_presidio_reads():
    """Presidio skips stop words and punctuation around a match and compares lower-case whole words."""
    with_context = [r for r in default_recognizers() if r.context]
    assert {r.name for r in with_context} >= {"ids", "phone", "pager"}
    for r in with_context:
        for word in r.context:
            assert word == word.lower() and word.isalnum() and word not in STOP_WORDS, (r.name, word)


def test_weak_candidates_score_below_the_floor():
    for r in default_recognizers():
        for text, _candidate, _kept in CASES:
            assert all(s.score < WEAK_BELOW for s in r.find_weak(text))
