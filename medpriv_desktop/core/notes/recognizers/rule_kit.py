"""What the token rules of the name and location recognizers share: a read-only view of one note, the marks a rule
returns, and the table of hits the marks build.

A rule is a plain function ``rule(note) -> list[Mark]``: it reads the note and returns what it found, and keeps
nothing between calls, so one recognizer can serve several threads. A :class:`Mark` names the tokens found, their
category and score, and the token that cued the rule. The recognizer applies the marks of its rules in a fixed order
(by cue token, then by rule) to a :class:`Hits` table in which the higher score wins a token and, at equal scores,
the first mark does; the order is part of each recognizer's definition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from medpriv_desktop.core.notes.recognizers.base import Tok, cased_note, tokens
from medpriv_desktop.core.notes.spans import PhiSpan


@dataclass(frozen=True)
class NoteView:
    """One note as the rules read it: text, tokens, whether capitals carry information, and the word lists."""

    text: str
    toks: tuple[Tok, ...]
    cased: bool
    lex: Any

    @classmethod
    def of(cls, text: str, lex: Any) -> NoteView:
        """The view of ``text`` with the recognizer's lexicon ``lex``."""
        return cls(text, tokens(text), cased_note(text), lex)

    @property
    def n(self) -> int:
        """Number of tokens."""
        return len(self.toks)

    @cached_property
    def _positions(self) -> dict[str, list[int]]:
        where: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(self.toks):
            where[t.up].append(i)
        return where

    def where(self, words: Collection[str]) -> list[int]:
        """Indices of the tokens whose upper-cased text is one of ``words``, in text order (rules cued by a few
        words visit only those tokens instead of the whole note)."""
        pos = self._positions
        return sorted(i for w in words if w in pos for i in pos[w])

    def same_line(self, i: int, j: int) -> bool:
        """True when no line break lies between the end of token ``i`` and the start of token ``j``."""
        return "\n" not in self.text[self.toks[i].end: self.toks[j].start]

    def up(self, i: int) -> str:
        """The upper-cased text of token ``i``, or "" outside the note."""
        return self.toks[i].up if 0 <= i < len(self.toks) else ""


class Mark(NamedTuple):
    """Tokens ``idx`` found by a rule cued at token ``cue``, with a category and a score."""

    cue: int
    idx: tuple[int, ...]
    category: str
    score: float


def mark(cue: int, idx: Iterable[int], category: str, score: float) -> list[Mark]:
    """A one-mark list, or none when ``idx`` is empty (rules return lists)."""
    got = tuple(idx)
    return [Mark(cue, got, category, score)] if got else []


class Hits:
    """Token index -> (category, score); a higher score replaces a lower one, equal scores keep the first."""

    def __init__(self, items: dict[int, tuple[str, float]] | None = None) -> None:
        self._hits: dict[int, tuple[str, float]] = dict(items or {})

    def apply(self, marks: Iterable[Mark]) -> None:
        """Apply marks in order."""
        for m in marks:
            for i in m.idx:
                old = self._hits.get(i)
                if old is None or old[1] < m.score:
                    self._hits[i] = (m.category, m.score)

    def __contains__(self, i: object) -> bool:
        return i in self._hits

    def __getitem__(self, i: int) -> tuple[str, float]:
        return self._hits[i]

    def __iter__(self) -> Iterator[int]:
        return iter(self._hits)

    def __len__(self) -> int:
        return len(self._hits)

    def items(self) -> Iterable[tuple[int, tuple[str, float]]]:
        """(token index, (category, score)) pairs."""
        return self._hits.items()

    def copy(self) -> Hits:
        """An independent copy (rules that read earlier hits work on one)."""
        return Hits(self._hits)

    def spans(self, toks: Sequence[Tok], source: str) -> list[PhiSpan]:
        """One span per hit token, in text order."""
        return [PhiSpan(toks[i].start, toks[i].end, c, s, source) for i, (c, s) in sorted(self._hits.items())]


Rule = Callable[[NoteView], list[Mark]]


def in_cue_order(note: NoteView, rules: Sequence[Rule]) -> list[Mark]:
    """The marks of ``rules`` ordered by cue token, then by the rules' order (the order one pass over the tokens,
    trying each rule at each token, would make them in)."""
    marks = [m for rule in rules for m in rule(note)]
    marks.sort(key=lambda m: m.cue)  # stable: rule order and each rule's own order survive at one cue
    return marks


def rule_hits(rule: Rule, text: str, lex: Any) -> Hits:
    """The hits of one rule alone on ``text`` (what its table tests check)."""
    hits = Hits()
    hits.apply(rule(NoteView.of(text, lex)))
    return hits
