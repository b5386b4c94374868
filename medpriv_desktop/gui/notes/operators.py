"""Operator choice for the Notes workspace: tags, mask, surrogates, date shift.

The replacements come from the engine: ``tag`` and ``mask`` from :mod:`medpriv_desktop.core.notes.operators`,
surrogates from :class:`~medpriv_desktop.core.notes.surrogates.Surrogator` (keyed, consistent per patient). The
engine has no "date shift only" operator, so :func:`shift_date` adapts the Surrogator's date parser: dates move by
the number of days the user chose (intervals are kept) and every other category becomes a tag.

Operators are applied span by span here (rather than through ``apply_operator``) so the output pane knows where each
replacement sits and can colour it.
"""

from __future__ import annotations

from typing import Any

from medpriv_desktop.core.notes import operators as core_ops
from medpriv_desktop.core.notes.spans import DATE_CATEGORIES, PhiSpan

#: (machine name, label shown in the window)
OPERATOR_CHOICES: tuple[tuple[str, str], ...] = (
    ("tag", "Tags  [NAME]"),
    ("mask", "Mask  ****"),
    ("surrogate", "Surrogates (consistent per patient)"),
    ("date_shift", "Date shift (tags for the rest)"),
)
#: What the engine's batch jobs support (``date_shift`` is a window-only adapter).
BATCH_OPERATORS = tuple(n for n, _ in OPERATOR_CHOICES if n in core_ops.OPERATORS)
DEFAULT_SHIFT_DAYS = -37
DEFAULT_PATIENT = "*"


def make_surrogator() -> Any:
    """The engine's Surrogator under the site's ``deid`` key (call it in a job: it reads lexicons and the key)."""
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes import lexicons
    from medpriv_desktop.core.notes.surrogates import Surrogator

    # Name surrogates consult these lexicons; load them here so re-rendering on the GUI thread never reads files.
    lexicons.first_names()
    lexicons.surnames()
    return Surrogator(load_key("deid"))


def shift_date(surrogator: Any, original: str, days: int) -> str:
    """``original`` moved by exactly ``days`` (the engine's date parser and formats, a fixed offset)."""
    # Shadow the keyed per-patient offset with the chosen one for this call (GUI thread only, so no race).
    surrogator.date_offset = lambda patient: days
    try:
        return surrogator.shift_date(DEFAULT_PATIENT, original)
    finally:
        del surrogator.date_offset


def _replacer(operator: str, surrogator: Any, shift_days: int, patient: str):
    """A function ``(span, original) -> replacement`` for ``operator``."""
    if operator not in {name for name, _ in OPERATOR_CHOICES}:
        raise ValueError(f"unknown operator {operator}")
    if operator in ("surrogate", "date_shift") and surrogator is None:
        raise ValueError(f"the {operator} operator needs a Surrogator")

    def one(s: PhiSpan, orig: str) -> str:
        local = [PhiSpan(0, len(orig), s.category, s.score, s.source)]
        if operator == "tag":
            return core_ops.tag(orig, local)
        if operator == "mask":
            return core_ops.mask(orig, local)
        if operator == "surrogate":
            return surrogator.replace(s, orig, patient)
        return shift_date(surrogator, orig, shift_days) if s.category in DATE_CATEGORIES else f"[{s.tag}]"

    return one


def render(text: str, spans: list[PhiSpan], operator: str, *, surrogator: Any = None,
           shift_days: int = DEFAULT_SHIFT_DAYS, patient: str = DEFAULT_PATIENT,
           ) -> tuple[str, list[tuple[PhiSpan, int, int]]]:
    """The output note and, per replaced span, where its replacement sits in the output ``(span, start, end)``."""
    repl = _replacer(operator, surrogator, shift_days, patient)
    out: list[str] = []
    regions: list[tuple[PhiSpan, int, int]] = []
    pos = n = 0
    for s in sorted(spans):
        if s.start < pos:
            continue
        out.append(text[pos:s.start])
        n += s.start - pos
        r = repl(s, text[s.start:s.end])
        out.append(r)
        regions.append((s, n, n + len(r)))
        n += len(r)
        pos = s.end
    out.append(text[pos:])
    return "".join(out), regions
