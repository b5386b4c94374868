"""Operators that turn a note and its PHI spans into the output text: tags, masks and surrogates."""

from __future__ import annotations

from collections.abc import Callable

from medpriv_desktop.core.notes.spans import PhiSpan

OPERATORS = ("tag", "mask", "surrogate")


def replace_spans(text: str, spans: list[PhiSpan], replacement: Callable[[PhiSpan, str], str]) -> str:
    """Rebuild ``text`` with every (non-overlapping, sorted) span replaced by ``replacement(span, original)``."""
    out, pos = [], 0
    for s in sorted(spans):
        if s.start < pos:
            continue
        out.append(text[pos: s.start])
        out.append(replacement(s, text[s.start: s.end]))
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def tag(text: str, spans: list[PhiSpan]) -> str:
    """``[NAME]``, ``[DATE]``, ... in place of each span."""
    return replace_spans(text, spans, lambda s, _: f"[{s.tag}]")


def mask(text: str, spans: list[PhiSpan], char: str = "*") -> str:
    """Each PHI character replaced by ``char`` (spaces and line breaks kept, so the layout holds)."""
    return replace_spans(text, spans, lambda s, orig: "".join(c if c.isspace() else char for c in orig))


def surrogate(text: str, spans: list[PhiSpan], surrogator, patient: str) -> str:
    """Realistic fake values, consistent per patient (see :mod:`medpriv_desktop.core.notes.surrogates`)."""
    return replace_spans(text, spans, lambda s, orig: surrogator.replace(s, orig, patient))


def apply_operator(name: str, text: str, spans: list[PhiSpan], surrogator=None, patient: str = "*") -> str:
    """Dispatch by operator name (``tag``, ``mask``, ``surrogate``)."""
    if name == "tag":
        return tag(text, spans)
    if name == "mask":
        return mask(text, spans)
    if name == "surrogate":
        if surrogator is None:
            raise ValueError("the surrogate operator needs a Surrogator")
        return surrogate(text, spans, surrogator, patient)
    raise ValueError(f"unknown operator {name}")
