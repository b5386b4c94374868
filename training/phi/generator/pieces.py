"""Notes as lists of pieces, and the small template language the styles are written in.

A note is built as a list of :data:`Piece` tuples ``(text, label, keep)``: ``label`` is a PHI label for a fake value,
``keep`` a hard-negative kind for a look-alike that must never be tagged, and both are None for ordinary text. The
transforms (casing, run-on, typos) work on pieces, so every span stays exact whatever they do to the text around it.

Template syntax (parsed once and cached):

- ``{slot}``: a value from the slot table (:mod:`training.phi.generator.slots`), one or more pieces;
- ``{a|b|c}``: one of the literal alternatives, chosen at random; ``{|word}`` is an optional word;
- ``[[text]]``: literal text that is a hard negative (a drug, an eponym, "Dr. notified"), recorded as a keep.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import NamedTuple


class Piece(NamedTuple):
    """A run of note text: a PHI value (``label``), a hard negative (``keep``) or ordinary text (both None)."""

    text: str
    label: str | None = None
    keep: str | None = None


Span = tuple[int, int, str]

_TOKEN = re.compile(r"\{([^{}]*)\}|\[\[(.+?)\]\]")


@functools.lru_cache(maxsize=None)
def parse(template: str) -> tuple[tuple[str, object], ...]:
    """Split a template into ``("lit", text)``, ``("slot", name)``, ``("choice", options)``, ``("keep", text)``."""
    out: list[tuple[str, object]] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            out.append(("lit", template[pos: m.start()]))
        if m.group(2) is not None:
            out.append(("keep", m.group(2)))
        elif "|" in m.group(1):
            out.append(("choice", tuple(m.group(1).split("|"))))
        else:
            out.append(("slot", m.group(1)))
        pos = m.end()
    if pos < len(template):
        out.append(("lit", template[pos:]))
    return tuple(out)


def value(text: str, label: str | None = None, keep: str | None = None) -> list[Piece]:
    """Pieces for one value, with the surrounding whitespace moved outside it (spans never start or end in a space)."""
    core = text.strip()
    if not core:
        return [Piece(text)] if text else []
    lead, tail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    out = [Piece(lead)] if lead else []
    out.append(Piece(core, label, keep))
    if tail:
        out.append(Piece(tail))
    return out


@dataclass
class Rendered:
    """A finished note: text, PHI spans and hard-negative spans, all ``(start, end, kind)``."""

    text: str
    spans: list[Span] = field(default_factory=list)
    keeps: list[Span] = field(default_factory=list)


def render(pieces: list[Piece]) -> Rendered:
    """Join pieces into text and read off the span of every labelled and every keep piece."""
    parts: list[str] = []
    spans: list[Span] = []
    keeps: list[Span] = []
    pos = 0
    for text, label, keep in pieces:
        if label is not None:
            spans.append((pos, pos + len(text), label))
        elif keep is not None:
            keeps.append((pos, pos + len(text), keep))
        parts.append(text)
        pos += len(text)
    return Rendered("".join(parts), spans, keeps)


def length(pieces: list[Piece]) -> int:
    """Characters in the note the pieces make."""
    return sum(len(p.text) for p in pieces)


def truncate(pieces: list[Piece], max_len: int) -> list[Piece]:
    """The longest prefix that ends at a line break and fits in ``max_len`` characters (whole pieces only)."""
    out: list[Piece] = []
    total = 0
    last_break = 0
    for p in pieces:
        if total + len(p.text) > max_len:
            break
        out.append(p)
        total += len(p.text)
        if p.label is None and p.keep is None and "\n" in p.text:
            last_break = len(out)
    if len(out) < len(pieces) and last_break:
        out = out[:last_break]
        # drop the text after the final line break of the last kept piece
        head = out[-1].text
        out[-1] = Piece(head[: head.rfind("\n")])
    return out
