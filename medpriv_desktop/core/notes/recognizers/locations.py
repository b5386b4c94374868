"""Locations: hospitals and other facilities, wards, cities, street addresses and zip codes.

A facility keyword (``HOSPITAL``, ``MEDICAL CENTER``, ``REHAB``) is not PHI itself; the words before it that name
the place are. Wards are rare words followed by a floor number after "to"/"from". Cities come from GeoNames with a
place cue ("lives in", "from", ", MD") unless the name is not an ordinary English word.

:func:`find_locations` runs the token rules of :mod:`.location_rules`, the note-wide passes and the span patterns
below; :class:`LocationRecognizer` is its Presidio adapter and keeps nothing about a note between calls.
"""

from __future__ import annotations

import re

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.recognizers.location_rules import CUE_RULES
from medpriv_desktop.core.notes.recognizers.location_words import DWELLINGS, PlaceLexicon, capital, place_lexicon
from medpriv_desktop.core.notes.recognizers.rule_kit import Hits, Mark, NoteView, in_cue_order, mark
from medpriv_desktop.core.notes.spans import PhiSpan

SOURCE = "locations"
_CAMEL_PLACE = re.compile(r"[A-Z][a-z]{2,}(?:Building|Tower|Pavilion|Hospital|Center|Clinic|Hall)\b")
STREET = re.compile(
    r"\b\d{1,6}[ \t]+(?:[NSEW]\.?[ \t]+)?(?:[A-Za-z][A-Za-z'\-]*[ \t]+){1,3}(?:" + "|".join(
        sorted((re.escape(s) for s in lx.STREET_SUFFIXES), key=len, reverse=True)) + r")\b\.?", re.I)
ZIP = re.compile(r"\b(?:ZIP(?:\s*CODE)?:?\s*|[A-Z]{2},?[ \t]+)(\d{5}(?:-\d{4})?)\b", re.I)
HOSPITAL_PHRASES = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in lx.HOSPITAL_NAMES) + r")\b", re.I)


def coordinated_facility(note: NoteView, hits: Hits) -> list[Mark]:
    """``BALTIMORE REHAB AND KIMBROUGH``: a rare word joined by and/or to a facility found before it."""
    toks, out = note.toks, []
    seen = hits.copy()  # a facility found here can start the next "AND"
    for i in range(2, note.n - 1):
        if toks[i].up in ("AND", "OR") and toks[i - 1].up in lx.FACILITY_KEYWORDS and (i - 2) in seen:
            w = toks[i + 1]
            if w.is_word and w.up not in note.lex.common and w.up not in note.lex.clinical:
                got = mark(i, [i + 1], "HOSPITAL", 0.7)
                seen.apply(got)
                out += got
    return out


def hospital_phrase(note: NoteView, hits: Hits) -> list[Mark]:
    """Well-known hospital names without a keyword ("JOHNS HOPKINS", "MERCY"): each word of the phrase."""
    toks, out = note.toks, []
    by_start = None
    for m in HOSPITAL_PHRASES.finditer(note.text):
        by_start = by_start or {t.start: k for k, t in enumerate(toks)}
        k = by_start.get(m.start())
        while k is not None and k < note.n and toks[k].end <= m.end():
            if toks[k].is_word:
                out += mark(k, [k], "HOSPITAL", 0.7)
            k += 1
    return out


def bare_city(note: NoteView, hits: Hits) -> list[Mark]:
    """A GeoNames city of four letters or more that is neither an ordinary word nor a census name, without a cue;
    not a drug before its dose ("CONTINUE Norco 5/325")."""
    from medpriv_desktop.core.notes.tagger_veto import dose_after

    lex = note.lex
    return [m for i, t in enumerate(note.toks)
            if t.up in lex.cities and i not in hits and t.is_word and len(t.up) >= 4 and t.up not in lex.common
            and t.up not in lex.names and t.up not in lex.clinical and not dose_after(note.text, t.end)
            for m in mark(i, [i], "CITY", 0.5)]


def repeated_places(note: NoteView, hits: Hits) -> list[Mark]:
    """A place word found by a cue (score 0.7 or more) is a place everywhere in the note."""
    toks = note.toks
    strong = {toks[i].up: c for i, (c, s) in hits.items()
              if s >= 0.7 and toks[i].up not in lx.FACILITY_NAME_WORDS and len(toks[i].up) > 1}
    return [m for i, t in enumerate(toks if strong else ()) if t.up in strong and i not in hits
            for m in mark(i, [i], strong[t.up], 0.6)]


#: Passes that read the hits of the rules before them, in this order.
HIT_RULES = (coordinated_facility, hospital_phrase, bare_city, repeated_places)


def dwellers(note: NoteView) -> list[PhiSpan]:
    """``at marla petrosyan's house``: the owner of a dwelling (one name, or a first name and the owner)."""
    toks, text, lex, out = note.toks, note.text, note.lex, []
    for i, t in enumerate(toks):
        if not (t.up.endswith("'S") and i + 1 < note.n and toks[i + 1].up in DWELLINGS):
            continue
        base = t.up[:-2]
        if len(base) >= 2 and base not in lx.NOT_NAMES and base not in lex.clinical and capital(note, t) \
                and (base in lex.names or base not in lex.common) and text[t.start - 1: t.start] != "-":
            idx = [i]
            p = toks[i - 1] if i > 0 else None
            if p is not None and p.is_word and p.up in lex.names and capital(note, p) and p.up not in lx.NOT_NAMES \
                    and "\n" not in text[p.end: t.start]:
                idx.insert(0, i - 1)
            out += [PhiSpan(toks[k].start, toks[k].end - (2 if k == i else 0), "LOCATION", 0.7, SOURCE) for k in idx]
    return out


def pattern_spans(note: NoteView) -> list[PhiSpan]:
    """Spans found by patterns over the text: "LindqvistBuilding", dwellings' owners, street addresses, zip codes."""
    text = note.text
    out = [PhiSpan(m.start(), m.end(), "LOCATION", 0.7, SOURCE) for m in _CAMEL_PLACE.finditer(text)]
    out += dwellers(note)
    out += [PhiSpan(m.start(), m.end(), "STREET", 0.85, SOURCE) for m in STREET.finditer(text)]
    for m in ZIP.finditer(text):
        if m.group()[:3].upper() == "ZIP" or m.group()[:2].upper() in note.lex.states:
            out.append(PhiSpan(*m.span(1), "ZIP", 0.7, SOURCE))
    return out


def find_locations(text: str, lexicon: PlaceLexicon | None = None) -> list[PhiSpan]:
    """Every location span in ``text``: token hits in text order, then the pattern spans."""
    note = NoteView.of(text, lexicon or place_lexicon())
    hits = Hits()
    hits.apply(in_cue_order(note, CUE_RULES))
    for rule in HIT_RULES:
        hits.apply(rule(note, hits))
    return hits.spans(note.toks, SOURCE) + pattern_spans(note)


class LocationRecognizer(MedPrivRecognizer):
    """Facilities, wards, cities, streets and zip codes (Presidio adapter of :func:`find_locations`)."""

    NAME = SOURCE
    CATEGORIES = ("HOSPITAL", "WARD", "CITY", "STREET", "ZIP", "LOCATION", "ORGANIZATION")
    STREET = STREET
    ZIP = ZIP
    HOSPITAL_PHRASES = HOSPITAL_PHRASES

    def __init__(self) -> None:
        super().__init__()
        self.lexicon = place_lexicon()

    def find(self, text: str) -> list[PhiSpan]:  # noqa: D102 - see find_locations
        return find_locations(text, self.lexicon)
