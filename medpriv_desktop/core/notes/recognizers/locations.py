"""Locations: hospitals and other facilities, wards, cities, street addresses and zip codes.

A facility keyword (``HOSPITAL``, ``MEDICAL CENTER``, ``REHAB``) is not PHI itself; the words before it that name
the place are. Wards are rare words followed by a floor number after "to"/"from". Cities come from GeoNames with a
place cue ("lives in", "from", ", MD") unless the name is not an ordinary English word.
"""

from __future__ import annotations

import re

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer, Tok, tokens
from medpriv_desktop.core.notes.spans import PhiSpan

_PLACE_CUES = frozenset("IN FROM TO AT NEAR LIVES LIVING RETURNED RETURN VISITING MOVED".split())
_WARD_CUES = frozenset("TO FROM TX : ".split())
_WEAK_KEYWORDS = frozenset("MED MEDICAL HEALTH HEALTHCARE CENTER CENTRE SKILLED NURSING MANOR".split())
_NAMED_KEYWORDS = frozenset("MEMORIAL".split())  # part of the name: "FREDERICK MEMORIAL"
_ORDINARY_CITIES = frozenset("HOME BATH MOBILE NORMAL READING SURPRISE HOPE CENTER UNION MADISON AURORA".split())


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

        def mark(idx: list[int], cat: str, score: float) -> None:
            for i in idx:
                if i not in hits or hits[i][1] < score:
                    hits[i] = (cat, score)

        for i, t in enumerate(toks):
            if (t.up in lx.FACILITY_KEYWORDS or t.up in _NAMED_KEYWORDS) and i > 0:
                j, back = i - 1, []
                while j >= 0 and len(back) < 5 and (toks[j].up not in lx.FACILITY_KEYWORDS or toks[j].up in _NAMED_KEYWORDS):
                    if toks[j].up in (".", "'", "-") and back:
                        j -= 1
                        continue
                    if not self._placey(toks[j]):
                        break
                    back.append(j)
                    j -= 1
                while back and toks[back[-1]].up in ("OF", "THE"):
                    back.pop()
                if t.up in _WEAK_KEYWORDS and not any(
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
                        and not text[d.end: d.end + 4].strip().upper().startswith(("MG", "MCG", "CC", "ML", "L ", "U ", "G "))):
                    mark([i + 1], "WARD", 0.75)
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
            if (i not in hits and t.is_word and len(t.up) >= 4 and t.up in self.cities and t.up not in self.common
                    and t.up not in self.names and t.up not in self.clinical):
                mark([i], "CITY", 0.5)
        # A place word found by a cue is a place everywhere in the note.
        strong = {toks[i].up: c for i, (c, s) in hits.items() if s >= 0.7 and toks[i].up not in lx.FACILITY_NAME_WORDS}
        for i, t in enumerate(toks):
            if i not in hits and t.up in strong:
                mark([i], strong[t.up], 0.6)
        out = [self.span(toks[i].start, toks[i].end, c, s) for i, (c, s) in sorted(hits.items())]
        out += [self.span(m.start(), m.end(), "STREET", 0.85) for m in self.STREET.finditer(text)]
        for m in self.ZIP.finditer(text):
            cue = m.group()[:3].upper()
            if cue == "ZIP" or m.group()[:2].upper() in self.states:
                out.append(self.span(*m.span(1), "ZIP", 0.7))
        return out
