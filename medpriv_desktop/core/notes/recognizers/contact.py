"""E-mail addresses, URLs and IP addresses (regular expressions; no tldextract lookup, so nothing goes online)."""

from __future__ import annotations

import re

from medpriv_desktop.core.notes.recognizers.base import MedPrivRecognizer
from medpriv_desktop.core.notes.spans import PhiSpan


class ContactRecognizer(MedPrivRecognizer):
    """E-mail, URL and IPv4/IPv6 addresses."""

    NAME = "contact"
    CATEGORIES = ("EMAIL", "URL", "IP")

    EMAIL = re.compile(r"\b[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
    URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]|\b[\w\-]+(?:\.[\w\-]+)*\.(?:com|org|net|edu|gov|io|us|uk|info)(?:/[^\s<>\"')\]]*)?\b", re.I)
    IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")
    IPV6 = re.compile(r"\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", re.I)

    def find(self, text: str) -> list[PhiSpan]:
        out = [self.span(m.start(), m.end(), "EMAIL", 0.95) for m in self.EMAIL.finditer(text)]
        for m in self.URL.finditer(text):
            if not any(m.start() < s.end and s.start < m.end() for s in out):
                out.append(self.span(m.start(), m.end(), "URL", 0.85))
        out += [self.span(m.start(), m.end(), "IP", 0.9) for m in self.IPV4.finditer(text)]
        out += [self.span(m.start(), m.end(), "IP", 0.9) for m in self.IPV6.finditer(text)]
        return out
