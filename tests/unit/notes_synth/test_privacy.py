"""The privacy assessment must detect planted leaks, per category, and count co-occurrence and 8-gram overlap."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes.synth.privacy import (
    PhiValue,
    assess_note,
    group_values,
    ngram_overlap,
    occurs,
    summarize,
)
from tests.unit.notes_synth._synth_helpers import ListDetector

SOURCE = ("Seen by john bowman on 8/18/2091. Daughter Carol called from 201/324/1423. Transferred from "
          "Holy Cross Hospital in 2090. Pt resting comfortably, vital signs stable overnight without events.")


def _spans(text: str, items: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    out = []
    for phrase, cat in items:
        i = text.index(phrase)
        out.append((i, i + len(phrase), cat))
    return out


SPANS = _spans(SOURCE, [("john", "CLINICIAN"), ("bowman", "CLINICIAN"), ("8/18/2091", "DATE"), ("Carol", "RELATIVE"),
                        ("201/324/1423", "PHONE"), ("Holy Cross Hospital", "LOCATION"), ("2090", "YEAR")])


def test_group_values_joins_first_and_last_name():
    vals = group_values(SOURCE, SPANS)
    assert PhiValue("CLINICIAN", "john bowman") in vals
    assert PhiValue("RELATIVE", "Carol") in vals


@pytest.mark.parametrize("value,synthetic,expected", [
    (PhiValue("CLINICIAN", "john bowman"), "Discussed with JOHN  BOWMAN today.", True),
    (PhiValue("CLINICIAN", "john bowman"), "Discussed with John today; Bowman later.", False),
    (PhiValue("DATE", "8/18/2091"), "Follow-up on Aug 18th.", True),
    (PhiValue("DATE", "8/18/2091"), "Follow-up on 18 August 2091.", True),
    (PhiValue("DATE", "8/18/2091"), "Follow-up 8/18/2090.", False),
    (PhiValue("DATE", "8/18/2091"), "Follow-up 08-18.", True),
    (PhiValue("DATE", "8/18/2091"), "Dose 8/19.", False),
    (PhiValue("YEAR", "2090"), "Surgery in 2090.", True),
    (PhiValue("YEAR", "2090"), "Surgery in 20901.", False),
    (PhiValue("PHONE", "201/324/1423"), "Call (201) 324-1423.", True),
    (PhiValue("PHONE", "201/324/1423"), "Call 201 324 9999.", False),
    (PhiValue("LOCATION", "Holy Cross Hospital"), "from holy cross hospital.", True),
    (PhiValue("LOCATION", "Holy Cross Hospital"), "a holy crossing hospital", False),
])
def test_occurrence_rules(value, synthetic, expected):
    assert occurs(value, synthetic) is expected


def test_planted_leak_is_detected_per_category_with_cooccurrence():
    vals = group_values(SOURCE, SPANS)
    clean = "NURSING NOTE\nASSESSMENT: chest pain and fever. PLAN: monitor."
    planted = "Dr JOHN BOWMAN saw the patient on Aug 18 at Holy Cross Hospital; family at (201) 324-1423."
    a_clean = assess_note(SOURCE, vals, clean)
    a_leak = assess_note(SOURCE, vals, planted, ListDetector({"john bowman": "CLINICIAN"}))
    assert not any(a_clean.leaked.values())
    assert a_leak.leaked == {"NAME": 1, "DATE": 1, "LOCATION": 1, "PHONE": 1}
    assert a_leak.detector_spans == {"NAME": 1}
    s = summarize([a_clean, a_leak])
    assert s["categories"]["NAME"]["rate"] == pytest.approx(0.5)
    assert s["categories"]["PHONE"]["notes_leaking"] == 1
    assert s["cooccurrence"] == {"2": 0, "3": 0, "4": 1, "5": 0}
    assert s["cooccurrence_combinations"] == {"DATE+LOCATION+NAME+PHONE": 1}
    assert s["any_leak_rate"] == pytest.approx(0.5)
    assert s["categories"]["NAME"]["hipaa"].startswith("(A)")
    assert s["detector_rate"]["NAME"] == pytest.approx(0.5)


def test_single_word_names_are_reported_apart():
    vals = group_values(SOURCE, SPANS)
    a = assess_note(SOURCE, vals, "carol visited")
    assert a.name_single_word == 1 and not a.leaked.get("NAME")


def test_eight_gram_overlap_counts_copied_text():
    shared, total = ngram_overlap(SOURCE, "pt resting comfortably vital signs stable overnight without events today")
    assert total == 3 and shared == 2
    assert ngram_overlap(SOURCE, "short") == (0, 0)
