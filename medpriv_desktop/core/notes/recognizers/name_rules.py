"""The name rules, one function each: a cue word (title, honorific, relation, credential, verb of talking), an
initial, or the census name lists, and the name it points at. Each takes a :class:`NoteView` and returns
:class:`Mark` lists; :mod:`.names` applies them in order."""

from __future__ import annotations

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.name_words import (before_credential, coordinated, initial, lexical, namey,
                                                               next_word, rare, take_after, titled, with_hyphen_part)
from medpriv_desktop.core.notes.recognizers.rule_kit import Mark, NoteView, mark

LEAD_TITLES = frozenset("DR DRS DOCTOR HO MD NURSE ATTENDING RESIDENT INTERN FELLOW PCP SURGEON PROVIDER".split())
#: Also nasal prongs, pulmonary artery, ...: need a name-like word after them.
WEAK_LEAD = frozenset("NP PA RN".split())
TRAIL_CREDENTIALS = frozenset("RN RRT MD NP PA LPN CNA SW LICSW PHD PHARMD".split())
AFTER_NAME = frozenset("AWARE NOTIFIED NOTIFED INFORMED MD NP PA RN RRT , ) CALLED PAGED".split())
AFTER_CREDENTIAL = frozenset("SPOKE IN HERE ORDERED SAID STATES STATED WAS CAME SAW TO AT ON FOLLOWING".split())
CLERGY = frozenset("RABBI PRIEST CHAPLAIN PASTOR REV REVEREND FR".split())
TITLECASE_WORDS = frozenset("AM PM ICU CCU MICU SICU I IV PO CT MRI EKG ECG ABG BP HR RR".split())
#: Words that introduce the patient's name in mixed-case notes ("Patient Carlos Kowalski"); capitalised names only.
PATIENT_CUES = frozenset("PATIENT PT PATIENT'S".split())
VERBAL_CUES = frozenset("SPOKE SPOKEN SPEAKING TALKED TALKING MET MEETING CALLED PAGED DISCUSSED".split())
#: Verbs after "INITIAL SURNAME" without a period ("J SMITH ORDERED ...").
AFTER_BARE_INITIAL = frozenset("AWARE NOTIFIED NOTIFED INFORMED ORDERED CALLED PAGED SAID STATES STATED "
                               "RECOMMENDS RECOMMENDED".split())
_TITLE_WORDS = LEAD_TITLES | WEAK_LEAD
_RELATION_WORDS = lx.RELATIONS | {"PERSON"}


def _case_gated_name(note: NoteView, j: int) -> bool:
    """A first name that is also a verb or a month ("May", "Will"), written capitalised in a note whose capitals
    carry information: a name right after a title, honorific or relation (see :data:`lexicons.CASE_GATED_NAMES`)."""
    if not note.cased or j >= note.n or note.up(j + 1).isdigit():  # "daughter May 5": a date
        return False
    return note.toks[j].up in lx.CASE_GATED_NAMES and titled(note.toks[j])


def after_title(note: NoteView) -> list[Mark]:
    """``DR. TOSCANO``, ``HO SMITH``, ``NP Kargas aware``: a clinician after a title (weak titles want a rare word or
    a verb such as "aware" after it)."""
    toks, n, out = note.toks, note.n, []
    for i in note.where(_TITLE_WORDS):
        t = toks[i]
        up = t.up
        j = next_word(note, i + 1) if up not in WEAK_LEAD else i + 1
        same_line = j < n and note.same_line(i, j)
        strict: bool | str = True
        if up in WEAK_LEAD:
            strict = True if note.up(j + 1) in AFTER_NAME else "rare"
        got = take_after(note, j, strict=strict) if same_line else []
        if not got and same_line and note.cased and up in LEAD_TITLES and j + 1 < n and titled(toks[j]) \
                and toks[j].up in note.lex.first and titled(toks[j + 1]) and namey(note, j + 1) \
                and toks[j + 1].start - toks[j].end == 1 and toks[j + 1].up in note.lex.last:
            got = [j, j + 1]  # "Dr Will Cole": a capitalised first name that is also an English word
        if not got and same_line and up in LEAD_TITLES and _case_gated_name(note, j) \
                and (j == i + 1 or (up in ("DR", "DRS") and j == i + 2 and toks[i + 1].up == ".")):
            got = [j]  # "Dr. May saw the patient", "Nurse Will aware" (but "called MD. May need...")
        if got:
            out += mark(i, got + coordinated(note, got[-1]), "CLINICIAN", 0.9 if up not in WEAK_LEAD else 0.7)
    return out


def after_patient_cue(note: NoteView) -> list[Mark]:
    """``Patient Pieter Tanaka (MRN ...)``: in a mixed-case note, capitalised words right after "patient"."""
    if not note.cased:
        return []
    toks, n, out = note.toks, note.n, []
    for i in note.where(PATIENT_CUES):
        if i + 1 >= n or not note.same_line(i, i + 1):
            continue
        got: list[int] = []
        for j in (i + 1, i + 2):
            if j < n and titled(toks[j]) and namey(note, j) and toks[j].up not in TITLECASE_WORDS \
                    and (not got or toks[j].start - toks[got[-1]].end == 1):
                got.append(j)
            else:
                break
        # two capitalised words (first and last name), or one that a name list or its rarity supports
        if len(got) == 2 and (toks[got[1]].up in note.lex.last or rare(note, got[1])):
            out += mark(i, got, "PATIENT", 0.75)
        elif got and lexical(note, got[0]) and note.up(got[0] + 1) != ".":
            out += mark(i, got[:1], "PATIENT", 0.7)
    return out


def after_honorific(note: NoteView) -> list[Mark]:
    """``MRS. GAUDREAU``, ``Mr Okafor``: a name after an honorific on the same line."""
    toks, n, out = note.toks, note.n, []
    for i in note.where(lx.HONORIFICS):
        if i + 1 >= n or toks[i + 1].up in (":", ",", "-", "("):
            continue
        j = i + 2 if toks[i + 1].up == "." else i + 1
        if j < n and note.same_line(i, j):
            got = take_after(note, j, strict=True)
            if not got and _case_gated_name(note, j):
                got = [j]  # "Mrs. May resting"
            out += mark(i, got, "PATIENT", 0.85)
    return out


def after_relation(note: NoteView) -> list[Mark]:
    """``DAUGHTER PHILOMENA``, ``contact person: Ursla``, ``daughter May called``: a census first name after a relation
    (after clergy, a surname too); noun-like first names ("GIRLFRIEND EVE") unless a number follows (a date)."""
    toks, n, out = note.toks, note.n, []
    for i in note.where(_RELATION_WORDS):
        up = toks[i].up
        if up == "PERSON" and not (i > 0 and toks[i - 1].up == "CONTACT"):
            continue
        j = i + 1
        while j < n and toks[j].up in (",", ":", "(", "-", '"', "IS", "NAMED"):
            j += 1
        if j >= n or not note.same_line(i, j):
            continue
        # after clergy ("RABBI COHEN") a surname will do too
        listed = toks[j].up in note.lex.first or (up in CLERGY and toks[j].up in note.lex.last)
        if namey(note, j) and listed:
            got = take_after(note, j, strict=True)
            if got:
                out += mark(i, got + coordinated(note, got[-1]), "RELATIVE", 0.8)
        elif _case_gated_name(note, j):
            out += mark(i, [j], "RELATIVE", 0.8)
        elif toks[j].up in lx.NOUN_FIRST_NAMES and not note.up(j + 1).isdigit():
            out += mark(i, [j], "RELATIVE", 0.75)  # "GIRLFRIEND EVE IN ALL DAY" (but "DAUGHTER JUNE 5" is a date)
    return out


def after_verbal_cue(note: NoteView) -> list[Mark]:
    """``spoke with Oscar``, ``talked at length to Brandvold``: a capitalised rare word or first name after a verb of
    talking and with/to (up to three ordinary words between)."""
    toks, n, out = note.toks, note.n, []
    for i in note.where(VERBAL_CUES):
        k = i + 1
        while k < n and k - i <= 3 and toks[k].is_word and toks[k].up not in ("WITH", "TO") \
                and toks[k].up in note.lex.common and note.same_line(k - 1, k):
            k += 1
        j = k + 1
        if k < n and toks[k].up in ("WITH", "TO") and j < n and note.same_line(i, j) and namey(note, j) \
                and (rare(note, j) or toks[j].up in note.lex.first) and toks[j].raw[:1].isupper():
            out += mark(i, take_after(note, j, strict=True), "NAME", 0.7)
    return out


def before_trailing_credential(note: NoteView) -> list[Mark]:
    """``anita morris rn``, ``B. KARGAS PA AWARE``: a name before a credential that ends a line or precedes a verb."""
    toks, n, out = note.toks, note.n, []
    for i in note.where(TRAIL_CREDENTIALS):
        if i == 0:
            continue
        nxt = toks[i + 1] if i + 1 < n else None
        if nxt is None or not nxt.is_word or nxt.up in AFTER_NAME or nxt.up in AFTER_CREDENTIAL \
                or not note.same_line(i, i + 1):
            out += mark(i, before_credential(note, i), "CLINICIAN", 0.75)
    return out


def initial_with_period(note: NoteView) -> list[Mark]:
    """``N. GRANDONE AWARE``: an initial, a period, and a rare word that a name list or a cue supports."""
    toks, n, out = note.toks, note.n, []
    for i in range(n - 2):
        if toks[i + 1].up != "." or not initial(note, i, check_start=True):
            continue
        k = i + 2
        cue = (note.up(k + 1) in AFTER_NAME or toks[k].up in note.lex.first or toks[k].up in note.lex.last
               or (i > 0 and toks[i - 1].up in ("PER", "BY", "WITH", "TO", "DR", "CALLED", "PAGED")))
        if namey(note, k) and rare(note, k) and toks[k].start == toks[i + 1].end + 1 and cue:
            out += mark(i, [i] + with_hyphen_part(note, k), "NAME", 0.7)
    return out


def bare_initial_before_verb(note: NoteView) -> list[Mark]:
    """``J SMITH ORDERED``: a capital initial without a period, a census surname, then a verb of the chart."""
    toks, n, out = note.toks, note.n, []
    for i in range(n - 2):
        t = toks[i]
        if len(t.up) == 1 and t.raw.isupper() and toks[i + 2].up in AFTER_BARE_INITIAL \
                and initial(note, i, check_start=True) and toks[i + 1].start == t.end + 1 \
                and namey(note, i + 1) and toks[i + 1].up in note.lex.last:
            out += mark(i, [i, i + 1], "NAME", 0.7)
    return out


def name_before_relation(note: NoteView) -> list[Mark]:
    """``URSLA MORETTI (DAUGHTER)``: one or two name words right before a relation in parentheses."""
    toks, out = note.toks, []
    for i in range(2, note.n - 1):
        if toks[i].up == "(" and toks[i + 1].up in lx.RELATIONS:
            back = [j for j in (i - 1, i - 2) if namey(note, j) and lexical(note, j)]
            if back and back[0] == i - 1:
                out += mark(i, back if len(back) == 2 and back[1] == i - 2 else back[:1], "RELATIVE", 0.7)
    return out


def first_and_surname(note: NoteView) -> list[Mark]:
    """A census first name and a census surname side by side, at least one of them not an ordinary word."""
    toks, lex, out = note.toks, note.lex, []
    for i in range(note.n - 1):
        a, b = toks[i], toks[i + 1]
        if (a.up in lex.first and b.up in lex.last and namey(note, i) and namey(note, i + 1)
                and b.start - a.end <= 1 and (rare(note, i) or rare(note, i + 1))):
            out += mark(i, [i, i + 1], "NAME", 0.6)
    return out


#: Rules tried at every token, in this order (see :func:`rule_kit.in_cue_order`).
CUE_RULES = (after_title, after_patient_cue, after_honorific, after_relation, after_verbal_cue,
             before_trailing_credential, initial_with_period, bare_initial_before_verb)
#: Rules applied after the cue rules, one after the other.
NOTE_RULES = (name_before_relation, first_and_surname)
