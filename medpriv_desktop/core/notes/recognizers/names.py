"""Person names from context and public name lists, built for UPPER CASE nursing notes where capitals say nothing.

Cues, strongest first: a clinician title before the name (``DR``, ``HO``, ``MD``), an honorific (``MR``, ``MRS``),
a relation (``SON``, ``DAUGHTER``, ``WIFE``), a credential after it (``... RN``, ``B. KARGAS PA``), an initial
(``N. GRANDONE``), and a census first name followed by a census surname. A word found by a strong cue is then
tagged everywhere else in the same note. Words on the clinical list (drugs, devices, abbreviations) are never names.

:func:`find_names` runs the rules of :mod:`.name_rules` and the note-wide passes below; :class:`NameRecognizer` is
its Presidio adapter and keeps nothing about a note between calls.
"""

from __future__ import annotations

from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.recognizers.name_rules import CUE_RULES, NOTE_RULES, TITLECASE_WORDS
from medpriv_desktop.core.notes.recognizers.name_words import MISSPELT_HEALTH, NameLexicon, name_lexicon, namey, rare, \
    titled, with_hyphen_part
from medpriv_desktop.core.notes.recognizers.rule_kit import Hits, Mark, NoteView, in_cue_order, mark
from medpriv_desktop.core.notes.spans import PhiSpan

SOURCE = "names"


def capitalised_first_name(note: NoteView, hits: Hits) -> list[Mark]:
    """Mixed-case notes: a capitalised census first name inside a sentence ("once Natalie woke up") not found yet;
    not a medical eponym before its noun ("Allen test normal", as the tagger's veto reads eponyms), nor health
    misspelt ("Heath care proxy")."""
    if not note.cased:
        return []
    from medpriv_desktop.core.notes.tagger_veto import eponym

    toks, out = note.toks, []
    for i, t in enumerate(toks):
        if (i not in hits and i > 0 and titled(t) and len(t.up) >= 3 and t.up in note.lex.first and namey(note, i)
                and toks[i - 1].up not in (".", ":", "!", "?", "-", "*") and note.same_line(i - 1, i)
                and t.up not in TITLECASE_WORDS and t.up not in note.lex.states
                and not (t.up in MISSPELT_HEALTH and note.up(i + 1) == "CARE")
                and not eponym(note.text, t.start, t.end, "NAME")):
            out += mark(i, [i], "NAME", 0.55)
    return out


def surname_after_first_name(note: NoteView, hits: Hits) -> list[Mark]:
    """Mixed-case notes: the capitalised surname right after a first name found by any rule ("Carlos Kowalski"),
    with the first name's category and score."""
    if not note.cased:
        return []
    toks, n, out = note.toks, note.n, []
    seen = hits.copy()  # each mark counts for the next first name, as when applied one by one
    for i in sorted(seen):
        k = i + 1
        if (k < n and k not in seen and toks[i].up in note.lex.first and titled(toks[k]) and namey(note, k)
                and toks[k].start - toks[i].end == 1 and (toks[k].up in note.lex.last or rare(note, k))
                and toks[k].up not in TITLECASE_WORDS and toks[k].up not in note.lex.states):
            got = mark(i, with_hyphen_part(note, k), *seen[i])
            seen.apply(got)
            out += got
    return out


def repeated_strong_names(note: NoteView, hits: Hits) -> list[Mark]:
    """A word named anywhere in the note by a strong cue (score 0.7 or more) is a name everywhere in it."""
    toks = note.toks
    strong = {toks[i].up: c for i, (c, s) in hits.items() if s >= 0.7 and len(toks[i].up) > 1 and namey(note, i)}
    return [m for i, t in enumerate(toks) if i not in hits and t.up in strong and t.is_word
            for m in mark(i, [i], strong[t.up], 0.65)]


#: Passes that read the hits of the rules before them, in this order.
HIT_RULES = (capitalised_first_name, surname_after_first_name, repeated_strong_names)


def find_names(text: str, lexicon: NameLexicon | None = None) -> list[PhiSpan]:
    """Every name span in ``text`` (patient, clinician, relative or name), one per token, in text order."""
    note = NoteView.of(text, lexicon or name_lexicon())
    hits = Hits()
    hits.apply(in_cue_order(note, CUE_RULES))
    for rule in NOTE_RULES:
        hits.apply(rule(note))
    for hit_rule in HIT_RULES:
        hits.apply(hit_rule(note, hits))
    return hits.spans(note.toks, SOURCE)


class NameRecognizer(MedPrivRecognizer):
    """Patient, clinician and relative names (Presidio adapter of :func:`find_names`)."""

    NAME = SOURCE
    CATEGORIES = ("PATIENT", "CLINICIAN", "RELATIVE", "NAME")

    def __init__(self) -> None:
        super().__init__()
        self.lexicon = name_lexicon()

    def find(self, text: str) -> list[PhiSpan]:  # noqa: D102 - see find_names
        return find_names(text, self.lexicon)

