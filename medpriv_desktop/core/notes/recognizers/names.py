"""Person names from context and public name lists, built for UPPER CASE nursing notes where capitals say nothing.

Cues, strongest first: a clinician title before the name (``DR``, ``HO``, ``MD``), an honorific (``MR``, ``MRS``),
a relation (``SON``, ``DAUGHTER``, ``WIFE``), a credential after it (``... RN``, ``B. KARGAS PA``), an initial
(``N. GRANDONE``), and a census first name followed by a census surname. A word found by a strong cue is then
tagged everywhere else in the same note. Words on the clinical list (drugs, devices, abbreviations) are never names.
"""

from __future__ import annotations

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer, Tok, cased_note, tokens
from medpriv_desktop.core.notes.spans import PhiSpan

_LEAD_TITLES = frozenset("DR DRS DOCTOR HO MD NURSE ATTENDING RESIDENT INTERN FELLOW PCP SURGEON PROVIDER".split())
_WEAK_LEAD = frozenset("NP PA RN".split())  # also nasal prongs, pulmonary artery, ...: need a name-like word
_TRAIL_CREDENTIALS = frozenset("RN RRT MD NP PA LPN CNA SW LICSW PHD PHARMD".split())
_SKIP = frozenset(". : ' , ( \" #".split())
_AFTER_NAME = frozenset("AWARE NOTIFIED NOTIFED INFORMED MD NP PA RN RRT , ) CALLED PAGED".split())
_AFTER_CREDENTIAL = frozenset("SPOKE IN HERE ORDERED SAID STATES STATED WAS CAME SAW TO AT ON FOLLOWING".split())
_CLERGY = frozenset("RABBI PRIEST CHAPLAIN PASTOR REV REVEREND FR".split())
_TITLECASE_WORDS = frozenset("""AM PM ICU CCU MICU SICU I IV PO CT MRI EKG ECG ABG BP HR RR""".split())
#: First names that are also chart words (evening, months): names only right after a relation word. Not MAY or
#: WILL, which follow relations as verbs ("DAUGHTER MAY VISIT").
_NOUN_FIRST_NAMES = frozenset("EVE JUNE APRIL AUGUST".split())
#: Words that introduce the patient's name in mixed-case notes ("Patient Carlos Kowalski"); capitalised names only.
_PATIENT_CUES = frozenset("PATIENT PT PATIENT'S".split())
_VERBAL_CUES = frozenset("SPOKE SPOKEN SPEAKING TALKED TALKING MET MEETING CALLED PAGED DISCUSSED".split())
#: Verbs after "INITIAL SURNAME" without a period ("J SMITH ORDERED ...").
_AFTER_BARE_INITIAL = frozenset("AWARE NOTIFIED NOTIFED INFORMED ORDERED CALLED PAGED SAID STATES STATED "
                                "RECOMMENDS RECOMMENDED".split())


def _titled(t: Tok) -> bool:
    return t.raw[:1].isupper() and t.raw[1:].islower()


class NameRecognizer(MedPrivRecognizer):
    """Patient, clinician and relative names."""

    NAME = "names"
    CATEGORIES = ("PATIENT", "CLINICIAN", "RELATIVE", "NAME")

    def __init__(self) -> None:
        super().__init__()
        self.first = lx.first_names()
        self.last = lx.surnames()
        self.common = lx.common_words()
        self.clinical = lx.clinical_words()

    # -- word tests -----------------------------------------------------------------------------------------------

    def _namey(self, t: Tok) -> bool:
        base = t.up[:-2] if t.up.endswith("'S") else t.up
        if "'" in base and not base.startswith(("O'", "D'")):
            return False  # CON'T, DIDN'T
        return (t.is_word and len(base) >= 2 and base not in lx.NOT_NAMES and base not in lx.MONTHS
                and base not in self.clinical)

    def _rare(self, t: Tok) -> bool:
        return t.up not in self.common

    def _lexical(self, t: Tok) -> bool:
        """A census name or a rare word (most rare words next to a name cue are names)."""
        return t.up in self.first or t.up in self.last or self._rare(t)

    def _initial(self, toks: tuple[Tok, ...], i: int, text: str = "") -> bool:
        if not (0 <= i < len(toks) and toks[i].is_word and len(toks[i].up) == 1 and toks[i].up not in ("A", "I", "X")):
            return False
        if self._cased and not toks[i].raw.isupper():
            return False  # "absent to l." in a note written in mixed case
        # "80's" ends in a one-letter token too: an initial starts a word
        return not text or toks[i].start == 0 or text[toks[i].start - 1] in " \t\n(\"-,>"

    def _next_word(self, toks: tuple[Tok, ...], i: int) -> int:
        while i < len(toks) and toks[i].up in _SKIP:
            i += 1
        return i

    # -- rules ----------------------------------------------------------------------------------------------------

    def _with_hyphen_part(self, toks: tuple[Tok, ...], k: int) -> list[int]:
        """``RETTERER-MOORE``: the part after a hyphen joined without spaces."""
        if k + 2 < len(toks) and toks[k + 1].up == "-" and toks[k + 1].start == toks[k].end \
                and toks[k + 2].start == toks[k + 1].end and self._namey(toks[k + 2]) and self._lexical(toks[k + 2]):
            return [k, k + 2]
        return [k]

    def _take_after(self, toks: tuple[Tok, ...], j: int, strict: bool) -> list[int]:
        """Indices of the name tokens starting at ``j`` (initial + surname, first + last, or one word)."""
        n = len(toks)
        if j >= n:
            return []
        if self._initial(toks, j):
            k = self._next_word(toks, j + 1)
            if k < n and k - j <= 2 and self._namey(toks[k]) and self._lexical(toks[k]):
                return [j] + self._with_hyphen_part(toks, k)
            return []
        if not self._namey(toks[j]) or not self._lexical(toks[j]):
            return []
        if strict == "rare" and not self._rare(toks[j]):
            return []
        got = self._with_hyphen_part(toks, j)
        k = got[-1] + 1
        if k < n and self._namey(toks[k]) and toks[k].start - toks[got[-1]].end <= 2:
            if (toks[k].up in self.last and (self._rare(toks[k]) or toks[j].up in self.first)) or self._rare(toks[k]):
                got += self._with_hyphen_part(toks, k)
        return got

    def _coordinated(self, toks: tuple[Tok, ...], last: int) -> list[int]:
        """``Dr. Rakusin and Toolis``: a second name joined by and/&."""
        k = last + 1
        if k + 1 < len(toks) and toks[k].up in ("AND", "&") and self._namey(toks[k + 1]):
            if self._rare(toks[k + 1]) or toks[k + 1].up in self.first:
                return [k + 1]
        return []

    def _before_credential(self, toks: tuple[Tok, ...], i: int, text: str) -> list[int]:
        """``anita morris rn``, ``B. KARGAS PA AWARE``, ``HERMAN W. EMPERATRICE, RRT``."""
        j = i - 1
        if j >= 0 and toks[j].up == ",":
            j -= 1
        back: list[int] = []
        while j >= 0 and len(back) < 4 and "\n" not in text[toks[j].end: toks[min(j + 1, len(toks) - 1)].start]:
            tj = toks[j]
            if tj.up in (".", "-") and back:
                j -= 1
                continue
            if self._initial(toks, j) or (self._namey(tj) and self._lexical(tj)):
                back.append(j)
                j -= 1
                continue
            break
        words = [b for b in back if len(toks[b].up) > 1]
        if words and (any(self._rare(toks[b]) for b in words) or len(back) >= 2):
            return back
        return []

    _cased = False

    def find(self, text: str) -> list[PhiSpan]:
        toks = tokens(text)
        n = len(toks)
        self._cased = cased = cased_note(text)
        hits: dict[int, tuple[str, float]] = {}

        def mark(idx: list[int], cat: str, score: float) -> None:
            for i in idx:
                if i not in hits or hits[i][1] < score:
                    hits[i] = (cat, score)

        for i, t in enumerate(toks):
            up = t.up
            if up in _LEAD_TITLES or up in _WEAK_LEAD:
                j = self._next_word(toks, i + 1) if up not in _WEAK_LEAD else i + 1
                same_line = j < n and "\n" not in text[t.end: toks[j].start]
                strict = True
                if up in _WEAK_LEAD:
                    follow = toks[j + 1].up if j + 1 < n else ""
                    strict = True if follow in _AFTER_NAME else "rare"
                got = self._take_after(toks, j, strict=strict) if same_line else []
                if not got and same_line and cased and up in _LEAD_TITLES and j + 1 < n and _titled(toks[j]) \
                        and toks[j].up in self.first and _titled(toks[j + 1]) and self._namey(toks[j + 1]) \
                        and toks[j + 1].start - toks[j].end == 1 and toks[j + 1].up in self.last:
                    got = [j, j + 1]  # "Dr Will Cole": a capitalised first name that is also an English word
                if got:
                    mark(got + self._coordinated(toks, got[-1]), "CLINICIAN", 0.9 if up not in _WEAK_LEAD else 0.7)
            if cased and up in _PATIENT_CUES and i + 1 < n and "\n" not in text[t.end: toks[i + 1].start]:
                # "Patient Pieter Tanaka (MRN ...)": in a mixed-case note, capitalised words right after "patient"
                got = []
                for j in (i + 1, i + 2):
                    if j < n and _titled(toks[j]) and self._namey(toks[j]) and toks[j].up not in _TITLECASE_WORDS \
                            and (not got or toks[j].start - toks[got[-1]].end == 1):
                        got.append(j)
                    else:
                        break
                # two capitalised words (first and last name), or one that a name list or its rarity supports
                if len(got) == 2 and (toks[got[1]].up in self.last or self._rare(toks[got[1]])):
                    mark(got, "PATIENT", 0.75)
                elif got and self._lexical(toks[got[0]]) and not (got[0] + 1 < n and toks[got[0] + 1].up == "."):
                    mark(got[:1], "PATIENT", 0.7)
            if up in lx.HONORIFICS and i + 1 < n and toks[i + 1].up not in (":", ",", "-", "("):
                j = i + 2 if toks[i + 1].up == "." else i + 1
                if j < n and "\n" not in text[t.end: toks[j].start]:
                    mark(self._take_after(toks, j, strict=True), "PATIENT", 0.85)
            if up in lx.RELATIONS or (up == "PERSON" and i > 0 and toks[i - 1].up == "CONTACT"):
                j = i + 1
                while j < n and toks[j].up in (",", ":", "(", "-", '"', "IS", "NAMED"):
                    j += 1
                allowed = self.first | self.last if up in _CLERGY else self.first
                if j < n and self._namey(toks[j]) and toks[j].up in allowed and "\n" not in text[t.end: toks[j].start]:
                    got = self._take_after(toks, j, strict=True)
                    if got:
                        mark(got + self._coordinated(toks, got[-1]), "RELATIVE", 0.8)
                elif j < n and toks[j].up in _NOUN_FIRST_NAMES and "\n" not in text[t.end: toks[j].start] \
                        and not (j + 1 < n and toks[j + 1].up.isdigit()):
                    mark([j], "RELATIVE", 0.75)  # "GIRLFRIEND EVE IN ALL DAY" (but "DAUGHTER JUNE 5" is a date)
            if up in _VERBAL_CUES:
                # "spoke with X", "spoken extensively with X", "talked at length to X"
                k = i + 1
                while k < n and k - i <= 3 and toks[k].is_word and toks[k].up not in ("WITH", "TO") \
                        and toks[k].up in self.common and "\n" not in text[toks[k - 1].end: toks[k].start]:
                    k += 1
                j = k + 1
                if k < n and toks[k].up in ("WITH", "TO") and j < n and "\n" not in text[t.end: toks[j].start] \
                        and self._namey(toks[j]) and (self._rare(toks[j]) or toks[j].up in self.first) \
                        and toks[j].raw[:1].isupper():
                    mark(self._take_after(toks, j, strict=True), "NAME", 0.7)
            if up in _TRAIL_CREDENTIALS and i > 0:
                nxt = toks[i + 1] if i + 1 < n else None
                if nxt is None or not nxt.is_word or nxt.up in _AFTER_NAME or nxt.up in _AFTER_CREDENTIAL \
                        or "\n" in text[t.end: nxt.start]:
                    mark(self._before_credential(toks, i, text), "CLINICIAN", 0.75)
            if self._initial(toks, i, text) and i + 2 < n and toks[i + 1].up == ".":
                k = i + 2
                follow = toks[k + 1].up if k + 1 < n else ""
                cue = (follow in _AFTER_NAME or toks[k].up in self.first or toks[k].up in self.last
                       or (i > 0 and toks[i - 1].up in ("PER", "BY", "WITH", "TO", "DR", "CALLED", "PAGED")))
                if self._namey(toks[k]) and self._rare(toks[k]) and toks[k].start == toks[i + 1].end + 1 and cue:
                    mark([i] + self._with_hyphen_part(toks, k), "NAME", 0.7)
            # "J SMITH ORDERED": a capital initial without a period, a census surname, then a verb of the chart
            if len(up) == 1 and t.raw.isupper() and i + 2 < n and toks[i + 2].up in _AFTER_BARE_INITIAL \
                    and self._initial(toks, i, text) and toks[i + 1].start == t.end + 1 \
                    and self._namey(toks[i + 1]) and toks[i + 1].up in self.last:
                mark([i, i + 1], "NAME", 0.7)
        # "URSLA MORETTI (DAUGHTER)": a name right before a relation in parentheses.
        for i in range(2, n - 1):
            if toks[i].up == "(" and toks[i + 1].up in lx.RELATIONS:
                back = [j for j in (i - 1, i - 2) if self._namey(toks[j]) and self._lexical(toks[j])]
                if back and back[0] == i - 1:
                    mark(back if len(back) == 2 and back[1] == i - 2 else back[:1], "RELATIVE", 0.7)
        # Census first name + census surname, at least one of them not an ordinary word.
        for i in range(n - 1):
            a, b = toks[i], toks[i + 1]
            if (a.up in self.first and b.up in self.last and self._namey(a) and self._namey(b)
                    and b.start - a.end <= 1 and (self._rare(a) or self._rare(b))):
                mark([i, i + 1], "NAME", 0.6)
        # Mixed-case notes: a capitalised census first name inside a sentence ("once Natalie woke up").
        if cased:
            for i, t in enumerate(toks):
                if (i not in hits and i > 0 and t.raw[:1].isupper() and t.raw[1:].islower() and len(t.up) >= 3
                        and t.up in self.first and self._namey(t) and toks[i - 1].up not in (".", ":", "!", "?", "-", "*")
                        and "\n" not in text[toks[i - 1].end: t.start] and t.up not in _TITLECASE_WORDS
                        and t.up not in lx.states()):
                    mark([i], "NAME", 0.55)
            # ... and the capitalised surname right after a first name found by any rule ("Carlos Kowalski").
            for i in sorted(hits):
                k = i + 1
                if (k < n and k not in hits and toks[i].up in self.first and _titled(toks[k]) and self._namey(toks[k])
                        and toks[k].start - toks[i].end == 1 and (toks[k].up in self.last or self._rare(toks[k]))
                        and toks[k].up not in _TITLECASE_WORDS and toks[k].up not in lx.states()):
                    mark(self._with_hyphen_part(toks, k), hits[i][0], hits[i][1])
        # A word named anywhere in the note by a strong cue is a name everywhere in it.
        strong = {toks[i].up: c for i, (c, s) in hits.items() if s >= 0.7 and len(toks[i].up) > 1 and self._namey(toks[i])}
        for i, t in enumerate(toks):
            if i not in hits and t.up in strong and t.is_word:
                mark([i], strong[t.up], 0.65)
        return [self.span(toks[i].start, toks[i].end, c, s) for i, (c, s) in sorted(hits.items())]
