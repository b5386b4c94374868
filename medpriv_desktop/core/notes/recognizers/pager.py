"""Short pager and extension numbers ("pgr 4417", "pager 2231", "ext 5521"): four or five digits are everywhere in a
note (times, doses, counts), so here they are weak candidates only, PHI when a pager word is among the five words
before them (Presidio's context enhancer, see ``base.py``). Longer numbers after a cue are :mod:`.phone`'s."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes.recognizers.base import WEAK_SCORE, MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan


class PagerRecognizer(MedPrivRecognizer):
    """Four- and five-digit pager and extension numbers near a pager word."""

    NAME = "pager"
    CATEGORIES = ("PHONE",)
    #: not "page" or "paged": "paged MD at 1415" is a time
    CONTEXT = ("pager", "pgr", "beeper", "bpr", "beep", "ext", "extension")

    #: A clock time after a time word ("paged dr X (pgr 4417) at 0300"): the pager word does not make it a number.
    TIME_BEFORE = re.compile(r"(?:\b(?:at|by|until|till|since|around|approx|before|after)|@)\s*$", re.I)
    SHORT = re.compile(r"(?<![\w.,/:\-])\d{4,5}(?![\w,/:%\-]|\.\d|\s*(?:MG|MCG|ML|CC|UNITS?|HRS?|H)\b)", re.I)

    def find(self, text: str) -> list[PhiSpan]:
        """Nothing is PHI without its context word (see :meth:`find_weak`)."""
        return []

    def find_weak(self, text: str) -> list[PhiSpan]:
        """Four- or five-digit numbers that are not doses, times with a unit or clock times after a time word."""
        return [self.span(m.start(), m.end(), "PHONE", WEAK_SCORE) for m in self.SHORT.finditer(text)
                if not self._clock_time(text, m)]

    def _clock_time(self, text: str, m: re.Match) -> bool:
        digits = m.group()
        return (len(digits) == 4 and int(digits[:2]) <= 24 and int(digits[2:]) < 60
                and self.TIME_BEFORE.search(text, max(0, m.start() - 10), m.start()) is not None)
