"""Fake places: facilities, employers, schools, churches, wards without a cue word, streets, apartments, ZIP codes,
counties, cities and states.

Every maker returns pieces. A facility is one LOCATION span, keywords included ("Westbrook General Hospital");
an address is one span per part (street, apartment, city, state, ZIP), the commas between them outside.
"""

from __future__ import annotations

import random

from training.phi.generator import lists_places as lpl
from training.phi.generator.fake_people import surname
from training.phi.generator.pieces import Piece
from training.phi.generator.pools import pools

LOC = "LOCATION"


def place_word(rng: random.Random) -> str:
    """A place-like name: an invented compound ("Seaview"), a census surname or a US city."""
    roll = rng.random()
    if roll < 0.5:
        head, tail = rng.choice(lpl.PLACE_HEADS), rng.choice(lpl.PLACE_TAILS)
        return head + tail
    if roll < 0.75:
        return surname(rng)
    return rng.choice(pools().us_cities)


def _fill(rng: random.Random, form: str) -> str:
    return form.format(P=place_word(rng), S=rng.choice(lpl.SAINTS), T=rng.choice(pools().states)[0],
                       C=rng.choice(pools().us_cities), L=surname(rng), L2=surname(rng))


def hospital(rng: random.Random) -> str:
    """A hospital name."""
    return _fill(rng, rng.choice(lpl.HOSPITAL_FORMS))


def facility(rng: random.Random, kind: str) -> str:
    """A named place of one kind: rehab, nursing_home, pharmacy, employer, school, church, shelter, clinic, agency."""
    forms = {"rehab": lpl.REHAB_FORMS, "nursing_home": lpl.NURSING_HOME_FORMS, "pharmacy": lpl.PHARMACY_FORMS,
             "employer": lpl.EMPLOYER_FORMS, "school": lpl.SCHOOL_FORMS, "church": lpl.CHURCH_FORMS,
             "shelter": lpl.SHELTER_FORMS, "clinic": lpl.CLINIC_FORMS, "agency": lpl.AGENCY_FORMS}[kind]
    return _fill(rng, rng.choice(forms))


def bare_place(rng: random.Random) -> str:
    """A facility or ward named with no cue word at all ("back from Seaview", "transfer to Westbrook 2/3")."""
    return rng.choice(lpl.PLACE_HEADS) + rng.choice(lpl.PLACE_TAILS) if rng.random() < 0.7 else surname(rng)


def street(rng: random.Random) -> str:
    """A house number and street: "42 Elm St", "1187 Harborview Road"."""
    name = rng.choice(lpl.STREET_NAMES_EXTRA) if rng.random() < 0.3 else place_word(rng)
    number = rng.choice((rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 19999)))
    return f"{number} {name} {rng.choice(lpl.STREET_SUFFIXES)}"


def apartment(rng: random.Random) -> str:
    """A home apartment or unit number (PHI, unlike a hospital room)."""
    word = rng.choice(lpl.UNIT_WORDS)
    num = rng.choice((str(rng.randint(1, 40)), f"{rng.randint(1, 9)}{rng.choice('ABCDEF')}",
    str(rng.randint(100, 1299))))
    return f"#{num}" if word == "#" else f"{word} {num}"


def zip_code(rng: random.Random) -> str:
    """A five-digit ZIP code, sometimes ZIP+4."""
    z = f"{rng.randint(1001, 99950):05d}"
    return f"{z}-{rng.randint(0, 9999):04d}" if rng.random() < 0.2 else z


def city(rng: random.Random) -> str:
    """A city: mostly US, sometimes elsewhere."""
    return rng.choice(pools().us_cities) if rng.random() < 0.92 else rng.choice(pools().world_cities)


def county(rng: random.Random) -> str:
    """A US county or parish, with its keyword."""
    return rng.choice(pools().counties)


def state(rng: random.Random, code: bool | None = None) -> str:
    """A US state, as a name or a USPS code."""
    name, abbr = rng.choice(pools().states)
    use_code = rng.random() < 0.6 if code is None else code
    return abbr if use_code else name


def city_state(rng: random.Random) -> list[Piece]:
    """"Springfield, MA": two spans."""
    return [Piece(rng.choice(pools().us_cities), LOC), Piece(", "), Piece(state(rng), LOC)]


def us_address(rng: random.Random, one_line: bool | None = None) -> list[Piece]:
    """A US street address, one span per part, on one line or two."""
    one_line = rng.random() < 0.6 if one_line is None else one_line
    out = [Piece(street(rng), LOC)]
    if rng.random() < 0.4:
        out += [Piece(rng.choice((", ", " "))), Piece(apartment(rng), LOC)]
    out.append(Piece(", " if one_line else "\n"))
    out += [Piece(rng.choice(pools().us_cities), LOC),
            Piece(rng.choice((", ", " "))), Piece(state(rng), LOC)]
    if rng.random() < 0.85:
        out += [Piece(rng.choice((" ", "  "))), Piece(zip_code(rng), LOC)]
    return out


def postcode(rng: random.Random) -> str:
    """A UK-shaped postcode ("LS6 3QT")."""
    area = rng.choice(("LS", "BD", "HG", "HX", "WF", "DN", "CH", "EX", "TA", "NR", "IP", "SN", "RG", "SK", "BL", "CA"))
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def uk_address(rng: random.Random) -> list[Piece]:
    """A UK address over lines: house and road, town, postcode."""
    road = f"{rng.randint(1, 240)} {place_word(rng)} {rng.choice(lpl.UK_STREET_SUFFIXES)}"
    return [Piece(road, LOC), Piece("\n"), Piece(rng.choice(lpl.UK_TOWNS), LOC), Piece("\n"), Piece(postcode(rng), LOC)]


def ward(rng: random.Random) -> list[Piece]:
    """A ward named after a place or person, then its floor ("Westbrook 2/3"): only the name is PHI."""
    return [Piece(bare_place(rng), LOC), Piece(rng.choice(lpl.WARD_SUFFIXES))]
