"""Fake contact details and identifiers: phones in many spacings, extensions, pagers, faxes, e-mails, URLs, IPs,
MRNs, SSNs, accounts, member ids, accession numbers, plates, serials and licences.

Most numbers sit in ranges reserved for fiction or documentation (555-01xx phones, example.* domains, the
documentation IP blocks, 987-65-432x SSNs, UK drama numbers); the rest are random, for variety of shape.
"""

from __future__ import annotations

import random
import unicodedata

_AREA = (617, 212, 410, 301, 443, 508, 781, 978, 215, 312, 415, 713, 206, 919, 404, 504, 303, 802, 207, 860)
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _groups(rng: random.Random) -> tuple[str, str, str]:
    area = str(rng.choice(_AREA) if rng.random() < 0.7 else rng.randint(201, 989))
    if rng.random() < 0.75:
        return area, "555", f"01{rng.randint(0, 99):02d}"
    return area, str(rng.randint(200, 989)), f"{rng.randint(0, 9999):04d}"


def phone(rng: random.Random) -> str:
    """A US phone number in one of many spellings, spaces and dashes inside the groups included."""
    a, b, c = _groups(rng)
    forms = (f"{a}-{b}-{c}", f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"{a}{b}{c}", f"{a}- {b}- {c}",
             f"{a} {b}{c}", f"{a} -{b}-{c}", f"({a}){b}-{c}", f"{b}-{c}", f"1-{a}-{b}-{c}", f"+1 {a} {b} {c}",
             f"{a}/{b}-{c}", f"{a}-{b}- {c}", f"{b} {c}", f"{a}-{b}{c}")
    return rng.choice(forms)


def extension(rng: random.Random) -> str:
    """A phone extension on its own: "x23", "ext 4410", "ext. 12"."""
    num = rng.choice((rng.randint(10, 99), rng.randint(100, 999), rng.randint(1000, 9999)))
    return rng.choice(("x{}", "x {}", "ext {}", "ext. {}", "Ext {}", "extension {}", "X{}")).format(num)


def phone_with_extension(rng: random.Random) -> str:
    """A phone number followed by an extension: one CONTACT span."""
    return f"{phone(rng)} {extension(rng)}"


def uk_phone(rng: random.Random) -> str:
    """A UK number from the ranges set aside for drama ("0113 496 0123", "020 7946 0018")."""
    return rng.choice((f"0113 496 0{rng.randint(0, 999):03d}", f"020 7946 0{rng.randint(0, 999):03d}",
                       f"0161 496 0{rng.randint(0, 999):03d}", f"07700 900{rng.randint(0, 999):03d}"))


def pager(rng: random.Random) -> str:
    """A pager number: "4-1234", "91234", "617-555-0142"."""
    return rng.choice((f"{rng.randint(1, 9)}-{rng.randint(1000, 9999)}", str(rng.randint(10000, 99999)),
                       str(rng.randint(1000, 9999)), phone(rng), f"#{rng.randint(1000, 99999)}"))


#: Letters NFKD leaves whole (no combining mark to drop).
_UNDECOMPOSED = str.maketrans("ŁłØøĐđıß", "LlOoDdis")


def _ascii(word: str) -> str:
    """``word`` with its diacritics folded ("Núñez" -> "Nunez"); "x" when nothing is left."""
    return unicodedata.normalize("NFKD", word.translate(_UNDECOMPOSED)).encode("ascii", "ignore").decode() or "x"


def email(rng: random.Random, first: str, last: str) -> str:
    """An address at an example domain built from a name (diacritics folded: "Núñez" -> "nunez")."""
    f, l = _ascii(first).lower().replace(" ", ""), _ascii(last).lower().replace(" ", "").replace("'", "")
    user = rng.choice((f"{f}.{l}", f"{f[0]}{l}", f"{f}{l[0]}{rng.randint(1, 99)}", f"{l}.{f}", f"{f}_{l}",
                       f"{f}{rng.randint(1950, 2005)}"))
    return f"{user}@{rng.choice(('example.com', 'example.org', 'example.net', 'mail.example.com', 'example.edu'))}"


def url(rng: random.Random) -> str:
    """A URL on an example domain."""
    path = rng.choice(("/portal/login", f"/pt/{rng.randint(1000, 99999)}", "/forms/intake", "/myhealth", "/refill",
                       f"/results?id={rng.randint(100000, 999999)}", "", "/clinic/cardiology"))
    host = rng.choice(("www.example.com", "portal.example.org", "example.net", "myhealth.example.com",
                       "records.example.org"))
    return rng.choice(("https://", "http://", "", "https://")) + host + path


def ip_address(rng: random.Random) -> str:
    """An address from the documentation ranges (IPv4 and IPv6)."""
    if rng.random() < 0.15:
        return f"2001:db8::{rng.randint(1, 0xffff):x}"
    return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"


def mrn(rng: random.Random) -> str:
    """A record number: plain digits, digits in groups, or with a letter prefix."""
    n = rng.randint(100000, 99999999)
    s = str(n)
    forms = (s, f"{n:010d}", f"{s[:3]}-{s[3:5]}-{s[5:]}", f"{s[:3]} {s[3:]}", f"{rng.choice(_LETTERS)}{s}",
             f"{rng.choice(('MP', 'H', 'MR', 'BW', 'E', 'Z'))}-{s}", f"{s[:4]} {s[4:]}", f"{s[:2]}-{s[2:]}",
             f"{rng.choice(_LETTERS)}{rng.choice(_LETTERS)} {s}")
    return rng.choice(forms)


def ssn(rng: random.Random) -> str:
    """An SSN from the 987-65-432x block, sometimes with spaces or as the last four digits."""
    last = f"432{rng.randint(0, 9)}"
    return rng.choice((f"987-65-{last}", f"987 65 {last}", f"98765{last}", f"xxx-xx-{last}", last, f"987-65-{last}"))


def account(rng: random.Random) -> str:
    """An account, visit or encounter number."""
    n = rng.randint(1000000, 999999999)
    return rng.choice((str(n), f"V{n}", f"{n:012d}", f"A{n % 100000:05d}-{rng.randint(10, 99)}",
                       f"{str(n)[:4]}-{str(n)[4:]}"))


def member_id(rng: random.Random) -> str:
    """A health plan member, Medicaid or Medicare id."""
    L = lambda: rng.choice(_LETTERS)  # noqa: E731
    d = lambda k: "".join(str(rng.randint(0, 9)) for _ in range(k))  # noqa: E731
    return rng.choice((f"{L()}{L()}{L()}{d(9)}", d(10), f"{d(1)}{L()}{L()}{d(1)}-{L()}{L()}{d(1)}-{L()}{L()}{d(2)}",
                       f"{L()}{d(8)}", f"{L()}{L()}{L()} {d(3)} {d(3)} {d(3)}", f"{d(9)}{L()}"))


def accession(rng: random.Random) -> str:
    """A radiology or pathology accession number."""
    y = rng.randint(10, 29)
    return rng.choice((f"RAD-20{y}-{rng.randint(1, 999999):06d}", f"CT{y}-{rng.randint(1000, 99999)}",
                       f"S{y}-{rng.randint(100, 99999)}", f"{rng.randint(10000000, 99999999)}",
                       f"MR 20{y} {rng.randint(1000, 9999)}", f"ACC{rng.randint(1000000, 9999999)}"))


def plate(rng: random.Random) -> str:
    """A licence plate."""
    L = lambda k: "".join(rng.choice(_LETTERS) for _ in range(k))  # noqa: E731
    return rng.choice((f"{rng.randint(1, 9)}{L(3)} {rng.randint(100, 999)}",
                       f"{rng.randint(1, 9)}{L(2)}-{rng.randint(100, 999)}",
                       f"{L(3)}-{rng.randint(1000, 9999)}", f"{L(2)}{rng.randint(10, 99)} {L(3)}"))


def serial(rng: random.Random) -> str:
    """A device serial number."""
    L = lambda k: "".join(rng.choice(_LETTERS) for _ in range(k))  # noqa: E731
    return rng.choice((f"{L(3)}{rng.randint(100000, 999999)}{L(1)}",
                       f"{rng.randint(1000, 9999)}-{L(2)}-{rng.randint(10, 99)}",
                       f"SN{rng.randint(10000000, 99999999)}", f"{L(2)}{rng.randint(1000000, 9999999)}"))


def licence(rng: random.Random) -> str:
    """A driver's licence, NPI or DEA number."""
    L = lambda k: "".join(rng.choice(_LETTERS) for _ in range(k))  # noqa: E731
    return rng.choice((f"{L(1)}{rng.randint(10, 99)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                       str(rng.randint(1000000000, 1999999999)), f"{L(2)}{rng.randint(1000000, 9999999)}",
                       f"{L(1)}{rng.randint(10000000, 99999999)}"))


def short_id(rng: random.Random) -> str:
    """A short number for a badge, Rx, interpreter, study or claim id."""
    return rng.choice((str(rng.randint(1000, 999999)), f"{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                       f"{rng.choice(_LETTERS)}{rng.randint(1000, 99999)}", f"RX{rng.randint(100000, 9999999)}"))


def username(rng: random.Random, first: str, last: str) -> str:
    """A patient portal user name."""
    f, l = first.lower().replace(" ", ""), last.lower().replace(" ", "").replace("'", "")
    return rng.choice((f"{f[0]}{l}{rng.randint(1, 99)}", f"{f}{l[:3]}", f"{l}_{f[0]}", f"{f}.{l}{rng.randint(1, 9)}"))
