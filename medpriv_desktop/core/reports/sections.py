"""Find the sections of a radiology report (findings, impression, ...) with their character offsets.

Reports come as one free text with headings ("FINDINGS:", "Impression -"), as separate CSV columns (Open-i), or with
no headings at all (CT-RATE). :func:`split_sections` returns every section it recognises; :func:`classification_text`
returns the findings and impression (the parts a classifier reads) and where each piece sits in the original text,
so evidence offsets found in that text map back onto the report the user sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Heading words that start a section, mapped to the canonical section name.
SECTION_ALIASES: dict[str, str] = {
    "findings": "findings", "finding": "findings", "report": "findings", "body": "findings",
    "impression": "impression", "impressions": "impression", "conclusion": "impression", "conclusions": "impression",
    "summary": "impression", "opinion": "impression", "interpretation": "impression",
    "indication": "indication", "indications": "indication", "clinical history": "indication", "history": "indication",
    "reason for exam": "indication", "clinical information": "indication",
    "comparison": "comparison", "comparisons": "comparison",
    "technique": "technique", "examination": "technique", "exam": "technique", "procedure": "technique",
}
USED_SECTIONS: tuple[str, ...] = ("findings", "impression")

_HEADING_RE = re.compile(
    r"(?im)^[ \t]*(?P<head>" + "|".join(sorted((re.escape(k) for k in SECTION_ALIASES), key=len, reverse=True))
    + r")[ \t]*(?::|-(?=\s)|\n)"
)


@dataclass(frozen=True)
class Section:
    """One section: canonical name and its body's ``[start, end)`` character span in the report."""

    name: str
    start: int
    end: int


def split_sections(text: str) -> list[Section]:
    """Sections in order of appearance; text before the first heading is an unnamed "preamble" section."""
    heads = list(_HEADING_RE.finditer(text))
    sections: list[Section] = []
    if not heads:
        return [Section("body", 0, len(text))] if text.strip() else []
    if text[: heads[0].start()].strip():
        sections.append(Section("preamble", 0, heads[0].start()))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        name = SECTION_ALIASES[m.group("head").lower()]
        sections.append(Section(name, m.end(), end))
    return sections


def classification_spans(text: str, used: tuple[str, ...] = USED_SECTIONS) -> list[tuple[int, int]]:
    """Character spans of the parts a classifier reads: findings + impression when headed, else the whole text.

    A report with headings but no findings/impression heading falls back to everything after the indication and
    comparison sections, so a report with unusual headings is never silently emptied.
    """
    sections = split_sections(text)
    if not sections:
        return []
    if len(sections) == 1 and sections[0].name == "body":
        return [(0, len(text))]
    spans = [(s.start, s.end) for s in sections if s.name in used and text[s.start:s.end].strip()]
    if not spans:
        spans = [(s.start, s.end) for s in sections if s.name not in ("indication", "comparison", "technique")
                 and text[s.start:s.end].strip()]
    return spans or [(0, len(text))]


def classification_text(text: str, used: tuple[str, ...] = USED_SECTIONS) -> tuple[str, list[tuple[int, int, int]]]:
    """The text a classifier reads and a map ``(piece_start_in_result, start_in_report, end_in_report)``.

    Pieces are joined with a blank line; :func:`to_report_offset` turns an offset in the result back into one in the
    report.
    """
    parts: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    pos = 0
    for start, end in classification_spans(text, used):
        # Trim whitespace so the joined text has no runs of blank lines, and keep offsets exact.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        pieces.append((pos, start, end))
        parts.append(text[start:end])
        pos += end - start
    return "".join(parts), pieces


def to_report_offset(offset: int, pieces: list[tuple[int, int, int]]) -> int:
    """Map an offset in :func:`classification_text`'s result back to the original report."""
    for piece_start, start, end in reversed(pieces):
        if offset >= piece_start:
            return min(start + (offset - piece_start), end)
    return pieces[0][1] if pieces else offset


def join_sections(findings: str | None, impression: str | None) -> str:
    """One report text from separate findings/impression fields (Open-i style), with headings the splitter finds."""
    out = []
    if findings and findings.strip():
        out.append(f"FINDINGS: {findings.strip()}")
    if impression and impression.strip():
        out.append(f"IMPRESSION: {impression.strip()}")
    return "\n".join(out)
