"""Identifying numbers: SSN, medical record, account, licence, device/serial and other ID numbers after a cue, and
long digit runs that are not measurements. Shorter numbers (5-6 digits) and codes of letters and digits ("KP-30917")
are weak candidates: PHI only with a record word among the five words before them (Presidio's context enhancer, see
``base.py``)."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes.recognizers.base import WEAK_SCORE, MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan

_CUES = [
    ("SSN", r"SSN|SOCIAL\s+SECURITY(?:\s+(?:NUMBER|NO|#))?|SS#"),
    ("MRN", r"MRN|MR#|MED(?:ICAL)?\s+REC(?:ORD)?(?:\s+(?:NUMBER|NO|#))?|UNIT\s+(?:NO|NUMBER)|HOSPITAL\s+(?:NO|NUMBER)|CHART\s*(?:#|NO)"),
    ("ACCOUNT", r"ACC(?:OUN)?T\.?(?:\s+(?:NUMBER|NO|#))?|ACCT#|BILLING\s+(?:NO|NUMBER)|INSURANCE\s+(?:ID|NO|NUMBER)|POLICY\s+(?:NO|NUMBER|#)|MEDICAID\s+(?:ID|NO|#)|MEDICARE\s+(?:ID|NO|#)"),
    ("LICENSE", r"LIC(?:ENSE|ENCE)?\.?(?:\s+(?:NUMBER|NO|#))?|DEA(?:\s+(?:NUMBER|NO|#))?|NPI|DL#|DRIVER'?S\s+LICEN[CS]E"),
    ("DEVICE", r"SERIAL(?:\s+(?:NUMBER|NO|#))?|S/N|SN#|MODEL\s+(?:NO|NUMBER|#)|LOT(?:\s+(?:NUMBER|NO|#))?|DEVICE\s+(?:ID|NO|#)"),
    ("ID", r"ID(?:\s+(?:NUMBER|NO|#))?|ACCESSION(?:\s+(?:NUMBER|NO|#))?|ORDER\s+(?:NUMBER|NO|#)|CASE\s+(?:NUMBER|NO|#)|REF(?:ERENCE)?\s*#"),
]


class IdRecognizer(MedPrivRecognizer):
    """SSN and ID numbers after their cue words; bare SSN-shaped and long numbers."""

    NAME = "ids"
    CATEGORIES = ("SSN", "MRN", "ACCOUNT", "LICENSE", "DEVICE", "ID")
    #: Words that make a weak candidate an identifier ("no" and "call" are stop words, which Presidio skips).
    CONTEXT = ("mrn", "mr", "record", "records", "unit", "chart", "acct", "account", "id", "ssn", "insurance",
               "policy", "medicaid", "medicare", "mbi", "member", "accession", "study", "serial", "sn", "lot",
               "license", "licence", "npi", "dea", "badge", "kit", "claim", "auth", "authorization", "referral",
               "plate", "number")

    # the look-ahead on the cue words' first letters lets the engine skip most positions at once
    CUE = re.compile(r"\b(?=[ABCDHILMNOPRSU])(?:" + "|".join(rf"(?P<{c}>{rx})" for c, rx in _CUES) + ")", re.I)
    VALUE = re.compile(r"\s*(?:IS|NUMBER|NO\.?|#|:|=|-)?\s*(?:IS|#|:)?\s*([A-Z]{0,3}[\-]?\d[\dA-Z\-]{3,19})\b", re.I)
    SSN = re.compile(r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])")
    LONG = re.compile(r"(?<![\w.,/\-])\d{7,}(?![\w.,/]|-\d)")
    #: A code of letters and digits with up to three hyphens ("AB-12345", "RNB217446H", "KCH-CT-448211"); a weak
    #: candidate when it holds 4+ digits and a letter, or is a plain 5-6 digit number (see :meth:`find_weak`)
    WEAK = re.compile(r"(?<![\w.,/\-:])(?=[A-Z\-]*\d)[A-Z0-9]+(?:-[A-Z0-9]+){0,3}(?![\w,/:%]|-\w|\.\d)", re.I)
    WEAK_MAX_CHARS = 24

    def find(self, text: str) -> list[PhiSpan]:
        out: list[PhiSpan] = []
        for m in self.SSN.finditer(text):
            out.append(self.span(m.start(), m.end(), "SSN", 0.95))
        for m in self.CUE.finditer(text):
            cat = m.lastgroup or "ID"
            v = self.VALUE.match(text, m.end())
            if v:
                s, e = v.span(1)
                if not any(s < o.end and o.start < e for o in out):
                    out.append(self.span(s, e, cat, 0.85))
        for m in self.LONG.finditer(text):
            if not any(m.start() < o.end and o.start < m.end() for o in out):
                out.append(self.span(m.start(), m.end(), "ID", 0.5))
        return out

    def find_weak(self, text: str) -> list[PhiSpan]:
        """Codes and short numbers; kept only with a :attr:`CONTEXT` word before them. Digit-only codes with hyphens
        are left out (dates, ranges and phone numbers have their own rules)."""
        out = []
        for m in self.WEAK.finditer(text):
            code = m.group()
            digits = sum(c.isdigit() for c in code)
            coded = digits >= 4 and any(c.isalpha() for c in code)
            if len(code) <= self.WEAK_MAX_CHARS and (coded or (code.isdigit() and 5 <= digits <= 6)):
                out.append(self.span(m.start(), m.end(), "ID", WEAK_SCORE))
        return out
