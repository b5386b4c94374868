"""The small base every MedPriv recognizer shares: a Presidio ``EntityRecognizer`` that finds :class:`PhiSpan`.

Subclasses declare ``NAME`` and ``CATEGORIES`` as class constants and implement :meth:`find`, which works on the
plain text (no spaCy features are needed, so the engine runs on a blank pipeline). :meth:`analyze` adapts the spans
to Presidio's ``RecognizerResult`` so the recognizers plug into Presidio's registry and analyzer.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from presidio_analyzer import EntityRecognizer, RecognizerResult

from medpriv_desktop.core.notes.spans import PhiSpan

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

    def __init__(self) -> None:
        super().__init__(supported_entities=list(self.CATEGORIES), name=self.NAME, supported_language="en")

    def load(self) -> None:  # noqa: D102 - nothing to load; lexicons load lazily
        pass

    def find(self, text: str) -> list[PhiSpan]:
        """All PHI spans this recognizer sees in ``text``."""
        raise NotImplementedError

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Presidio entry point: the spans of :meth:`find` as ``RecognizerResult`` objects."""
        wanted = set(entities or self.CATEGORIES)
        return [
            RecognizerResult(s.category, s.start, s.end, s.score, recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
            for s in self.find(text)
            if s.category in wanted
        ]

    def span(self, start: int, end: int, category: str, score: float) -> PhiSpan:
        """A span credited to this recognizer."""
        return PhiSpan(start, end, category, score, self.NAME)
