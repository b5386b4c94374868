"""Word lists and word tests of the location rules: the places lexicon, cue words, and whether a token can name a
place. Pure functions of a :class:`NoteView` and token indices."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.base import Tok
from medpriv_desktop.core.notes.recognizers.rule_kit import NoteView

PLACE_CUES = frozenset("IN FROM TO AT NEAR LIVES LIVING RETURNED RETURN VISITING MOVED".split())
WARD_CUES = frozenset("TO FROM TX : ".split())
WEAK_KEYWORDS = frozenset("MED MEDICAL HEALTH HEALTHCARE CENTER CENTRE SKILLED NURSING MANOR".split())
#: Part of the name: "FREDERICK MEMORIAL".
NAMED_KEYWORDS = frozenset("MEMORIAL".split())
ORDINARY_CITIES = frozenset("HOME BATH MOBILE NORMAL READING SURPRISE HOPE CENTER UNION MADISON AURORA".split())
#: Nouns of the chart itself: a city-spelt word right before one is a label or a colour ("phone numbers in Green
#: chart", "in Orange folder"), not a place.
DOCUMENT_NOUNS = frozenset("CHART CHARTS FOLDER BINDER BOOK SHEET SHEETS FORM FORMS FILE TAB SECTION BOX".split())
#: Two keywords that together make a strong facility ending ("KESSLER MEDICAL CENTER", "U OF MD MED CENTER").
STRONG_PAIRS = frozenset({("MEDICAL", "CENTER"), ("MED", "CENTER"), ("MEDICAL", "CENTRE"), ("HEALTH", "CENTER"),
                          ("NURSING", "HOME"), ("SKILLED", "NURSING"), ("HEALTH", "SYSTEM"), ("REHAB", "CENTER"),
                          ("REHABILITATION", "CENTER"), ("MEDICAL", "CAMPUS")})
#: Building words: "X BUILDING" and "XBuilding" name a place when X is not an ordinary word.
BUILDING_WORDS = ("BUILDING", "TOWER", "PAVILION", "WING", "HALL")
#: "her friend's house": the owner of a dwelling is a location in the chart's sense.
DWELLINGS = frozenset("HOUSE HOME APARTMENT APT CONDO PLACE FARM".split())
#: Verbs of moving a patient: "C/O TO X", "TRANSFER TO X" name a ward or unit.
TRANSFER_VERBS = frozenset("TRANSFER TRANSFERRED TRANSFERED TX XFER XFERRED MOVE MOVED O".split())


@dataclass(frozen=True)
class PlaceLexicon:
    """The word lists the location rules read: ordinary and clinical words, GeoNames cities, census names, states."""

    common: frozenset[str]
    cities: frozenset[str]
    names: frozenset[str]
    clinical: frozenset[str]
    states: frozenset[str]


@functools.lru_cache(maxsize=1)
def place_lexicon() -> PlaceLexicon:
    """The bundled lexicons, loaded once per process and shared (read-only)."""
    return PlaceLexicon(lx.common_words(), lx.cities(), lx.first_names() | lx.surnames(), lx.clinical_words(),
                        lx.states())


def placey(note: NoteView, t: Tok) -> bool:
    """A word that can be part of a place name: a facility name word, a rare word, a city or state, or (capitalised
    in mixed-case text, "Carpenter") a census name; never a chart or clinical word."""
    lex = note.lex
    if not t.is_word or (t.up in lx.NOT_NAMES or t.up in lex.clinical) and t.up not in lx.FACILITY_NAME_WORDS:
        return False
    is_titled = t.raw[:1].isupper() and t.raw[1:].islower()
    return (t.up in lx.FACILITY_NAME_WORDS or t.up not in lex.common or t.up in lex.cities
            or t.up in lex.states or (is_titled and t.up in lex.names))


def capital(note: NoteView, t: Tok) -> bool:
    """In a note written in mixed case, facility names are capitalised ("heart health diet" is not one)."""
    return not note.cased or t.raw[:1].isupper() or t.up in ("OF", "THE")


def plain_rare(note: NoteView, t: Tok) -> bool:
    """A rare word that is neither a chart word nor a clinical word (ward and unit names)."""
    return (t.is_word and t.up not in note.lex.common and t.up not in lx.NOT_NAMES
            and t.up not in note.lex.clinical)


def walks_back(note: NoteView, i: int) -> bool:
    """True at the first facility keyword of a run ("MEDICAL" of "MEDICAL CENTER"), where the name lies before it."""
    up, prev = note.toks[i].up, note.up(i - 1)
    return ((up in lx.FACILITY_KEYWORDS or up in NAMED_KEYWORDS) and i > 0
            and not (prev in lx.FACILITY_KEYWORDS and prev not in NAMED_KEYWORDS))
