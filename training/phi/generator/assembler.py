"""The assembler: picks a style, casts the note, writes it, fits its length, applies casing and noise, and reads off
the spans. :func:`iter_notes` streams notes for a seed; :func:`generate` returns a list.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Callable

from medpriv_desktop.core.errors import ConfigError, did_you_mean
from training.phi.generator import styles_ed as sed
from training.phi.generator import styles_letters as slt
from training.phi.generator import styles_nursing as snu
from training.phi.generator import styles_reports as srp
from training.phi.generator import styles_services as ssv
from training.phi.generator import styles_specialty as ssp
from training.phi.generator.context import ADULT_AGES, NoteContext, make_cast
from training.phi.generator.pieces import Piece, Span, length, render, truncate
from training.phi.generator.slots import SLOTS
from training.phi.generator.transforms import add_noise, apply_casing, fix_articles

LABELS = ("NAME", "DATE", "LOCATION", "CONTACT", "ID", "AGE")
MIN_CHARS, MAX_CHARS = 300, 2500


@dataclass
class SynthNote:
    """A generated note: text, PHI spans ``(start, end, label)``, its style, and hard-negative spans (``keeps``)."""

    text: str
    spans: list[Span]
    style: str = ""
    keeps: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class Style:
    """A note style: how to write one, how to lengthen one, casing weights, noise level, share, UK chance, ages."""

    build: Callable[[NoteContext], None]
    extra: Callable[[NoteContext], None]
    casing: dict[str, float]
    noise: float = 0.05
    weight: float = 1.0
    uk: float = 0.0
    ages: tuple[int, int, float] = ADULT_AGES
    sex: str | None = None


def _c(keep: float = 0, upper: float = 0, lower: float = 0, names_lower: float = 0, lines_upper: float = 0) -> dict:
    return {"keep": keep, "upper": upper, "lower": lower, "names_lower": names_lower, "lines_upper": lines_upper}


STYLES: dict[str, Style] = {
    "icu_nursing": Style(snu.icu_nursing, snu.icu_extra, _c(0.15, 0.7, 0.1, 0.05), 0.15, 2.0),
    "nursing_lower": Style(snu.nursing_lower, snu.nursing_lower_extra, _c(0.1, 0, 0.75, 0.15), 0.3, 1.5),
    "ed_triage": Style(sed.ed_triage, sed.ed_extra, _c(0.5, 0.3, 0.1, 0, 0.1), 0.1),
    "ed_provider": Style(sed.ed_provider, sed.ed_extra, _c(0.7, 0.1, 0.05, 0, 0.15), 0.05),
    "discharge_summary": Style(srp.discharge_summary, srp.discharge_extra, _c(0.65, 0.15, 0, 0, 0.2), 0.03, 1.5),
    "operative": Style(srp.operative, srp.operative_extra, _c(0.6, 0.1, 0, 0, 0.3), 0.03),
    "radiology": Style(srp.radiology, srp.radiology_extra, _c(0.5, 0.25, 0, 0, 0.25), 0.02),
    "social_work": Style(ssv.social_work, ssv.social_work_extra, _c(0.7, 0.1, 0.1, 0.1), 0.05),
    "respiratory": Style(snu.respiratory, snu.respiratory_extra, _c(0.4, 0.4, 0.2), 0.1),
    "case_management": Style(ssv.case_management, ssv.case_management_extra, _c(0.6, 0.2, 0.1, 0.1), 0.05),
    "pharmacy": Style(ssv.pharmacy, ssv.pharmacy_extra, _c(0.6, 0.3, 0, 0, 0.1), 0.03),
    "pt_ot": Style(ssv.pt_ot, ssv.pt_ot_extra, _c(0.6, 0.2, 0.2), 0.05),
    "dietitian": Style(ssv.dietitian, ssv.dietitian_extra, _c(0.7, 0.2, 0.1), 0.03),
    "psychiatry": Style(ssp.psychiatry, ssp.psychiatry_extra, _c(0.8, 0, 0.1, 0, 0.1), 0.03),
    "obstetrics": Style(ssp.obstetrics, ssp.obstetrics_extra, _c(0.5, 0.3, 0.2), 0.05, ages=(16, 46, 0.0), sex="f"),
    "nicu_peds": Style(ssp.nicu_peds, ssp.nicu_peds_extra, _c(0.5, 0.35, 0.15), 0.05, ages=(0, 17, 0.0)),
    "telephone_triage": Style(sed.telephone_triage, sed.telephone_extra, _c(0.6, 0, 0.25, 0.15), 0.1),
    "referral_letter": Style(slt.referral_letter, slt.letter_extra, _c(0.9, 0, 0, 0, 0.1), 0.01, 1.0, 0.5),
    "portal_message": Style(slt.portal_message, slt.portal_extra, _c(0.5, 0, 0.35, 0.15), 0.15),
    "table_list": Style(slt.table_list, slt.table_extra, _c(0.6, 0.2, 0, 0, 0.2), 0.02),
    "run_on": Style(snu.run_on, snu.run_on_extra, _c(0.2, 0.3, 0.4, 0.1), 1.0),
}


def resolve_styles(styles: Sequence[str] | str | None) -> list[str]:
    """The style names asked for (all when None), checked against :data:`STYLES`."""
    if styles is None:
        return list(STYLES)
    names = [s.strip() for s in (styles.split(",") if isinstance(styles, str) else styles) if s.strip()]
    for name in names:
        if name not in STYLES:
            raise ConfigError(f"unknown note style '{name}'", hint=did_you_mean(name, tuple(STYLES)) or
                              "styles: " + ", ".join(STYLES))
    if not names:
        raise ConfigError("no note style given", hint="styles: " + ", ".join(STYLES))
    return names


def _finish(rng: random.Random, style: Style, pieces: list[Piece]) -> list[Piece]:
    while pieces and not pieces[-1].text.strip() and pieces[-1].label is None:
        pieces = pieces[:-1]
    pieces = add_noise(pieces, rng, style.noise if rng.random() < 0.5 or style.noise >= 1 else style.noise / 3)
    modes = list(style.casing)
    mode = rng.choices(modes, [style.casing[m] for m in modes])[0]
    return apply_casing(pieces, mode, rng)


def make_note(rng: random.Random, name: str) -> SynthNote:
    """One note of style ``name``, 300 to 2,500 characters long."""
    style = STYLES[name]
    for _ in range(8):
        ctx = NoteContext(rng, name, SLOTS, make_cast(rng, style.ages, style.sex), uk=rng.random() < style.uk)
        style.build(ctx)
        # a target length per note, so the corpus has short notes and long ones
        target = int(rng.triangular(MIN_CHARS + 60, 2000, 600))
        cut = len(ctx.pieces) if ctx.closing_at is None else ctx.closing_at
        body, closing = ctx.pieces[:cut], ctx.pieces[cut:]
        ctx.pieces = body
        for _ in range(40):
            if length(ctx.pieces) + length(closing) >= target:
                break
            before = length(ctx.pieces)
            style.extra(ctx)
            if length(ctx.pieces) == before:  # the style has no unused sentence left
                break
        pieces = ctx.pieces + closing
        if length(pieces) > MAX_CHARS:
            pieces = truncate(pieces, MAX_CHARS)
        done = render(_finish(rng, style, fix_articles(pieces)))
        if MIN_CHARS <= len(done.text) <= MAX_CHARS:
            return SynthNote(done.text, done.spans, name, done.keeps)
    raise RuntimeError(f"style {name} did not produce a note of {MIN_CHARS}-{MAX_CHARS} characters")  # a template bug


def iter_notes(seed: int = 0, styles: Sequence[str] | str | None = None) -> Iterator[SynthNote]:
    """An endless, deterministic stream of notes for ``seed``, drawn from ``styles`` (all by default).

    The style names are checked at once (a :class:`ConfigError` names a misspelt one), before any note is made.
    """
    names = resolve_styles(styles)
    return _stream(seed, names)


def _stream(seed: int, names: list[str]) -> Iterator[SynthNote]:
    weights = [STYLES[n].weight for n in names]
    master = random.Random(seed)
    while True:
        name = master.choices(names, weights)[0]
        # each note has its own random source, so a note does not depend on how many draws the last one made
        yield make_note(random.Random(master.getrandbits(64)), name)


def generate(n: int, seed: int = 0, styles: Sequence[str] | str | None = None) -> list[SynthNote]:
    """``n`` notes for ``seed`` (the first ``n`` of :func:`iter_notes`)."""
    return list(itertools.islice(iter_notes(seed, styles), n))
