"""The note being written: its random source, its cast of fake people, and the pieces written so far.

A style function receives a :class:`NoteContext` and writes templates into it (``ctx.line("...")``). The cast keeps
one patient, two relatives and three clinicians per note, so a name recurs the way it does in a real chart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence, TypeVar

from training.phi.generator import fake_people as fpe
from training.phi.generator import lists_people as lp
from training.phi.generator.negatives import keep_kind
from training.phi.generator.pieces import Piece, parse, value

T = TypeVar("T")


@dataclass
class Cast:
    """The people of one note."""

    patient: fpe.Person
    nick: str
    relatives: list[tuple[str, fpe.Person]]
    doctors: list[fpe.Person]
    staff: list[tuple[str, fpe.Person]]
    age: int
    birth_year: int

    @property
    def year(self) -> int:
        """The year the note is written in."""
        return self.birth_year + self.age


#: Patient ages: (youngest, oldest under 90, chance of an age over 89).
ADULT_AGES = (19, 89, 0.3)


def _adult_relatives(rng: random.Random, pt: fpe.Person) -> list[tuple[str, fpe.Person]]:
    """A spouse and one other relative, in random order."""
    spouse_word = rng.choice(lp.RELATIONS_BY_SEX["spouse_of_" + pt.sex])
    spouse_sex = "f" if pt.sex == "m" else "m"
    if rng.random() < 0.5:  # married couples often share a surname
        spouse = fpe.Person(fpe.first_name(rng, spouse_sex, pt.origin), pt.last, spouse_sex, pt.origin)
    else:
        spouse = fpe.person(rng, spouse_sex)
    other_word = rng.choice(lp.RELATIVES)
    other_sex = "f" if other_word in ("daughter", "dtr", "sister", "niece", "granddaughter", "mother", "mom", "aunt") \
        else "m" if other_word in ("son", "brother", "nephew", "grandson", "father", "dad",
        "uncle") else rng.choice("mf")
    other = fpe.Person(fpe.first_name(rng, other_sex, pt.origin), pt.last if rng.random() < 0.5 else fpe.surname(rng),
                       other_sex, pt.origin)
    relatives = [(spouse_word, spouse), (other_word, other)]
    rng.shuffle(relatives)
    return relatives


def make_cast(rng: random.Random, ages: tuple[int, int, float] = ADULT_AGES, sex: str | None = None) -> Cast:
    """A patient of an age in ``ages`` (and ``sex``, when given), two relatives, three clinicians and four staff."""
    lo, hi, p_old = ages
    # adult patients skew old, as inpatients do
    age = rng.randint(90, 106) if rng.random() < p_old else int(rng.triangular(lo, hi, hi - (hi - lo) // 4))
    birth_year = rng.randint(2008, 2026) - age
    pt = fpe.person(rng, sex)
    if hi < 18:  # a child: the relatives are the parents
        mother = fpe.Person(fpe.first_name(rng, "f", pt.origin), pt.last, "f", pt.origin)
        father = fpe.Person(fpe.first_name(rng, "m", pt.origin), pt.last if rng.random() < 0.7 else fpe.surname(rng),
                            "m", pt.origin)
        relatives = [("mother", mother), ("father", father)] if rng.random() < 0.7 else [("mom", mother),
        ("dad", father)]
    else:
        relatives = _adult_relatives(rng, pt)
    doctors = [fpe.person(rng) for _ in range(3)]
    staff = [(rng.choice(lp.STAFF_ROLES), fpe.person(rng)) for _ in range(4)]
    return Cast(pt, fpe.nickname(rng, pt.first, pt.sex), relatives, doctors, staff, age, birth_year)


SlotFn = Callable[["NoteContext"], list[Piece]]


@dataclass
class NoteContext:
    """Writes one note: templates in, pieces out."""

    rng: random.Random
    style: str
    slots: dict[str, SlotFn]
    cast: Cast
    uk: bool = False
    pieces: list[Piece] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    closing_at: int | None = None
    state: dict[str, object] = field(default_factory=dict)  # a style's own choices, for its extra sentences

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.rng.random() < p

    def pick(self, seq: Sequence[T]) -> T:
        """One item of ``seq``."""
        return seq[self.rng.randrange(len(seq))]

    def some(self, seq: Sequence[T], lo: int, hi: int) -> list[T]:
        """Between ``lo`` and ``hi`` distinct items of ``seq``, in random order."""
        return self.rng.sample(list(seq), min(len(seq), self.rng.randint(lo, hi)))

    def fresh(self, templates: Sequence[str], k: int = 1) -> list[str]:
        """``k`` templates not yet written in this note when there are enough (notes rarely repeat a sentence)."""
        unused = [t for t in templates if t not in self.used]
        chosen = self.rng.sample(unused, k) if len(unused) >= k else self.some(templates, k, k)
        self.used.update(chosen)
        return chosen

    def mark_closing(self) -> None:
        """Note where the closing (a sign-off) starts: sentences added to lengthen the note go before it."""
        self.closing_at = len(self.pieces)

    def fill(self, template: str) -> list[Piece]:
        """The pieces of one template, slots filled."""
        out: list[Piece] = []
        for kind, arg in parse(template):
            if kind == "lit":
                out.append(Piece(arg))  # type: ignore[arg-type]
            elif kind == "choice":
                out.append(Piece(self.pick(arg)))  # type: ignore[arg-type]
            elif kind == "keep":
                out += value(arg, keep=keep_kind(arg))  # type: ignore[arg-type]
            else:
                fn = self.slots.get(arg)  # type: ignore[arg-type]
                if fn is None:
                    raise KeyError(f"template slot {{{arg}}} is not defined (style {self.style})")
                out += fn(self)
        return out

    def add(self, template: str) -> None:
        """Write a template."""
        self.pieces += self.fill(template)

    def one(self, templates: Sequence[str]) -> None:
        """Write one template not used yet in this note, and end the line; write nothing when all are used."""
        unused = [t for t in templates if t not in self.used]
        if unused:
            self.line(self.fresh(unused)[0])

    def line(self, template: str = "") -> None:
        """Write a template and end the line."""
        self.add(template)
        self.pieces.append(Piece("\n"))

    def lines(self, templates: Sequence[str], lo: int, hi: int, sep: str = "\n") -> None:
        """Write between ``lo`` and ``hi`` of ``templates`` not used yet (in random order), separated by ``sep``."""
        for i, t in enumerate(self.fresh(templates, min(len(templates), self.rng.randint(lo, hi)))):
            if i:
                self.pieces.append(Piece(sep))
            self.add(t)
        self.pieces.append(Piece("\n"))

    def blank(self) -> None:
        """A blank line, sometimes with the stray space nurses' editors leave."""
        self.pieces.append(Piece(self.pick(("\n", "\n", " \n"))))
