"""The slot table: every ``{name}`` a template may use, mapped to the pieces it writes.

People slots read the note's cast (``pt``, ``dr``, ``rel``...); place, contact, id and date slots draw fresh fake
values; hard-negative slots (``drug``, ``bp``, ``room``...) write keep pieces. A title ("Dr.", "Mr.") or a role word
("husband", "SW") is written outside the NAME span; a credential after a name ("RRT") likewise.
"""

from __future__ import annotations

from training.phi.generator import fake_dates as fd
from training.phi.generator import fake_numbers as fn
from training.phi.generator import fake_people as fpe
from training.phi.generator import fake_places as fpl
from training.phi.generator import lists_people as lp
from training.phi.generator import lists_places as lpl
from training.phi.generator import negatives as ng
from training.phi.generator.context import NoteContext, SlotFn
from training.phi.generator.pieces import Piece

NAME, LOC, DATE, AGE, CONTACT, ID = "NAME", "LOCATION", "DATE", "AGE", "CONTACT", "ID"


def _one(label: str, maker) -> SlotFn:
    return lambda c: [Piece(maker(c), label)]


def _text(maker) -> SlotFn:
    return lambda c: [Piece(maker(c))]


def _pt_formal(c: NoteContext) -> list[Piece]:
    title = "Mr." if c.cast.patient.sex == "m" else c.pick(("Mrs.", "Ms.", "Ms"))
    return [Piece(title + " "), Piece(c.cast.patient.last, NAME)]


def _dr(c: NoteContext, who: fpe.Person | None = None) -> list[Piece]:
    who = who or c.pick(c.cast.doctors)
    title = c.pick(lp.DOCTOR_TITLES)
    name = who.last if c.chance(0.8) else who.full
    if title.islower():
        name = name.lower()
    return [Piece(title), Piece(name, NAME)]


def _rel(c: NoteContext, i: int) -> list[Piece]:
    word, who = c.cast.relatives[i]
    name = who.first if c.chance(0.7) else who.full
    if c.chance(0.3):
        name = name.lower()
    return [Piece(word + " "), Piece(name, NAME)]


def _staff(c: NoteContext) -> list[Piece]:
    """A role word then a first name alone: "SW Mike", "charge RN lena"."""
    role, who = c.pick(c.cast.staff)
    name = who.first.lower() if c.chance(0.35) else who.first
    return [Piece(role + " "), Piece(name, NAME)]


def signature(c: NoteContext, kind: str) -> list[Piece]:
    """A sign-off: a name (one span, or surname and first name) and a credential outside the span."""
    who = c.pick(c.cast.staff)[1] if c.chance(0.6) else fpe.person(c.rng)
    cred = c.pick(lp.CREDENTIALS[kind])
    form = c.rng.random()
    if form < 0.3:
        return [Piece(who.full, NAME), Piece(c.pick((", ", " ", ", ")) + cred)]
    if form < 0.45:
        return [Piece(f"{who.first[0]}. {who.last}", NAME), Piece(", " + cred)]
    if form < 0.55:
        return [Piece(who.last, NAME), Piece(", "), Piece(who.first, NAME), Piece(" " + cred)]
    if form < 0.65:
        return [Piece(who.first, NAME), Piece(" " + cred)]
    if form < 0.75:
        return [Piece(fpe.initials(c.rng, who), NAME), Piece(" " + cred)]
    if form < 0.9:
        return [Piece(who.full.lower(), NAME), Piece(" " + cred.lower())]
    return [Piece(who.full.upper(), NAME), Piece(", " + cred)]


def _age_phrase(c: NoteContext) -> list[Piece]:
    """An age over 89 with its unit; only the number (or number words) is the AGE span."""
    form = c.rng.random()
    if form < 0.2:
        return [Piece(fd.age_words(c.rng), AGE), Piece(c.pick(("-year-old", " year old", " years old", " yo")))]
    n = fd.age_number(c.rng)
    if form < 0.35:
        return [Piece("aged "), Piece(n, AGE)]
    return [Piece(n, AGE), Piece(c.pick((" yo", "-year-old", " y/o", " y.o.", " year old", " yr old", "yo", " YO",
                                         "-yr-old", "y")))]


def _age_piece(c: NoteContext, text: str) -> Piece:
    """The patient's age: an AGE span over 89, a keep (young age) otherwise."""
    return Piece(text, AGE) if c.cast.age > 89 else Piece(text, keep="YOUNG_AGE")


def _pt_age(c: NoteContext) -> list[Piece]:
    """The patient's age as an adjective before "male"/"man": "98 yo", "91-year-old", "ninety-two-year-old"."""
    age = c.cast.age
    if age > 89 and c.chance(0.15):
        return [_age_piece(c, fd.age_words(c.rng, age)), Piece(c.pick(("-year-old", " year old", " yo")))]
    return [_age_piece(c, str(age)), Piece(c.pick((" yo", "-year-old", " y/o", " y.o.", " year old", " yr old", "yo",
                                                   " YO", "-yr-old", "y")))]


def _pt_aged(c: NoteContext) -> list[Piece]:
    words = c.cast.age > 89 and c.chance(0.15)
    return [Piece("aged "), _age_piece(c, fd.age_words(c.rng, c.cast.age) if words else str(c.cast.age))]


def _dob(c: NoteContext) -> str:
    y, m, d = c.cast.birth_year, c.rng.randint(1, 12), c.rng.randint(1, 28)
    if c.uk:
        return c.pick((f"{d:02d}/{m:02d}/{y}", f"{d} {fd.MONTHS[m - 1]} {y}", f"{d}/{m}/{y}"))
    return c.pick((f"{m}/{d}/{y}", f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{fd.MONTHS[m - 1][:3]} {d}, {y}"))


def _formal_nick(c: NoteContext) -> list[Piece]:
    """The patient's first name, nickname in quotes or brackets, and surname: 'Robert "Bob" Kline'."""
    left, right = c.pick(((' "', '" '), (" (", ") "), (" '", "' ")))
    pt = c.cast.patient
    return [Piece(pt.first, NAME), Piece(left), Piece(c.cast.nick, NAME), Piece(right), Piece(pt.last, NAME)]


def _spouse(c: NoteContext) -> fpe.Person:
    """The patient's spouse or partner (the first relative when there is none, as for a child)."""
    for word, who in c.cast.relatives:
        if word in lp.RELATIONS_BY_SEX["spouse_of_m"] + lp.RELATIONS_BY_SEX["spouse_of_f"]:
            return who
    return c.cast.relatives[0][1]


def _ordinal(c: NoteContext) -> list[Piece]:
    """A day of the month as an ordinal ("13th"); the template writes "the" before it."""
    return [Piece(fd.ordinal(c.rng.randint(1, 31)), DATE)]


def _email(c: NoteContext) -> list[Piece]:
    who = c.cast.patient if c.chance(0.4) else c.pick(c.cast.relatives)[1] if c.chance(0.5) else c.pick(c.cast.doctors)
    return [Piece(fn.email(c.rng, who.first, who.last), CONTACT)]


def _date(c: NoteContext) -> str:
    return fd.uk_date(c.rng, year=c.cast.year) if c.uk else fd.us_date(c.rng, year=c.cast.year)


def _vitals(c: NoteContext) -> list[Piece]:
    """A vital-signs line: BP and the oxygen setting are keeps, the rest plain numbers."""
    r = c.rng
    return [Piece(f"T {r.choice(('97.', '98.', '99.', '100.', '101.'))}{r.randint(0, 9)} HR {r.randint(52, 128)} BP "),
            ng.bp(r), Piece(f" RR {r.randint(12, 32)} SpO2 {r.randint(88, 100)}% "), ng.vent(r)]


SLOTS: dict[str, SlotFn] = {
    # the patient
    "pt": lambda c: [Piece(c.cast.patient.full, NAME)],
    "pt_first": lambda c: [Piece(c.cast.patient.first, NAME)],
    "pt_last": lambda c: [Piece(c.cast.patient.last, NAME)],
    "pt_formal": _pt_formal,
    "pt_lastfirst": lambda c: [Piece(c.cast.patient.last, NAME), Piece(", "), Piece(c.cast.patient.first, NAME)],
    "pt_nick": lambda c: [Piece(c.cast.nick, NAME)],
    "pt_ini": lambda c: [Piece(fpe.initials(c.rng, c.cast.patient), NAME)],
    "pt_lower": lambda c: [Piece(c.pick((c.cast.patient.full, c.cast.patient.last, c.cast.patient.first)).lower(),
    NAME)],
    "he": _text(lambda c: "he" if c.cast.patient.sex == "m" else "she"),
    "He": _text(lambda c: "He" if c.cast.patient.sex == "m" else "She"),
    "his": _text(lambda c: "his" if c.cast.patient.sex == "m" else "her"),
    "His": _text(lambda c: "His" if c.cast.patient.sex == "m" else "Her"),
    "him": _text(lambda c: "him" if c.cast.patient.sex == "m" else "her"),
    "sex": _text(lambda c: "male" if c.cast.patient.sex == "m" else "female"),
    "mf": _text(lambda c: c.cast.patient.sex.upper()),
    "widow": _text(lambda c: "widower" if c.cast.patient.sex == "m" else "widow"),
    "man": _text(lambda c: c.pick(("man", "gentleman")) if c.cast.patient.sex == "m" else c.pick(("woman", "lady"))),
    # relatives and staff
    "rel": lambda c: _rel(c, 0), "rel2": lambda c: _rel(c, 1),
    "relword": _text(lambda c: c.cast.relatives[0][0]), "rel2word": _text(lambda c: c.cast.relatives[1][0]),
    "rel_name": lambda c: [Piece(c.cast.relatives[0][1].first, NAME)],
    "rel2_name": lambda c: [Piece(c.cast.relatives[1][1].first, NAME)],
    "rel_full": lambda c: [Piece(c.cast.relatives[0][1].full, NAME)],
    "spouse_full": lambda c: [Piece(_spouse(c).full, NAME)],
    "dr": _dr, "dr2": lambda c: _dr(c, c.cast.doctors[1]),
    "dr_last": lambda c: [Piece(c.pick(c.cast.doctors).last, NAME)],
    "dr_full": lambda c: [Piece(c.pick(c.cast.doctors).full, NAME)],
    "dr_lower": lambda c: [Piece(c.pick(("dr ", "dr. ", "dr "))), Piece(c.pick(c.cast.doctors).last.lower(), NAME)],
    **{f"doc{i}_{part}": (lambda i, part: lambda c: [Piece(getattr(c.cast.doctors[i], part), NAME)])(i, part)
       for i in (0, 1) for part in ("full", "last")},
    "date_letter": _one(DATE,
                        lambda c: fd.uk_date(c.rng, c.pick(("d_month_y", "ord_month", "dmy4")), c.cast.year) if c.uk
                        else fd.us_date(c.rng, c.pick(("long", "long_plain", "mdy4")), c.cast.year)),
    "dr_full_lower": lambda c: [Piece(c.pick(c.cast.doctors).full.lower(), NAME)],
    "dr_cred": lambda c: signature(c, c.pick(("md", "md", "np", "pa"))),
    "staff": _staff,
    "staff_first": lambda c: [Piece(c.pick(c.cast.staff)[1].first, NAME)],
    "staff_full": lambda c: [Piece(c.pick(c.cast.staff)[1].full, NAME)],
    "init": lambda c: [Piece(fpe.initials(c.rng, c.pick(c.cast.staff)[1]), NAME)],
    "word_name": lambda c: [Piece(c.pick(lp.WORD_NAMES), NAME)],
    "any_name": lambda c: [Piece(fpe.person(c.rng).full, NAME)],
    "formal_nick": _formal_nick,
    **{f"sign_{k}": (lambda k: lambda c: signature(c, k))(k) for k in lp.CREDENTIALS},
    # places
    "hosp": _one(LOC, lambda c: fpl.hospital(c.rng)),
    "bare": _one(LOC, lambda c: fpl.bare_place(c.rng)), "ward": lambda c: fpl.ward(c.rng),
    **{k: (lambda k: _one(LOC, lambda c: fpl.facility(c.rng, k)))(k)
       for k in ("rehab", "nursing_home", "pharmacy", "employer", "school", "church", "shelter", "clinic", "agency")},
    "city": _one(LOC, lambda c: c.pick(lpl.UK_TOWNS) if c.uk else fpl.city(c.rng)),
    "county": _one(LOC, lambda c: fpl.county(c.rng)),
    "state": _one(LOC, lambda c: fpl.state(c.rng)), "state_name": _one(LOC, lambda c: fpl.state(c.rng, code=False)),
    "city_state": lambda c: fpl.city_state(c.rng),
    "address": lambda c: fpl.uk_address(c.rng) if c.uk else fpl.us_address(c.rng),
    "address1": lambda c: fpl.us_address(c.rng, one_line=True),
    "street": _one(LOC, lambda c: fpl.street(c.rng)), "apt": _one(LOC, lambda c: fpl.apartment(c.rng)),
    "zip": _one(LOC, lambda c: fpl.zip_code(c.rng)), "postcode": _one(LOC, lambda c: fpl.postcode(c.rng)),
    # contact details
    "phone": _one(CONTACT, lambda c: fn.uk_phone(c.rng) if c.uk else fn.phone(c.rng)),
    "phone_ext": _one(CONTACT, lambda c: fn.phone_with_extension(c.rng)),
    "ext": _one(CONTACT, lambda c: fn.extension(c.rng)), "pager": _one(CONTACT, lambda c: fn.pager(c.rng)),
    "fax": _one(CONTACT, lambda c: fn.uk_phone(c.rng) if c.uk else fn.phone(c.rng)), "email": _email,
    "url": _one(CONTACT, lambda c: fn.url(c.rng)), "ip": _one(CONTACT, lambda c: fn.ip_address(c.rng)),
    # identifiers
    "mrn": _one(ID, lambda c: fn.mrn(c.rng)), "ssn": _one(ID, lambda c: fn.ssn(c.rng)),
    "acct": _one(ID, lambda c: fn.account(c.rng)), "member": _one(ID, lambda c: fn.member_id(c.rng)),
    "accession": _one(ID, lambda c: fn.accession(c.rng)), "plate": _one(ID, lambda c: fn.plate(c.rng)),
    "serial": _one(ID, lambda c: fn.serial(c.rng)), "licence": _one(ID, lambda c: fn.licence(c.rng)),
    "short_id": _one(ID, lambda c: fn.short_id(c.rng)),
    "username": _one(ID, lambda c: fn.username(c.rng, c.cast.patient.first, c.cast.patient.last)),
    "nhs": _one(ID, lambda c: f"999 {c.rng.randint(100, 999)} {c.rng.randint(1000, 9999)}"),
    # dates and ages
    "date": _one(DATE, _date),
    "line_date": _one(DATE, lambda c: fd.uk_date(c.rng, "dm") if c.uk else fd.line_date(c.rng)),
    **{f"date_{f}": (lambda f: _one(DATE, lambda c: fd.us_date(c.rng, f, c.cast.year)))(f)
       for f in ("md", "mdy2", "mdy4", "iso", "mon_d", "d_mon", "long", "long_plain", "mon_y", "mon_ord", "m_y")},
    "month": _one(DATE, lambda c: fd.month(c.rng)),
    "ordinal": _ordinal, "holiday": _one(DATE, lambda c: fd.holiday(c.rng)),
    "year": _one(DATE, lambda c: str(c.rng.randint(max(1950, c.cast.birth_year + 12), c.cast.year))),
    "recent_year": _one(DATE, lambda c: str(c.cast.year - c.rng.randint(1, 12))),
    "yy": _one(DATE, lambda c: fd.two_digit_year(c.rng, c.cast.year)),
    "dob": _one(DATE, _dob), "pt_age": _pt_age, "pt_aged": _pt_aged,
    "pt_age_num": lambda c: [_age_piece(c, str(c.cast.age))],
    "age": _one(AGE, lambda c: fd.age_number(c.rng)), "age_words": _one(AGE, lambda c: fd.age_words(c.rng)),
    "age_phrase": _age_phrase,
    # hard negatives
    **{k: (lambda f: lambda c: [f(c.rng)])(f) for k, f in (
        ("drug", ng.drug), ("score", ng.score), ("scale", ng.scale), ("strength", ng.strength), ("bp", ng.bp),
        ("vent", ng.vent), ("lab", ng.lab), ("dose", ng.dose), ("time", ng.clock), ("shift", ng.shift),
        ("ga", ng.gestation),
        ("room", ng.room), ("day", ng.day), ("young", ng.young), ("freq", ng.freq), ("noname", ng.no_name))},
    **{f"lab_{k}": (lambda k: lambda c: [ng.lab(c.rng, k)])(k) for k in ng.LABS},
    "gp": lambda c: [ng.gravida(c.rng)], "adult_age": lambda c: [ng.young(c.rng, 18, 44)],
    "word_use": lambda c: ng.word_use(c.rng, c.style in ("icu_nursing", "nursing_lower", "run_on", "respiratory")),
    "vitals": _vitals, "med_row": lambda c: ng.med_row(c.rng),
}
