"""Hard negatives as values: scores, strengths, blood pressures, vent settings, labs, doses, times, gestational ages,
room and bed numbers, day names, young ages, frequencies, drug and eponym mentions.

Each maker returns one keep piece (never PHI), so the corpus records where every look-alike sits; the tests check
that none of them ever falls inside a PHI span.
"""

from __future__ import annotations

import random

from training.phi.generator import lists_clinical as lc
from training.phi.generator.fake_dates import young_age
from training.phi.generator.pieces import Piece

#: Kinds of keep pieces.
KEEP_KINDS = ("DRUG", "EPONYM", "SCORE", "STRENGTH", "BP", "VENT", "LAB", "DOSE", "TIME", "GA", "ROOM", "DAY",
              "YOUNG_AGE", "FREQ", "NONAME", "WORD", "KEEP")

#: Lab name -> (how it is written, low, high); float bounds give one decimal.
LABS = {
    "k": ("K {}", 2.8, 5.6), "na": ("Na {}", 128, 146), "hct": ("Hct {}", 21.0, 42.0), "wbc": ("WBC {}", 3.0, 19.0),
    "cr": ("Cr {}", 0.6, 3.9), "inr": ("INR {}", 0.9, 3.2), "glucose": ("glucose {}", 60, 340),
    "mg": ("Mg {}", 1.4, 2.6),
    "lactate": ("lactate {}", 0.8, 4.5), "plt": ("plt {}", 40, 420), "bun": ("BUN {}", 8, 70),
    "hgb": ("Hgb {}", 7.0, 14.0),
    "bnp": ("BNP {}", 50, 1800), "ca": ("Ca {}", 7.8, 10.4), "vanc": ("trough {}", 8.0, 24.0),
}


_KINDS_BY_TEXT = {**{w.lower(): "DRUG" for w in lc.DRUGS}, **{w.lower(): "EPONYM" for w in lc.EPONYMS},
                  **{w.lower(): "NONAME" for w in lc.NO_NAME_PHRASES},
                  **{w.lower(): "WORD" for w, _ in lc.WORD_USES + lc.WORD_USES_WARD}}


def keep_kind(text: str) -> str:
    """The hard-negative kind of a literal written in a template as ``[[text]]`` ("KEEP" when not in a list)."""
    return _KINDS_BY_TEXT.get(text.lower(), "KEEP")


def score(rng: random.Random) -> Piece:
    """A pain score: "6/10", "3-4/10"."""
    n = rng.randint(1, 10)
    return Piece(rng.choice((f"{n}/10", f"{n}/10", f"{n - 1}-{n}/10", f"{n} out of 10", "0/10")), keep="SCORE")


def scale(rng: random.Random) -> Piece:
    """A sedation or coma scale value: "RASS -2", "GCS 14"."""
    return Piece(rng.choice((f"GCS {rng.randint(3, 15)}", f"RASS {rng.randint(-4, 2)}", f"RASS {rng.randint(-2, 0)}",
                             f"CPOT {rng.randint(0, 4)}")), keep="SCORE")


def strength(rng: random.Random) -> Piece:
    """A motor strength grade "5/5", "4+/5"."""
    return Piece(rng.choice(("5/5", "4/5", "4+/5", "3/5", "4-/5", "2/5", "5-/5")), keep="STRENGTH")


def bp(rng: random.Random) -> Piece:
    """A blood pressure "120/80"."""
    s = rng.randint(78, 196)
    return Piece(f"{s}/{rng.randint(38, min(s - 20, 118))}", keep="BP")


def vent(rng: random.Random) -> Piece:
    """Ventilator or oxygen settings."""
    ac = f"AC {rng.choice((400, 450, 500, 550))}x{rng.randint(12, 24)}"
    return Piece(rng.choice((f"{ac} PEEP {rng.randint(5, 12)} FiO2 {rng.choice((30, 35, 40, 50, 60))}%",
                             f"PS {rng.choice((5, 8, 10, 12))}/{rng.choice((5, 8))}", f"CPAP {rng.choice((5, 8, 10))}",
                             f"{rng.randint(1, 6)}L NC", f"BiPAP {rng.choice((10, 12, 14))}/{rng.choice((5, 6, 8))}",
                             f"HFNC {rng.choice((30, 40, 50))}L {rng.choice((40, 50, 60))}%", "RA",
                             f"SIMV {rng.randint(10, 16)} PS 10", f"FM {rng.choice((40, 50, 100))}%")), keep="VENT")


def lab(rng: random.Random, name: str | None = None) -> Piece:
    """A lab value, "K 3.4", "INR 2.1" (lab ``name``, or any)."""
    fmt, lo, hi = LABS[name or rng.choice(sorted(LABS))]
    v = f"{rng.uniform(lo, hi):.1f}" if isinstance(lo, float) else str(rng.randint(lo, hi))
    return Piece(fmt.format(v), keep="LAB")


def dose(rng: random.Random) -> Piece:
    """A drug with a dose and route that go together: "Lasix 40 mg IV"."""
    name, amounts, routes = rng.choice(lc.DOSES)
    amount = rng.choice(amounts)
    if rng.random() < 0.3:
        amount = amount.replace(" mg", "mg")
    return Piece(f"{name} {amount} {rng.choice(routes)}", keep="DOSE")


def med_row(rng: random.Random) -> list[Piece]:
    """A medication table row: "Lasix | 40 mg | daily"."""
    name, amounts, _ = rng.choice(lc.DOSES)
    return [Piece(name, keep="DRUG"),
    Piece(f" | {rng.choice(amounts)} | {rng.choice(('daily', 'BID', 'TID', 'qhs', 'q6h prn'))}")]


def drug(rng: random.Random) -> Piece:
    """A drug name alone (one a patient could take at home)."""
    return Piece(rng.choice(lc.HOME_DRUGS), keep="DRUG")


def clock(rng: random.Random) -> Piece:
    """A time of day: "1400", "0300", "2:15 pm", "7a"."""
    h, m = rng.randint(0, 23), rng.choice((0, 0, 15, 30, 45, rng.randint(0, 59)))
    return Piece(rng.choice((f"{h:02d}{m:02d}", f"{h:02d}00", f"{(h % 12) or 12}:{m:02d} {'am' if h < 12 else 'pm'}",
                             f"{h:02d}:{m:02d}", f"{(h % 12) or 12}{'a' if h < 12 else 'p'}", f"{h:02d}{m:02d}")),
                 keep="TIME")


def shift(rng: random.Random) -> Piece:
    """A nursing shift: "7a-7p", "3-11", "1900-0700"."""
    return Piece(rng.choice(("7a-7p", "7p-7a", "3-11", "11-7", "7A-7P", "0700-1900", "1900-0700", "7-3", "days",
                             "nights")),
                 keep="TIME")


def gestation(rng: random.Random) -> Piece:
    """A gestational age: "32 weeks", "32+4", "34 4/7 wks"."""
    w, d = rng.randint(22, 41), rng.randint(0, 6)
    return Piece(rng.choice((f"{w} weeks", f"{w}+{d}", f"{w} {d}/7 wks", f"{w}w{d}d", f"{w} wk {d} d", f"{w}+{d} wks",
                             f"{w} {d}/7 weeks")), keep="GA")


def gravida(rng: random.Random) -> Piece:
    """Obstetric history: "G2P1", "G3P2012"."""
    g = rng.randint(1, 6)
    p = rng.randint(0, g - 1)
    return Piece(rng.choice((f"G{g}P{p}", f"G{g}P{p}0{rng.randint(0, g - 1 - p)}{p}", f"G{g} P{p}")), keep="GA")


def room(rng: random.Random) -> Piece:
    """A hospital room or bed (not PHI, unlike a home apartment)."""
    return Piece(rng.choice((f"rm {rng.randint(100, 999)}", f"Room {rng.randint(100, 999)}",
                             f"bed {rng.randint(1, 30)}",
                             f"MICU bed {rng.randint(1, 16)}", f"Rm {rng.randint(100, 999)}-{rng.choice('AB')}",
                             f"bay {rng.randint(1, 12)}", f"pod {rng.choice('ABCD')}", f"rm {rng.randint(1, 40)}")),
                 keep="ROOM")


def day(rng: random.Random) -> Piece:
    """A day name."""
    return Piece(rng.choice(lc.DAYS), keep="DAY")


def young(rng: random.Random, lo: int | None = None, hi: int | None = None) -> Piece:
    """An age of 89 or under (between ``lo`` and ``hi`` when given)."""
    text = young_age(rng) if lo is None or hi is None else str(rng.randint(lo, hi))
    return Piece(text, keep="YOUNG_AGE")


def freq(rng: random.Random) -> Piece:
    """A frequency or multiplier: "q4h", "x2"."""
    return Piece(rng.choice(lc.FREQUENCIES), keep="FREQ")


def no_name(rng: random.Random) -> Piece:
    """A phrase about a clinician that names nobody: "Dr. notified", "md aware"."""
    return Piece(rng.choice(lc.NO_NAME_PHRASES), keep="NONAME")


def word_use(rng: random.Random, ward: bool = False) -> list[Piece]:
    """A clause using a word that is also a name as an ordinary word ("may consider", "temp rose to 101.2")."""
    word, sentence = rng.choice(lc.WORD_USES_WARD if ward else lc.WORD_USES)
    head, tail = sentence.split("{}")
    return [Piece(head), Piece(word, keep="WORD"), Piece(tail)]
