"""Keywords of a note for keyword-based synthesis, each one re-checked for PHI before it may be used.

Order of work (:func:`extract_keywords`):

1. the de-identifier runs over the source and every PHI span becomes a tag (``[NAME]``), so no PHI value is even a
   candidate; tags break n-grams, so no keyword straddles one;
2. candidates: clinical list terms found in the text (:mod:`.terms`) first, then YAKE phrases (:mod:`.yake_scores`);
3. every candidate passes the gate (:class:`KeywordGate`): no digits, no tag, no PHI span when the de-identifier is
   run over the keyword alone and inside a neutral carrier sentence, every word known to a vocabulary (clinical
   lists, the common-word lexicon), and no first-name + surname pattern. Rejected keywords are counted, never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.notes.synth.terms import find_terms, term_kind, vocabulary
from medpriv_desktop.core.notes.synth.yake_scores import yake_keywords

_DIGIT = re.compile(r"\d")
_TAG = re.compile(r"\[[A-Z_]+\]|[\[\]]")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'/-]*")
#: Order in which list terms fill the keyword budget.
KIND_PRIORITY = {"finding": 0, "negated": 0, "condition": 1, "symptom": 1, "procedure": 2, "medication": 2,
                 "vital": 3, "care": 3, "anatomy": 4}
#: Sentences the keyword is placed in for the second check (names and places often need context to be seen).
CARRIERS = ("{kw}", "Seen by {kw} today.", "Transferred from {kw}.")


class PhiDetector(Protocol):
    """Anything that finds PHI spans in a text (the de-identification engine, or a stand-in in tests)."""

    def analyze(self, text: str) -> list[PhiSpan]:  # pragma: no cover - protocol
        """PHI spans of ``text``."""
        ...


@dataclass(frozen=True)
class Keyword:
    """One keyword: the phrase (lower case), the clinical list it belongs to (``"yake"`` when none) and its rank."""

    text: str
    kind: str
    rank: int


@dataclass
class KeywordResult:
    """Accepted keywords plus counts of what the gate refused (counts only: refused text is never kept)."""

    keywords: list[Keyword]
    n_phi_spans: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


def tag_phi(text: str, spans: list[PhiSpan]) -> str:
    """``text`` with each span replaced by its tag (kept local so the keyword path never depends on an operator's
    output format)."""
    out, pos = [], 0
    for s in sorted(spans):
        if s.start < pos:
            continue
        out.append(text[pos:s.start])
        out.append(f" [{s.tag}] ")
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


class KeywordGate:
    """Decides whether one keyword may be used (see the module docstring)."""

    def __init__(self, detector: PhiDetector | None, use_vocabulary: bool = True) -> None:
        self.detector = detector
        self.use_vocabulary = use_vocabulary
        self._known: frozenset[str] | None = None
        self._first: frozenset[str] = frozenset()
        self._last: frozenset[str] = frozenset()
        self._places: frozenset[str] = frozenset()
        self._clinical: frozenset[str] | None = None
        self._memo: dict[str, str | None] = {}  # keyword -> decision; kept in memory only, never written

    def _lexicons(self) -> frozenset[str]:
        if self._known is None:
            known = set(vocabulary())
            try:  # the de-identifier's public word lists; the gate still works (stricter) without them
                from medpriv_desktop.core.notes import lexicons

                known |= set(lexicons.common_words()) | set(lexicons.clinical_words())
                self._first = lexicons.first_names()
                self._last = lexicons.surnames()
                self._places = lexicons.cities() | lexicons.states()
            except ImportError:
                pass
            self._known = frozenset(known)
        return self._known

    def _clinical_words(self) -> frozenset[str]:
        if self._clinical is None:
            clinical = set(vocabulary())
            try:
                from medpriv_desktop.core.notes import lexicons

                clinical |= set(lexicons.clinical_words())
            except ImportError:
                pass
            self._clinical = frozenset(clinical)
        return self._clinical

    def check(self, keyword: str) -> str | None:
        """None when ``keyword`` may be used, else the reason (a short code, no text)."""
        if keyword not in self._memo:
            if len(self._memo) > 50_000:
                self._memo.clear()
            self._memo[keyword] = self._decide(keyword)
        return self._memo[keyword]

    def _decide(self, keyword: str) -> str | None:
        if _DIGIT.search(keyword):
            return "digits"
        if _TAG.search(keyword):
            return "tag"
        words = [w.upper() for w in _WORDS.findall(keyword)]
        if not words:
            return "empty"
        clinical = term_kind(keyword) is not None or (keyword.startswith("no ") and term_kind(keyword[3:]) is not None)
        if self.use_vocabulary and not clinical:
            known = self._lexicons()
            if any(w not in known for w in words):
                return "unknown-word"
            if len(words) >= 2 and words[0] in self._first and words[-1] in self._last \
                    and not any(term_kind(w) for w in words):
                return "name-pattern"
            clinical_words = self._clinical_words()
            if any(len(w) == 1 for w in words):
                return "initial"  # "j smith", "u of md": initials are how names and places hide
            # A free keyword (not from the clinical lists) holding a word that is also a first name, surname or
            # city is dropped: the de-identifier may have missed it, and the note loses little.
            if any(w not in clinical_words and (w in self._first or w in self._last or w in self._places)
                   for w in words):
                return "name-word"
        if self.detector is not None:
            for carrier in CARRIERS:
                if self._hit_inside(carrier, keyword):
                    return "phi"
        return None

    def _hit_inside(self, carrier: str, keyword: str) -> bool:
        """True when a span found in the carrier sentence overlaps the keyword itself (not the carrier words)."""
        start = carrier.index("{kw}")
        end = start + len(keyword)
        return any(s.start < end and s.end > start for s in self.detector.analyze(carrier.format(kw=keyword)))


def extract_keywords(text: str, detector: PhiDetector | None, max_keywords: int = 20,
                     gate: KeywordGate | None = None, already_deidentified: bool = False) -> KeywordResult:
    """PHI-checked keywords of ``text`` (see the module docstring). ``detector`` None is allowed only for text that
    is ``already_deidentified``; every keyword still passes the vocabulary gate."""
    if detector is None and not already_deidentified:
        raise ValueError("a PHI detector is required unless the text is already de-identified")
    spans = detector.analyze(text) if detector is not None and not already_deidentified else []
    clean = tag_phi(text, spans)
    gate = gate or KeywordGate(detector)
    rejected: dict[str, int] = {}
    seen: set[str] = set()
    out: list[Keyword] = []
    # Findings and diagnoses carry the meaning of a note; anatomy and ward routine come last (stable sort keeps
    # text order inside a kind).
    terms = sorted(((p, k) for p, k, _ in find_terms(clean)), key=lambda t: KIND_PRIORITY.get(t[1], 9))
    # List terms first, but leave room for YAKE's note-specific phrases (about 30% of the budget).
    cap = max(1, (7 * max_keywords) // 10)
    candidates = terms[:cap] + [(p, term_kind(p) or "yake") for p, _ in yake_keywords(clean, top=max_keywords * 2)]
    candidates += terms[cap:]
    for phrase, kind in candidates:
        key = phrase.lower().strip()
        if key in seen:
            continue
        seen.add(key)
        words = set(key.split())
        if any(words <= set(k.text.split()) for k in out):
            continue  # part of a keyword already taken ("effusion" after "no pleural effusion")
        reason = gate.check(key)
        if reason is not None:
            rejected[reason] = rejected.get(reason, 0) + 1
            continue
        out.append(Keyword(key, kind, len(out)))
        if len(out) >= max_keywords:
            break
    return KeywordResult(out, n_phi_spans=len(spans), rejected=rejected)
