"""The location rules, one function each: facility names before a keyword, hospital abbreviations, wards after a
cue or a transfer verb, buildings, and cities after a place cue or before a state. Each takes a :class:`NoteView`
and returns :class:`Mark` lists; :mod:`.locations` applies them in order."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.location_words import (BUILDING_WORDS, DOCUMENT_NOUNS, NAMED_KEYWORDS,
                                                                   ORDINARY_CITIES, PLACE_CUES, STRONG_PAIRS,
                                                                   TRANSFER_VERBS, WARD_CUES, WEAK_KEYWORDS, capital,
                                                                   placey, plain_rare, walks_back)
from medpriv_desktop.core.notes.recognizers.rule_kit import Mark, NoteView, mark

_UNIT_AFTER = re.compile(r"\s*(?:MG|MCG|MEQ|CC|ML|L\b|U\b|UNITS?|G\b|GM|GMS|TABS?|PUFFS?|AMPS?|%|X\b|\.\d|/)", re.I)
_LINE_END = re.compile(r"[ \t]*(?:\n|$)")
_KEYWORDS = lx.FACILITY_KEYWORDS | NAMED_KEYWORDS
_ABBREVIATIONS = lx.HOSPITAL_ABBREVIATIONS | {"GH"}


def _one_digit(note: NoteView, i: int) -> bool:
    up = note.up(i)
    return len(up) == 1 and up.isdigit()


#: How many of the most frequent ordinary words count as plain adjectives before a facility keyword.
_ADJECTIVE_TOP = 6000


def _adjective(note: NoteView, t) -> bool:
    """A lone ordinary word before a facility keyword that describes rather than names ("good rehab potential",
    "new hospital", "good hospital course"): written in lower case in a note whose capitals carry information, or
    "good" anywhere ("Good Samaritan" has two words). A city of that spelling still names ("lake hospital")."""
    up = t.up
    if up in note.lex.cities or up in note.lex.states:
        return False
    if up == "GOOD":
        return True
    return note.cased and t.raw.islower() and up in lx.ranked("common_words", _ADJECTIVE_TOP)


def facility_before_keyword(note: NoteView) -> list[Mark]:
    """``FREDERICK MEMORIAL``, ``reisterstown hospital``, ``UNIVERSITY OF MD MEDICAL CENTER``: the words naming a
    facility before its keyword (weak keywords such as "MEDICAL" alone need a place word or a strong pair)."""
    toks, n, out = note.toks, note.n, []
    for i in note.where(_KEYWORDS):
        t = toks[i]
        if not walks_back(note, i):
            continue
        strong_pair = i + 1 < n and (t.up, toks[i + 1].up) in STRONG_PAIRS
        j, back = i - 1, []
        while j >= 0 and len(back) < 5 and (toks[j].up not in lx.FACILITY_KEYWORDS or toks[j].up in NAMED_KEYWORDS):
            if toks[j].up in (".", "'", "-") and back:
                j -= 1
                continue
            tj = toks[j]
            # "UNIVERSITY OF MD", "U OF MD": a state code after OF, a bare U before OF
            state_after_of = j > 0 and toks[j - 1].up == "OF" and tj.up in note.lex.states
            u_before_of = tj.up == "U" and j + 1 < n and toks[j + 1].up == "OF"
            if not (state_after_of or u_before_of or placey(note, tj)) \
                    or (t.up in WEAK_KEYWORDS and not strong_pair and not capital(note, tj)):
                break
            back.append(j)
            j -= 1
        while back and toks[back[-1]].up in ("OF", "THE"):
            back.pop()
        if len(back) == 1 and _adjective(note, toks[back[0]]):
            back = []
        if t.up in WEAK_KEYWORDS and not strong_pair and not any(
                toks[b].up in lx.FACILITY_NAME_WORDS or toks[b].up in note.lex.cities or toks[b].up in note.lex.states
                for b in back):
            back = []
        if back and any(toks[b].up not in ("OF", "ST", "ST.", "SAINT", "THE") for b in back):
            out += mark(i, back + ([i] if t.up in NAMED_KEYWORDS else []), "HOSPITAL", 0.8)
    return out


def hospital_abbreviation(note: NoteView) -> list[Mark]:
    """``MGH``, ``BWH``, ``GH``: a hospital abbreviation in capitals (unless it ends a facility name)."""
    return [m for i in note.where(_ABBREVIATIONS)
            if (note.toks[i].raw.isupper() or note.toks[i].up == "GH") and not walks_back(note, i)
            for m in mark(i, [i], "HOSPITAL", 0.75)]


def ward_after_cue(note: NoteView) -> list[Mark]:
    """``TRANSFER TO QUARTERMAIN 2``: a rare word and a one-digit floor after to/from/tx/":" (not a dose)."""
    toks, text, out = note.toks, note.text, []
    for i in note.where(WARD_CUES):
        if i + 2 >= note.n:
            continue
        w, d = toks[i + 1], toks[i + 2]
        if (plain_rare(note, w) and _one_digit(note, i + 2) and d.start > w.end
                and not text[d.end: d.end + 1].isalnum() and not _UNIT_AFTER.match(text, d.end)):
            out += mark(i, [i + 1], "WARD", 0.75)
    return out


def ward_after_transfer(note: NoteView) -> list[Mark]:
    """``c/o to quartermain``, ``transfer to Weinberg``: a rare word after a transfer verb and "to"."""
    toks, text, out = note.toks, note.text, []
    for i in note.where(("TO",)):
        if i + 1 >= note.n or i == 0 or toks[i - 1].up not in TRANSFER_VERBS:
            continue
        if toks[i - 1].up == "O" and not (i > 2 and toks[i - 2].up == "/" and toks[i - 3].up == "C"):
            continue
        w = toks[i + 1]
        if plain_rare(note, w) and len(w.up) >= 4 and capital(note, w) and text[w.end: w.end + 1] != "/":
            out += mark(i, [i + 1], "WARD", 0.75)
    return out


def ward_closing_line(note: NoteView) -> list[Mark]:
    """``..., weinberg 4`` closing a line: a rare word and its one-digit floor at the start of a clause."""
    toks, text, out = note.toks, note.text, []
    for i in [d - 1 for d, t in enumerate(toks) if d and len(t.up) == 1 and t.up.isdigit()]:
        t = toks[i]
        if plain_rare(note, t) and len(t.up) >= 4 and toks[i + 1].start == t.end + 1 \
                and (i == 0 or toks[i - 1].up in (",", ";") or "\n" in text[toks[i - 1].end: t.start]) \
                and _LINE_END.match(text, toks[i + 1].end):
            out += mark(i, [i], "WARD", 0.7)
    return out


def building(note: NoteView) -> list[Mark]:
    """``Lindqvist Building``: a capitalised rare word before a building word."""
    toks, out = note.toks, []
    for i in note.where(BUILDING_WORDS):
        if i > 0:
            p = toks[i - 1]
            if capital(note, p) and p.is_word and p.up not in note.lex.common and p.up not in note.lex.clinical:
                out += mark(i, [i - 1], "LOCATION", 0.75)
    return out


def city_after_cue(note: NoteView) -> list[Mark]:
    """``LIVES IN PIKESVILLE``, ``from Riverton``: one to three words forming a GeoNames city after a place cue;
    "from" and "lives in" (or capitals) also allow cities that are ordinary words; never one right before a chart
    noun ("phone numbers in Green chart")."""
    toks, n, lex, out = note.toks, note.n, note.lex, []
    for i in note.where(PLACE_CUES):
        t = toks[i]
        if i + 1 >= n:
            continue
        strong_cue = t.up == "FROM" or (t.up == "IN" and i > 0 and toks[i - 1].up in ("LIVES", "LIVING", "LIVE",
                                                                                     "RESIDES"))
        for width in (3, 2, 1):
            if i + width < n:
                words = toks[i + 1: i + 1 + width]
                if all(w.is_word for w in words):
                    phrase = " ".join(w.up for w in words)
                    is_titled = all(w.raw[:1].isupper() and w.raw[1:].islower() for w in words)
                    ok_word = phrase not in lex.common or ((strong_cue or is_titled) and phrase not in lx.NOT_NAMES
                                                           and phrase not in ORDINARY_CITIES)
                    if phrase in lex.cities and (width > 1 or ok_word) and phrase not in lex.clinical \
                            and note.up(i + 1 + width) not in DOCUMENT_NOUNS:
                        out += mark(i, range(i + 1, i + 1 + width), "CITY", 0.75)
                        break
    return out


def city_before_state(note: NoteView) -> list[Mark]:
    """``Boston, MA``: a GeoNames city before a comma and a two-letter state code that ends the phrase."""
    toks, n, out = note.toks, note.n, []
    for i in note.where((",",)):
        if not (0 < i < n - 1 and toks[i + 1].up in note.lex.states and len(toks[i + 1].up) == 2):
            continue
        if i + 2 >= n or not toks[i + 2].is_word or not note.same_line(i + 1, i + 2):
            for width in (3, 2, 1):
                if i - width >= 0 and all(w.is_word for w in toks[i - width: i]):
                    if " ".join(w.up for w in toks[i - width: i]) in note.lex.cities:
                        out += mark(i, range(i - width, i), "CITY", 0.75)
                        break
    return out


#: Rules tried at every token, in this order (see :func:`rule_kit.in_cue_order`).
CUE_RULES = (facility_before_keyword, hospital_abbreviation, ward_after_cue, ward_after_transfer, ward_closing_line,
             building, city_after_cue, city_before_state)
