"""Ages over 89 (HIPAA identifiers; younger ages are not)."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan


class AgeRecognizer(MedPrivRecognizer):
    """Ages 90-129 written with a year unit, or after "age"/"aged"."""

    NAME = "age"
    CATEGORIES = ("AGE",)

    AFTER_UNIT = re.compile(
        r"\b(9\d|1[0-2]\d)(?=\s*(?:-|\s)?\s*(?:YEARS?|YRS?|Y/?O|Y\.O\.?|YO|YEAR-OLD|YR-OLD|Y)\b)", re.I)
    AFTER_WORD = re.compile(r"\b(?:AGE|AGED|AGE:)\s*(9\d|1[0-2]\d)\b", re.I)
    DECADE = re.compile(r"\b(?:NINETIES|90'?S|HUNDREDS)\b(?=.{0,12}\b(?:AGE|YEARS|OLD|IN\s+HER|IN\s+HIS))", re.I)

    def find(self, text: str) -> list[PhiSpan]:
        out = [self.span(*m.span(1), "AGE", 0.9) for m in self.AFTER_UNIT.finditer(text)]
        out += [self.span(*m.span(1), "AGE", 0.85) for m in self.AFTER_WORD.finditer(text)]
        return out
