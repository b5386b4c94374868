"""Sentence spans with character offsets (no NLP library: radiology sentences end in '.', ';'-free, or newlines)."""

from __future__ import annotations

import re

# A sentence ends at '.', '!' or '?' followed by space/end, or at a line break; decimals (1.5 cm) and
# abbreviations of one letter ("e.g.") do not end a sentence because the next character is not a space.
_END_RE = re.compile(r"[.!?](?=\s|$)|\n\s*\n|\n(?=[A-Z0-9-])")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` spans of the sentences in ``text[start:end]``, whitespace trimmed, empty ones dropped."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END_RE.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    spans.append((pos, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and any(ch.isalnum() for ch in text[s:e]):
            out.append((s, e))
    return out
