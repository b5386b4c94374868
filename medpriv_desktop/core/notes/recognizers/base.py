"""The small base every MedPriv recognizer shares: a Presidio ``EntityRecognizer`` that finds :class:`PhiSpan`.

Subclasses declare ``NAME`` and ``CATEGORIES`` as class constants and implement :meth:`find`, which works on the
plain text (no spaCy features are needed, so the engine runs on a blank pipeline). :meth:`analyze` adapts the spans
to Presidio's ``RecognizerResult`` so the recognizers plug into Presidio's registry and analyzer.

Context, Presidio's way: a recognizer may also declare ``CONTEXT`` words and implement :meth:`find_weak`, candidates
scored below :data:`WEAK_BELOW` that count only when Presidio's context enhancer finds one of those words among the
five words before them (the enhancer lifts them to at least 0.4; the engine drops what stays below). Spans of
:meth:`find` already passed the recognizer's own cue rules, so they are marked as decided and the enhancer leaves
their scores (and so which category wins an overlap) as they are.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

from medpriv_desktop.core.notes.spans import PhiSpan

#: Candidates of :meth:`MedPrivRecognizer.find_weak` score below this; only a context word lifts them to it.
WEAK_BELOW = 0.4
#: A context word adds 0.35 and lifts to at least 0.4, so a weak candidate ends at the floor: a site recognizer's
#: match of the same text (0.3 + 0.35) or a rule's decided span wins an overlap and gives the category.
WEAK_SCORE = 0.05

# Letters of any script (names like MÜLLER), digits, and single other characters.
WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|\S")


class Tok(NamedTuple):
    """A token of the note: upper-cased text, offsets, the raw text, and whether it is a word (letters)."""

    up: str
    start: int
    end: int
    raw: str
    is_word: bool


@lru_cache(maxsize=4)
def tokens(text: str) -> tuple[Tok, ...]:
    """Tokens of ``text`` (cached for the few recognizers that share one note)."""
    return tuple(Tok(g.upper(), m.start(), m.end(), g, g[:1].isalpha()) for m in WORD_RE.finditer(text)
                 for g in (m.group(),))


_LOWER = re.compile(r"[a-z]")
_UPPER = re.compile(r"[A-Z]")


@lru_cache(maxsize=4)
def cased_note(text: str) -> bool:
    """True when capitals carry information: most letters (ASCII, first 4,000 characters) are lower case and at
    least one is a capital. In a note typed all in capitals, or all in lower case, capitals say nothing."""
    head = text[:4000]
    lower, upper = len(_LOWER.findall(head)), len(_UPPER.findall(head))
    return lower > upper and upper > 0


class MedPrivRecognizer(EntityRecognizer):
    """Base of the project's recognizers: ``find(text) -> list[PhiSpan]`` plus the Presidio adapter."""

    NAME = "medpriv"
    CATEGORIES: tuple[str, ...] = ()
    #: Words (lower case, whole words) that make a :meth:`find_weak` candidate PHI when among the five words before it.
    CONTEXT: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__(supported_entities=list(self.CATEGORIES), name=self.NAME, supported_language="en",
                         context=list(self.CONTEXT) or None)
        # A note without any of the context words cannot lift a weak candidate: skip find_weak (and tokenising)
        self._any_context = re.compile(r"\b(?:" + "|".join(map(re.escape, self.CONTEXT)) + r")\b", re.I)

    def load(self) -> None:  # noqa: D102 - nothing to load; lexicons load lazily
        pass

    def find(self, text: str) -> list[PhiSpan]:
        """All PHI spans this recognizer sees in ``text``."""
        raise NotImplementedError

    def find_weak(self, text: str) -> list[PhiSpan]:
        """Candidates scored below :data:`WEAK_BELOW` (:data:`WEAK_SCORE`) that need a ``CONTEXT`` word (none by
        default)."""
        return []

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Presidio entry point: the spans of :meth:`find` (decided) and of :meth:`find_weak` (left to Presidio's
        context enhancer) as ``RecognizerResult`` objects."""
        wanted = set(entities or self.CATEGORIES)
        strong = [s for s in self.find(text) if s.category in wanted]
        weak = []
        if self.context and self._any_context.search(text):
            weak = [s for s in self.find_weak(text) if s.category in wanted and s.score < WEAK_BELOW
                    and not any(s.start < o.end and o.start < s.end for o in strong)]
        return [self._result(s, decided=True) for s in strong] + [self._result(s, decided=False) for s in weak]

    def _result(self, s: PhiSpan, decided: bool) -> RecognizerResult:
        # Presidio's enhancer writes the supporting word into an open result's explanation (dropped before results
        # return); a decided result is never enhanced, so it needs none
        explanation = None if decided else AnalysisExplanation(recognizer=self.NAME, original_score=s.score)
        return RecognizerResult(s.category, s.start, s.end, s.score, analysis_explanation=explanation,
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                                      RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: decided})

    def span(self, start: int, end: int, category: str, score: float) -> PhiSpan:
        """A span credited to this recognizer."""
        return PhiSpan(start, end, category, score, self.NAME)
