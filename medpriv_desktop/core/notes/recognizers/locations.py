"""Locations: hospitals and other facilities, wards, cities, street addresses and zip codes.

A facility keyword (``HOSPITAL``, ``MEDICAL CENTER``, ``REHAB``) is not PHI itself; the words before it that name
the place are. Wards are rare words followed by a floor number after "to"/"from". Cities come from GeoNames with a
place cue ("lives in", "from", ", MD") unless the name is not an ordinary English word.
"""

from __future__ import annotations

import re

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer, Tok, cased_note, tokens
from medpriv_desktop.core.notes.spans import PhiSpan

_PLACE_CUES = frozenset("IN FROM TO AT NEAR LIVES LIVING RETURNED RETURN VISITING MOVED".split())
_WARD_CUES = frozenset("TO FROM TX : ".split())
_WEAK_KEYWORDS = frozenset("MED MEDICAL HEALTH HEALTHCARE CENTER CENTRE SKILLED NURSING MANOR".split())
_NAMED_KEYWORDS = frozenset("MEMORIAL".split())  # part of the name: "FREDERICK MEMORIAL"
_ORDINARY_CITIES = frozenset("HOME BATH MOBILE NORMAL READING SURPRISE HOPE CENTER UNION MADISON AURORA".split())
#: Two keywords that together make a strong facility ending ("KESSLER MEDICAL CENTER", "U OF MD MED CENTER").
_STRONG_PAIRS = frozenset({("MEDICAL", "CENTER"), ("MED", "CENTER"), ("MEDICAL", "CENTRE"), ("HEALTH", "CENTER"),
                           ("NURSING", "HOME"), ("SKILLED", "NURSING"), ("HEALTH", "SYSTEM"), ("REHAB", "CENTER"),
                           ("REHABILITATION", "CENTER"), ("MEDICAL", "CAMPUS")})
#: Building words: "X BUILDING" and "XBuilding" name a place when X is not an ordinary word.
_BUILDING_WORDS = ("BUILDING", "TOWER", "PAVILION", "WING", "HALL")
_CAMEL_PLACE = re.compile(r"[A-Z][a-z]{2,}(?:Building|Tower|Pavilion|Hospital|Center|Clinic|Hall)\b")
#: "her friend's house": the owner of a dwelling is a location in the chart's sense.
_DWELLINGS = frozenset("HOUSE HOME APARTMENT APT CONDO PLACE FARM".split())
#: Verbs of moving a patient: "C/O TO X", "TRANSFER TO X" name a ward or unit.
_TRANSFER_VERBS = frozenset("TRANSFER TRANSFERRED TRANSFERED TX XFER XFERRED MOVE MOVED O".split())
_UNIT_AFTER = re.compile(r"\s*(?:MG|MCG|MEQ|CC|ML|L\b|U\b|UNITS?|G\b|GM|GMS|TABS?|PUFFS?|AMPS?|%|X\b|\.\d|/)", re.I)


class LocationRecognizer(MedPrivRecognizer):
    """Facilities, wards, cities, streets and zip codes."""

    NAME = "locations"
    CATEGORIES = ("HOSPITAL", "WARD", "CITY", "STREET", "ZIP", "LOCATION", "ORGANIZATION")

    STREET = re.compile(
        r"\b\d{1,6}[ \t]+(?:[NSEW]\.?[ \t]+)?(?:[A-Za-z][A-Za-z'\-]*[ \t]+){1,3}(?:" + "|".join(
            sorted((re.escape(s) for s in lx.STREET_SUFFIXES), key=len, reverse=True)) + r")\b\.?", re.I)
    ZIP = re.compile(r"\b(?:ZIP(?:\s*CODE)?:?\s*|[A-Z]{2},?[ \t]+)(\d{5}(?:-\d{4})?)\b", re.I)
    HOSPITAL_PHRASES = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in lx.HOSPITAL_NAMES) + r")\b", re.I)

    def __init__(self) -> None:
        super().__init__()
        self.common = lx.common_words()
        self.cities = lx.cities()
        self.names = lx.first_names() | lx.surnames()
        self.clinical = lx.clinical_words()
        self.states = lx.states()
        self._triggers = (lx.FACILITY_KEYWORDS | _NAMED_KEYWORDS | lx.HOSPITAL_ABBREVIATIONS | _WARD_CUES | _PLACE_CUES
                          | frozenset(_BUILDING_WORDS) | {"GH", "TO", ","})

    def _placey(self, t: Tok) -> bool:
        if not t.is_word or (t.up in lx.NOT_NAMES or t.up in self.clinical) and t.up not in lx.FACILITY_NAME_WORDS:
            return False
        titled = t.raw[:1].isupper() and t.raw[1:].islower()  # "Carpenter" in mixed-case text
        return (t.up in lx.FACILITY_NAME_WORDS or t.up not in self.common or t.up in self.cities
                or t.up in self.states or (titled and t.up in self.names))

    def find(self, text: str) -> list[PhiSpan]:
        toks = tokens(text)
        n = len(toks)
        hits: dict[int, tuple[str, float]] = {}
        cased = cased_note(text)
        dwellers: list[tuple[int, int]] = []

        def capital(t: Tok) -> bool:
            # in a note written in mixed case, facility names are capitalised ("heart health diet" is not one)
            return not cased or t.raw[:1].isupper() or t.up in ("OF", "THE")

        def mark(idx: list[int], cat: str, score: float) -> None:
            for i in idx:
                if i not in hits or hits[i][1] < score:
                    hits[i] = (cat, score)

        # only tokens that can start a rule are visited (a word before a one-digit floor number included)
        cand = {i for i, t in enumerate(toks) if t.up in self._triggers or t.up.endswith("'S")}
        cand.update(i - 1 for i, t in enumerate(toks) if i and len(t.up) == 1 and t.up.isdigit())
        for i in sorted(cand):
            t = toks[i]
            if (t.up in lx.FACILITY_KEYWORDS or t.up in _NAMED_KEYWORDS) and i > 0 \
                    and not (toks[i - 1].up in lx.FACILITY_KEYWORDS and toks[i - 1].up not in _NAMED_KEYWORDS):
                # the first keyword of a run ("MEDICAL CENTER"): walk back over the words naming the place
                strong_pair = i + 1 < n and (t.up, toks[i + 1].up) in _STRONG_PAIRS
                j, back = i - 1, []
                while j >= 0 and len(back) < 5 and (toks[j].up not in lx.FACILITY_KEYWORDS or toks[j].up in _NAMED_KEYWORDS):
                    if toks[j].up in (".", "'", "-") and back:
                        j -= 1
                        continue
                    tj = toks[j]
                    # "UNIVERSITY OF MD", "U OF MD": a state code after OF, a bare U before OF
                    state_after_of = j > 0 and toks[j - 1].up == "OF" and tj.up in self.states
                    u_before_of = tj.up == "U" and j + 1 < n and toks[j + 1].up == "OF"
                    if not (state_after_of or u_before_of or self._placey(tj)) \
                            or (t.up in _WEAK_KEYWORDS and not strong_pair and not capital(tj)):
                        break
                    back.append(j)
                    j -= 1
                while back and toks[back[-1]].up in ("OF", "THE"):
                    back.pop()
                if t.up in _WEAK_KEYWORDS and not strong_pair and not any(
                        toks[b].up in lx.FACILITY_NAME_WORDS or toks[b].up in self.cities or toks[b].up in self.states
                        for b in back):
                    back = []
                if back and any(toks[b].up not in ("OF", "ST", "ST.", "SAINT", "THE") for b in back):
                    mark(back + ([i] if t.up in _NAMED_KEYWORDS else []), "HOSPITAL", 0.8)
            elif t.up in lx.HOSPITAL_ABBREVIATIONS and t.raw.isupper() or t.up in ("GH",):
                mark([i], "HOSPITAL", 0.75)
            elif t.up in _WARD_CUES and i + 2 < n:
                w, d = toks[i + 1], toks[i + 2]
                after = text[d.end: d.end + 1]
                if (w.is_word and w.up not in self.common and w.up not in lx.NOT_NAMES and w.up not in self.clinical
                        and d.up.isdigit() and len(d.up) == 1 and d.start > w.end and not after.isalnum()
                        and not _UNIT_AFTER.match(text, d.end)):
                    mark([i + 1], "WARD", 0.75)
            if t.up == "TO" and i + 1 < n and i > 0 and toks[i - 1].up in _TRANSFER_VERBS \
                    and (toks[i - 1].up != "O" or (i > 2 and toks[i - 2].up == "/" and toks[i - 3].up == "C")):
                w = toks[i + 1]  # "c/o to quartermain", "transfer to Weinberg"
                if w.is_word and len(w.up) >= 4 and w.up not in self.common and w.up not in lx.NOT_NAMES \
                        and w.up not in self.clinical and capital(w) and text[w.end: w.end + 1] != "/":
                    mark([i + 1], "WARD", 0.75)
            if t.is_word and i + 1 < n and toks[i + 1].up.isdigit() and len(toks[i + 1].up) == 1 \
                    and t.up not in self.common and t.up not in self.clinical and t.up not in lx.NOT_NAMES \
                    and len(t.up) >= 4 and toks[i + 1].start == t.end + 1 \
                    and (i == 0 or toks[i - 1].up in (",", ";") or "\n" in text[toks[i - 1].end: t.start]) \
                    and re.match(r"[ \t]*(?:\n|$)", text[toks[i + 1].end:]):
                mark([i], "WARD", 0.7)  # "..., weinberg 4" closing a line: a ward and its floor
            if t.up in _BUILDING_WORDS and i > 0 and capital(toks[i - 1]) and toks[i - 1].is_word \
                    and toks[i - 1].up not in self.common and toks[i - 1].up not in self.clinical:
                mark([i - 1], "LOCATION", 0.75)
            if t.up.endswith("'S") and i + 1 < n and toks[i + 1].up in _DWELLINGS:
                base = t.up[:-2]
                if len(base) >= 2 and base not in lx.NOT_NAMES and base not in self.clinical and capital(t) \
                        and (base in self.names or base not in self.common) and text[t.start - 1: t.start] != "-":
                    idx = [i]
                    if i > 0 and toks[i - 1].is_word and toks[i - 1].up in self.names and capital(toks[i - 1]) \
                            and toks[i - 1].up not in lx.NOT_NAMES and "\n" not in text[toks[i - 1].end: t.start]:
                        idx.insert(0, i - 1)
                    dwellers += [(toks[k].start, toks[k].end - (2 if k == i else 0)) for k in idx]
            if t.up in _PLACE_CUES and i + 1 < n:
                # one to three words that form a GeoNames city; "from"/"lives in" also allow ordinary-word cities
                strong_cue = t.up == "FROM" or (t.up == "IN" and i > 0 and toks[i - 1].up in ("LIVES", "LIVING", "LIVE", "RESIDES"))
                for width in (3, 2, 1):
                    if i + width < n:
                        words = toks[i + 1: i + 1 + width]
                        if all(w.is_word for w in words):
                            phrase = " ".join(w.up for w in words)
                            titled = all(w.raw[:1].isupper() and w.raw[1:].islower() for w in words)
                            ok_word = phrase not in self.common or ((strong_cue or titled) and phrase not in lx.NOT_NAMES
                                                                    and phrase not in _ORDINARY_CITIES)
                            if phrase in self.cities and (width > 1 or ok_word) and phrase not in self.clinical:
                                mark(list(range(i + 1, i + 1 + width)), "CITY", 0.75)
                                break
            if t.up == "," and 0 < i < n - 1 and toks[i + 1].up in self.states and len(toks[i + 1].up) == 2 \
                    and (i + 2 >= n or not toks[i + 2].is_word or "\n" in text[toks[i + 1].end: toks[i + 2].start]):
                for width in (3, 2, 1):
                    if i - width >= 0 and all(w.is_word for w in toks[i - width: i]):
                        if " ".join(w.up for w in toks[i - width: i]) in self.cities:
                            mark(list(range(i - width, i)), "CITY", 0.75)
                            break
        # "BALTIMORE REHAB AND KIMBROUGH": a second facility joined by and/or
        for i in range(2, n - 1):
            if toks[i].up in ("AND", "OR") and toks[i - 1].up in lx.FACILITY_KEYWORDS and (i - 2) in hits:
                w = toks[i + 1]
                if w.is_word and w.up not in self.common and w.up not in self.clinical:
                    mark([i + 1], "HOSPITAL", 0.7)
        by_start = None
        for m in self.HOSPITAL_PHRASES.finditer(text):
            by_start = by_start or {t.start: k for k, t in enumerate(toks)}
            k = by_start.get(m.start())
            while k is not None and k < n and toks[k].end <= m.end():
                if toks[k].is_word:
                    mark([k], "HOSPITAL", 0.7)
                k += 1
        for i, t in enumerate(toks):
            if (t.up in self.cities and i not in hits and t.is_word and len(t.up) >= 4 and t.up not in self.common
                    and t.up not in self.names and t.up not in self.clinical):
                mark([i], "CITY", 0.5)
        # A place word found by a cue is a place everywhere in the note.
        strong = {toks[i].up: c for i, (c, s) in hits.items()
                  if s >= 0.7 and toks[i].up not in lx.FACILITY_NAME_WORDS and len(toks[i].up) > 1}
        for i, t in enumerate(toks if strong else ()):
            if t.up in strong and i not in hits:
                mark([i], strong[t.up], 0.6)
        out = [self.span(toks[i].start, toks[i].end, c, s) for i, (c, s) in sorted(hits.items())]
        out += [self.span(m.start(), m.end(), "LOCATION", 0.7) for m in _CAMEL_PLACE.finditer(text)]
        out += [self.span(s, e, "LOCATION", 0.7) for s, e in dwellers]
        out += [self.span(m.start(), m.end(), "STREET", 0.85) for m in self.STREET.finditer(text)]
        for m in self.ZIP.finditer(text):
            cue = m.group()[:3].upper()
            if cue == "ZIP" or m.group()[:2].upper() in self.states:
                out.append(self.span(*m.span(1), "ZIP", 0.7))
        return out
