"""Word tests and phrase readers of the name rules: is this token name-like, an initial, a rare word; which tokens
after a cue (or before a credential) form the name. Pure functions of a :class:`NoteView` and token indices."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.base import Tok
from medpriv_desktop.core.notes.recognizers.rule_kit import NoteView

#: Punctuation skipped between a title and the name ("DR. : SMITH").
SKIP = frozenset(". : ' , ( \" #".split())


@dataclass(frozen=True)
class NameLexicon:
    """The word lists the name rules read: census first names and surnames, ordinary and clinical words, states."""

    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]
    clinical: frozenset[str]
    states: frozenset[str]


@functools.lru_cache(maxsize=1)
def name_lexicon() -> NameLexicon:
    """The bundled lexicons, loaded once per process and shared (read-only)."""
    return NameLexicon(lx.first_names(), lx.surnames(), lx.common_words(), lx.clinical_words(), lx.states())


def titled(t: Tok) -> bool:
    """Capitalised word: "Natalie", not "NATALIE" or "natalie"."""
    return t.raw[:1].isupper() and t.raw[1:].islower()


def namey(note: NoteView, i: int) -> bool:
    """A word that can be part of a name: letters, two or more, not a chart word, month or clinical word."""
    t = note.toks[i]
    base = t.up[:-2] if t.up.endswith("'S") else t.up
    if "'" in base and not base.startswith(("O'", "D'")):
        return False  # CON'T, DIDN'T
    return (t.is_word and len(base) >= 2 and base not in lx.NOT_NAMES and base not in lx.MONTHS
            and base not in note.lex.clinical)


def rare(note: NoteView, i: int) -> bool:
    """Not an ordinary English word."""
    return note.toks[i].up not in note.lex.common


def lexical(note: NoteView, i: int) -> bool:
    """A census name or a rare word (most rare words next to a name cue are names)."""
    up = note.toks[i].up
    return up in note.lex.first or up in note.lex.last or up not in note.lex.common


def initial(note: NoteView, i: int, check_start: bool = False) -> bool:
    """A one-letter initial at token ``i``; with ``check_start`` it must also start a word ("80's" ends in one)."""
    toks = note.toks
    if not (0 <= i < len(toks) and toks[i].is_word and len(toks[i].up) == 1 and toks[i].up not in ("A", "I", "X")):
        return False
    if note.cased and not toks[i].raw.isupper():
        return False  # "absent to l." in a note written in mixed case
    text = note.text
    return not check_start or toks[i].start == 0 or text[toks[i].start - 1] in " \t\n(\"-,>"


def next_word(note: NoteView, i: int) -> int:
    """The index of the first token at or after ``i`` that is not skippable punctuation."""
    while i < note.n and note.toks[i].up in SKIP:
        i += 1
    return i


def with_hyphen_part(note: NoteView, k: int) -> list[int]:
    """``RETTERER-MOORE``: the part after a hyphen joined without spaces."""
    toks = note.toks
    if k + 2 < len(toks) and toks[k + 1].up == "-" and toks[k + 1].start == toks[k].end \
            and toks[k + 2].start == toks[k + 1].end and namey(note, k + 2) and lexical(note, k + 2):
        return [k, k + 2]
    return [k]


#: "Health" as it is misspelt before "care" ("Heath care proxy"); "Heath" and "Care" are census names.
MISSPELT_HEALTH = frozenset("HEATH HELATH HEALTH".split())


def take_after(note: NoteView, j: int, strict: bool | str) -> list[int]:
    """Indices of the name tokens starting at ``j`` (initial + surname, first + last, or one word); ``strict="rare"``
    also wants the first word to be rare."""
    toks, n, lex = note.toks, note.n, note.lex
    if j >= n:
        return []
    if initial(note, j):
        k = next_word(note, j + 1)
        if k < n and k - j <= 2 and namey(note, k) and lexical(note, k):
            return [j] + with_hyphen_part(note, k)
        return []
    if not namey(note, j) or not lexical(note, j):
        return []
    if toks[j].up in MISSPELT_HEALTH and note.up(j + 1) == "CARE":
        return []  # "HCP (Heath care proxy)": health misspelt, not a first name and a surname
    if strict == "rare" and not rare(note, j):
        return []
    got = with_hyphen_part(note, j)
    k = got[-1] + 1
    if k < n and namey(note, k) and toks[k].start - toks[got[-1]].end <= 2:
        if (toks[k].up in lex.last and (rare(note, k) or toks[j].up in lex.first)) or rare(note, k):
            got += with_hyphen_part(note, k)
    return got


def coordinated(note: NoteView, last: int) -> list[int]:
    """``Dr. Rakusin and Toolis``: a second name joined by and/&."""
    k = last + 1
    if k + 1 < note.n and note.toks[k].up in ("AND", "&") and namey(note, k + 1):
        if rare(note, k + 1) or note.toks[k + 1].up in note.lex.first:
            return [k + 1]
    return []


def before_credential(note: NoteView, i: int) -> list[int]:
    """The name before the credential at ``i``: ``anita morris rn``, ``B. KARGAS PA``,
    ``HERMAN W. EMPERATRICE, RRT``."""
    toks, text = note.toks, note.text
    j = i - 1
    if j >= 0 and toks[j].up == ",":
        j -= 1
    back: list[int] = []
    while j >= 0 and len(back) < 4 and "\n" not in text[toks[j].end: toks[min(j + 1, len(toks) - 1)].start]:
        if toks[j].up in (".", "-") and back:
            j -= 1
            continue
        if initial(note, j) or (namey(note, j) and lexical(note, j)):
            back.append(j)
            j -= 1
            continue
        break
    words = [b for b in back if len(toks[b].up) > 1]
    if words and (any(rare(note, b) for b in words) or len(back) >= 2):
        return back
    return []
