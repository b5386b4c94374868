"""The review model behind the Notes pane: accept, reject, mark, overlaps (table-driven, no Qt needed)."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.app.note_review import MANUAL, REJECTED, NoteReview

TEXT = "Seen at Mercy Valley Hospital by Dr. Holt on 3/4."
MERCY = TEXT.index("Mercy")
HOSP_END = TEXT.index(" by")


def _review():
    return NoteReview.from_spans(TEXT, [PhiSpan(MERCY, MERCY + 5, "HOSPITAL", 0.8, "locations"),
                                        PhiSpan(TEXT.index("Holt"), TEXT.index("Holt") + 4, "CLINICIAN", 0.9, "names"),
                                        PhiSpan(TEXT.index("3/4"), TEXT.index("3/4") + 3, "DATE", 0.95, "date")])


@pytest.mark.parametrize("sel, expect", [
    ((MERCY, HOSP_END), (MERCY, HOSP_END)),            # covers the detected span: replaces it
    ((MERCY + 2, HOSP_END), (MERCY, HOSP_END)),        # overlaps it partly: grows to the union
    ((MERCY - 1, MERCY + 12), (MERCY - 1, MERCY + 12)),  # leading space is trimmed below
])
def test_mark_supersedes_overlapping_spans(sel, expect):
    r = _review()
    it = r.mark(*sel, "HOSPITAL")
    start = expect[0] + (1 if TEXT[expect[0]].isspace() else 0)
    assert (it.span.start, it.span.end) == (start, expect[1]) and it.status == MANUAL
    active = r.active_spans()
    assert sum(1 for s in active if s.category == "HOSPITAL") == 1
    assert all(not (a.start < b.end and b.start < a.end) for a, b in zip(active, active[1:]))


def test_reject_accept_and_remove_manual():
    r = _review()
    holt = TEXT.index("Holt")
    assert r.set_status(holt + 1, REJECTED).status == REJECTED
    assert [s.category for s in r.active_spans()] == ["HOSPITAL", "DATE"]
    assert r.set_status(holt, "detected").status == "accepted"  # an explicit accept is a decision (issue 21)
    r.mark(0, 4, "PATIENT")
    assert r.set_status(1, REJECTED) is not None and r.at(1) is None  # a rejected hand mark disappears
    assert r.mark(4, 4, "PATIENT") is None and r.set_status(TEXT.index("by"), REJECTED) is None
    assert r.counts() == {"HOSPITAL": 1, "CLINICIAN": 1, "DATE": 1}
    assert r.status_counts() == {"detected": 2, "accepted": 1, "rejected": 0, "manual": 0}
