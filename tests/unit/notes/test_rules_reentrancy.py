"""One engine shared by threads: two different notes analysed at once give the spans each gives alone.

The name recognizer used to keep "is this note written in mixed case?" on the instance while it ran, so a second
note analysed at the same moment could flip it: a lower-case initial ("per j. kowalczyk") stopped being an initial.
"""

from __future__ import annotations

import sys
import threading

import pytest

# Capitals carry information in the first note, not in the second: the two must not leak into each other.
_CASED = ("Pupils equal. Corneal reflex absent to l. unresponsive to voice. Dr. Toscano aware. "
          "Daughter Philomena at bedside, Mrs. Gaudreau resting.\n") * 6
_LOWER = ("lasix given per j. kowalczyk. repeat lytes at 1800. spoke with son about plan. "
          "anita morris rn\n") * 6


def _spans(engine, text):
    return [(s.start, s.end, s.category) for s in engine.analyze(text)]


@pytest.fixture(scope="module")
def engine():
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    return DeidEngine(EngineConfig(use_model=False))


def test_two_threads_give_the_spans_of_one_at_a_time(engine):
    alone = {t: _spans(engine, t) for t in (_CASED, _LOWER)}
    assert alone[_CASED] != alone[_LOWER]
    assert any(_LOWER[s:e] == "j" for s, e, _ in alone[_LOWER])  # the initial is found when alone
    got: dict[str, list] = {_CASED: [], _LOWER: []}
    start = threading.Barrier(2)

    def work(text: str) -> None:
        start.wait()
        for _ in range(40):
            got[text].append(_spans(engine, text))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows
    try:
        threads = [threading.Thread(target=work, args=(t,)) for t in (_CASED, _LOWER)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(old)
    for text, runs in got.items():
        assert len(runs) == 40
        assert all(r == alone[text] for r in runs), "a note's spans changed while another note was analysed"


def test_recognizers_keep_no_per_note_state():
    """After a call, the rule recognizers hold nothing about the note they saw (only their lexicons)."""
    from medpriv_desktop.core.notes.recognizers import default_recognizers

    for rec in default_recognizers():
        before = dict(vars(rec))
        rec.find(_CASED)
        rec.find(_LOWER)
        assert dict(vars(rec)).keys() == before.keys(), f"{rec.name} stores per-note state"
