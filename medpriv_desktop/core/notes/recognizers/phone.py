"""Telephone, fax and pager numbers: US formats with or without area code, and short pager numbers after a cue.
Numbers with spaces inside their groups ("617- 555- 0199", "617 5550199") and extensions ("x2231") are weak
candidates: PHI only with a phone word among the five words before them (Presidio's context enhancer, ``base.py``)."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes.recognizers.base import WEAK_SCORE, MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan


class PhoneRecognizer(MedPrivRecognizer):
    """Phone, fax and pager numbers."""

    NAME = "phone"
    CATEGORIES = ("PHONE", "FAX")
    #: Words that make a weak candidate a phone number ("call" is a stop word, which Presidio skips).
    CONTEXT = ("phone", "tel", "telephone", "cell", "mobile", "pager", "page", "paged", "beeper", "fax", "contact",
               "reached", "called", "ext", "extension", "number", "home", "work")

    FULL = re.compile(r"(?<![\w/.])(?:\+?1[\s\-.])?(?:\(\d{3}\)\s*|\d{3}[\s\-./]{0,2})\d{3}[\s\-./]\d{4}(?![\w/]|\.\d)")
    SEVEN = re.compile(r"(?<![\w/.\-])\d{3}-\d{4}(?![\w/\-]|\.\d)")
    EXT = re.compile(r"\b(?:EXT|X)\.?\s*\d{3,5}\b", re.I)
    SPACED = re.compile(r"(?<![\w/.])(?:(?:\(\d{3}\)|\d{3})[\s\-.]{1,3}(?:\d{3}[\s\-.]{1,3}\d{4}|\d{7})"
                        r"|\d{3}(?:\s+[\-.]\s*|[\-.]\s+)\d{4})(?![\w/]|\.\d)")
    CUE = re.compile(
        r"\b(?:PAGER|PAGE|PG|BEEPER|BEEP|BPR|CELL(?:ULAR)?|PHONE|TEL|TELEPHONE|CALL|FAX|CONTACT|HOME|WORK|MOBILE|"
        r"NUMBER|NUM)\b\.?\s*(?:NUMBER|NO|NUM|IS|AT|#|:)?\s*[:#\-]?\s*#?\s*(\d[\d\-. ]{3,13}\d)", re.I)

    RANGE_CUE = re.compile(r"\b(?:TV|VT|STV|VOLUMES?|TIDAL|RANGE|HR|BP|RR|SBP|MAP|CK|CPK|PLT|PLTS|WBC|BETWEEN|FROM|OF|SVR|MG|UNITS)\W{0,3}$", re.I)

    def _looks_like_range(self, text: str, m) -> bool:
        """``500-1000`` after "TV" or a rising pair is a range of values, not a seven-digit phone number."""
        a, b = (int(x) for x in m.group().split("-"))
        return bool(self.RANGE_CUE.search(text[max(0, m.start() - 14): m.start()])) or a < b <= 3 * a

    def find(self, text: str) -> list[PhiSpan]:
        out: list[PhiSpan] = []
        seen: list[tuple[int, int]] = []
        for rx, score in ((self.FULL, 0.9), (self.SEVEN, 0.6)):
            for m in rx.finditer(text):
                if any(m.start() < e and s < m.end() for s, e in seen):
                    continue
                if rx is self.SEVEN and self._looks_like_range(text, m):
                    continue
                fax = re.search(r"\bFAX\b", text[max(0, m.start() - 12): m.start()], re.I)
                seen.append((m.start(), m.end()))
                out.append(self.span(m.start(), m.end(), "FAX" if fax else "PHONE", score))
        for m in self.CUE.finditer(text):
            s, e = m.span(1)
            if any(s < te and ts < e for ts, te in seen):
                continue
            digits = re.sub(r"\D", "", m.group(1))
            if len(digits) < 5 or len(digits) > 11 or "." in m.group(1):
                continue
            seen.append((s, e))
            fax = m.group().upper().startswith("FAX")
            out.append(self.span(s, e, "FAX" if fax else "PHONE", 0.8))
        return out

    def find_weak(self, text: str) -> list[PhiSpan]:
        """Spaced-out numbers and extensions; kept only with a :attr:`CONTEXT` word before them."""
        out = [self.span(m.start(), m.end(), "PHONE", WEAK_SCORE) for m in self.SPACED.finditer(text)]
        out += [self.span(m.start(), m.end(), "PHONE", WEAK_SCORE) for m in self.EXT.finditer(text)
                if not any(m.start() < s.end and s.start < m.end() for s in out)]
        return out
