"""Fake people: census names and invented names of many origins, nicknames and initials.

Half the surnames come from the census lists; the rest are built from syllables of several origins, particle names
("de la Cruz", "Van der Berg", "Al-Masri") and hyphenated pairs, so the tagger cannot lean on a dictionary. Since
1.4.0 a few in a hundred names are spelled with diacritics ("Inés", "Núñez"), are two or three letters long ("Mae",
"Tou") or are Hmong clan surnames: the names the 1.3.0 tagger was least sure of on the invented-dev notes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from training.phi.generator import lists_people as lp
from training.phi.generator.pools import pools

ORIGINS = tuple(lp.SURNAME_PARTS)


@dataclass(frozen=True)
class Person:
    """A fake person: first name, surname, sex ("m"/"f") and the origin the name was drawn from."""

    first: str
    last: str
    sex: str
    origin: str

    @property
    def full(self) -> str:
        """First name and surname."""
        return f"{self.first} {self.last}"


def invented_surname(rng: random.Random, origin: str) -> str:
    """A surname built from the syllables of ``origin``; it is in no list."""
    starts, middles, ends = lp.SURNAME_PARTS[origin]
    word = rng.choice(starts) + rng.choice(middles) + rng.choice(ends)
    if origin == "irish" and rng.random() < 0.7:
        prefix = rng.choice(("O'", "Mc", "Mac"))
        return prefix + word.capitalize()
    return word.capitalize()


def particle_surname(rng: random.Random) -> str:
    """A multi-part surname: "de la Cruz", "Van der Berg", "Al-Masri", or a particle before an invented surname."""
    if rng.random() < 0.6:
        return rng.choice(lp.PARTICLE_SURNAMES)
    origin = rng.choice(sorted(lp.INVENTED_PARTICLES))
    return rng.choice(lp.INVENTED_PARTICLES[origin]) + invented_surname(rng, origin)


def surname(rng: random.Random, origin: str = "census") -> str:
    """A surname: census (common or rare), invented by origin, with particles, or hyphenated."""
    p = pools()
    roll = rng.random()
    if roll < 0.07:
        return particle_surname(rng)
    if roll < 0.14:
        return f"{surname(rng, origin)}-{surname(rng, rng.choice(('census',) + ORIGINS))}".replace("--", "-")
    if roll < 0.19:
        return rng.choice(lp.ACCENTED_SURNAMES) if roll < 0.17 else rng.choice(lp.CLAN_SURNAMES)
    if origin == "census":
        if roll < 0.8:
            return rng.choice(p.surnames)
        return rng.choice(p.rare_surnames) if roll < 0.92 else rng.choice(lp.SHORT_SURNAMES)
    if origin == "east_asian" and roll < 0.5:
        return rng.choice(lp.SHORT_SURNAMES)
    return invented_surname(rng, origin)


def first_name(rng: random.Random, sex: str, origin: str = "census") -> str:
    """A first name for the sex and origin (census names for "census", else mostly the origin's own list)."""
    p = pools()
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(lp.SHORT_FIRSTS[sex])
    if roll < 0.11:
        return rng.choice(lp.ACCENTED_FIRSTS[sex])
    if origin in lp.ORIGIN_FIRSTS and rng.random() < 0.8:
        return rng.choice(lp.ORIGIN_FIRSTS[origin][0 if sex == "m" else 1])
    names = p.male_firsts if sex == "m" else p.female_firsts
    # Pools are in census frequency order: half the draws come from the 150 most frequent names, as in real charts.
    return rng.choice(names[:150]) if rng.random() < 0.5 else rng.choice(names)


def person(rng: random.Random, sex: str | None = None) -> Person:
    """A fake person of a random origin."""
    sex = sex or rng.choice("mf")
    origin = "census" if rng.random() < 0.5 else rng.choice(ORIGINS + ("european",))
    last_origin = origin if origin in lp.SURNAME_PARTS else "neutral"
    return Person(first_name(rng, sex, origin), surname(rng, "census" if origin == "census" else last_origin), sex,
    origin)


def nickname(rng: random.Random, first: str, sex: str = "m") -> str:
    """A nickname for ``first`` when one is known, else a common stand-alone nickname for the sex."""
    if first in lp.NICKNAMES and rng.random() < 0.8:
        return rng.choice(lp.NICKNAMES[first])
    return rng.choice(lp.STANDALONE_NICKNAMES[sex])


def initials(rng: random.Random, who: Person) -> str:
    """Initials of 2 or 3 letters in the shapes notes use: "JR", "J.R.", "jr", "JRS"."""
    letters = [who.first[0], who.last.replace("'", "").split()[-1][0]]
    if rng.random() < 0.25:
        letters.insert(1, rng.choice("ABCDEFGHJKLMNPRSTW"))
    letters = [c.upper() for c in letters]
    form = rng.random()
    if form < 0.5:
        return "".join(letters)
    if form < 0.8:
        return ".".join(letters) + "."
    return "".join(letters).lower()


def formal_first(rng: random.Random) -> str:
    """A formal first name that has nicknames (for "Robert 'Bob' Kline")."""
    return rng.choice(sorted(lp.NICKNAMES))
