"""From a source note to a :class:`SynthRequest` for each method.

- ``keyword``: PHI-checked keywords only (:func:`~.keywords.extract_keywords`); the engine never sees the source.
- ``one-shot``: the whole note is the context. ``source_mode`` says which note: ``tagged`` (the de-identifier runs
  first and PHI becomes ``[NAME]``-style tags; the default of the ``medpriv synth`` command) or ``raw`` (the text as
  given, e.g. a corpus whose PHI was already replaced by realistic surrogates; this reproduces the study's one-shot
  setting and is what the privacy assessment is for).
- ``surrogate`` source mode (any method): the de-identifier runs first and PHI is replaced by realistic, keyed
  surrogates (the de-identification module's :class:`~medpriv_desktop.core.notes.surrogates.Surrogator`), the study's
  "re-identified" source; compare it with ``tagged``.
- ``normalized``: as one-shot, then lower case and alphabetic tokens only (digits and punctuation go, so most dates,
  phone numbers and ids cannot be copied; names and places can).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medpriv_desktop.core.notes.synth.engines.base import METHODS, SynthRequest
from medpriv_desktop.core.notes.synth.engines.template import guess_note_type
from medpriv_desktop.core.notes.synth.keywords import KeywordGate, PhiDetector, extract_keywords, tag_phi

SOURCE_MODES = ("tagged", "raw", "surrogate")
_SURROGATOR: list = []
_ALPHA = re.compile(r"[A-Za-z]+")


def normalize_text(text: str) -> str:
    """Lower case, alphabetic tokens only, single spaces."""
    return " ".join(_ALPHA.findall(text)).lower()


def surrogate_text(text: str, detector: PhiDetector, patient: str = "synth") -> tuple[str, int]:
    """``text`` with every PHI span replaced by a keyed surrogate; returns (text, number of spans)."""
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes.operators import replace_spans
    from medpriv_desktop.core.notes.surrogates import Surrogator

    if not _SURROGATOR:
        _SURROGATOR.append(Surrogator(load_key("deid")))
    spans = detector.analyze(text)
    return replace_spans(text, spans, lambda sp, orig: _SURROGATOR[0].replace(sp, orig, patient)), len(spans)


@dataclass
class Prepared:
    """A request plus counts about how it was made (no text)."""

    request: SynthRequest
    counts: dict[str, int] = field(default_factory=dict)


def prepare_request(text: str, method: str, detector: PhiDetector | None, *, source_mode: str = "tagged",
                    seed: int = 0, note_type: str | None = None, max_keywords: int = 20,
                    max_new_tokens: int = 200, gate: KeywordGate | None = None) -> Prepared:
    """The request for ``method`` on ``text`` (see the module docstring)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method}")
    if source_mode not in SOURCE_MODES:
        raise ValueError(f"unknown source mode {source_mode}")
    replaced = 0
    if source_mode == "surrogate":
        if detector is None:
            raise ValueError("a PHI detector is required for surrogate sources")
        text, replaced = surrogate_text(text, detector)
    if method == "keyword":
        # raw/surrogate source: the gate alone protects the keywords (the de-identifier still checks each one)
        kr = extract_keywords(text, detector if source_mode == "tagged" else None, max_keywords, gate=gate or
                              KeywordGate(detector), already_deidentified=source_mode != "tagged")
        counts = {"keywords": len(kr.keywords), "phi_spans_removed": kr.n_phi_spans + replaced,
                  **{f"rejected_{k}": v for k, v in kr.rejected.items()}}
        req = SynthRequest("keyword", kr.keywords, None, note_type or guess_note_type(kr.keywords, text), seed,
                           max_new_tokens)
        return Prepared(req, counts)
    counts = {"phi_spans_removed": replaced} if source_mode == "surrogate" else {}
    context = text
    if source_mode == "tagged":
        if detector is None:
            raise ValueError("a PHI detector is required for tagged sources")
        spans = detector.analyze(text)
        context = tag_phi(text, spans)
        counts["phi_spans_removed"] = len(spans)
    if method == "normalized":
        context = normalize_text(context)
    req = SynthRequest(method, [], context, note_type or guess_note_type([], text), seed, max_new_tokens)
    return Prepared(req, counts)
