"""Per-note transforms on pieces: casing (all caps, all lower, names in lower case, capitalised header lines), and
noise (missing spaces, typos) in ordinary text only, so PHI and hard-negative spans stay exact.
"""

from __future__ import annotations

import random
import re

from training.phi.generator.pieces import Piece

CASINGS = ("keep", "upper", "lower", "names_lower", "lines_upper")
_WORD = re.compile(r"[A-Za-z]{4,}")


def _same_length(old: str, new: str) -> str:
    """``new`` when it has as many characters as ``old`` (ASCII always does), else ``old``."""
    return new if len(new) == len(old) else old


def apply_casing(pieces: list[Piece], mode: str, rng: random.Random) -> list[Piece]:
    """The pieces with one casing mode applied; text length never changes."""
    if mode == "keep":
        return pieces
    if mode in ("upper", "lower"):
        fold = str.upper if mode == "upper" else str.lower
        return [Piece(_same_length(p.text, fold(p.text)), p.label, p.keep) for p in pieces]
    if mode == "names_lower":
        # people type names in lower case inside otherwise ordinary prose ("house officer jane ruiz aware")
        return [Piece(p.text.lower(), p.label, p.keep) if p.label in ("NAME", "LOCATION") and rng.random() < 0.8 else p
                for p in pieces]
    # lines_upper: some lines (headers, a shouted sentence) in capitals
    out: list[Piece] = []
    upper = rng.random() < 0.5
    for p in pieces:
        if p.label is None and p.keep is None and "\n" in p.text:
            parts = p.text.split("\n")
            rebuilt = [parts[0].upper() if upper else parts[0]]
            for part in parts[1:]:
                upper = rng.random() < 0.3
                rebuilt.append(part.upper() if upper else part)
            out.append(Piece(_same_length(p.text, "\n".join(rebuilt))))
        else:
            out.append(Piece(_same_length(p.text, p.text.upper()), p.label, p.keep) if upper else p)
    return out


_AN_NEXT = re.compile(r"^(8|11|18|eight)", re.IGNORECASE)


def fix_articles(pieces: list[Piece]) -> list[Piece]:
    """"a 82-year-old" -> "an 82-year-old": the article before an age is written before the age is known."""
    out = list(pieces)
    for i in range(len(out) - 1):
        p, nxt = out[i], out[i + 1]
        if p.label is None and p.keep is None and _AN_NEXT.match(nxt.text) and (p.text.endswith(" a ") or p.text == "a "
                                                                             or p.text.endswith("\na ")):
            out[i] = Piece(p.text[:-2] + "an ")
    return out


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.7:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def add_noise(pieces: list[Piece], rng: random.Random, level: float) -> list[Piece]:
    """Drop spaces after punctuation and between words, and misspell words, in plain text only.

    ``level`` 0 leaves the note alone; 1 is a run-on note. A space is dropped only where a piece of plain text ends
    in punctuation before a PHI value ("aware.Jones"), never between two words of which one is PHI.
    """
    if level <= 0:
        return pieces
    out: list[Piece] = []
    for i, p in enumerate(pieces):
        if p.label is not None or p.keep is not None or not p.text.strip():
            out.append(p)
            continue
        text = p.text
        text = re.sub(r"([.,;:)]) (?=\S)", lambda m: m.group(1) if rng.random() < 0.35 * level else m.group(0), text)
        text = re.sub(r"(?<=[a-z]) (?=[a-z])", lambda m: "" if rng.random() < 0.03 * level else m.group(0), text)
        text = _WORD.sub(lambda m: _typo(m.group(0), rng) if rng.random() < 0.04 * level else m.group(0), text)
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if nxt is not None and nxt.label and re.search(r"[.,;:] $", text) and rng.random() < 0.3 * level:
            text = text[:-1]
        out.append(Piece(text))
    return out
