"""Reader of the PhysioNet deid gold standard (``id.text`` + ``id-phi.phrase``) and patient-grouped folds."""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from pathlib import Path

_REC = re.compile(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", re.S)

#: PhysioNet deid types -> the PHI model's coarse labels.
PHYSIONET_TO_LABEL = {
    "PTName": "NAME", "PTNameInitial": "NAME", "HCPName": "NAME", "RelativeProxyName": "NAME", "OtherName": "NAME",
    "Date": "DATE", "DateYear": "DATE", "Age": "AGE", "Location": "LOCATION", "Phone": "CONTACT", "Email": "CONTACT",
    "Initial": "NAME", "SSN": "ID", "MRN": "ID", "Other": "ID",
}


@dataclass
class AnnotatedNote:
    """One note with its gold PHI spans ``(start, end, type)`` (types as written in the corpus)."""

    patient: str
    note_id: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


def read_physionet(folder: Path) -> list[AnnotatedNote]:
    """All notes of ``folder/id.text`` with the spans of ``folder/id-phi.phrase``, in corpus order."""
    folder = Path(folder)
    text = (folder / "id.text").read_text(encoding="latin-1")
    notes = {(p, n): AnnotatedNote(p, n, body) for p, n, body in _REC.findall(text)}
    phrase = folder / "id-phi.phrase"
    if phrase.is_file():
        for line in phrase.read_text(encoding="latin-1").splitlines():
            f = line.split(None, 5)
            if len(f) >= 5 and (f[0], f[1]) in notes:
                notes[(f[0], f[1])].spans.append((int(f[2]), int(f[3]), f[4]))
    return list(notes.values())


def patient_folds(notes: list[AnnotatedNote], k: int = 5, seed: int = 0) -> list[set[str]]:
    """``k`` disjoint sets of patient ids with about the same number of notes each (greedy by size)."""
    import random

    counts = collections.Counter(n.patient for n in notes)
    pats = sorted(counts)
    random.Random(seed).shuffle(pats)
    pats.sort(key=lambda p: -counts[p])
    folds: list[set[str]] = [set() for _ in range(k)]
    sizes = [0] * k
    for p in pats:
        i = sizes.index(min(sizes))
        folds[i].add(p)
        sizes[i] += counts[p]
    return folds


def write_physionet(notes: list[AnnotatedNote], folder: Path) -> None:
    """Write notes back in the corpus format (used to give the harness one fold; never into the repo)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "id.text", "w", encoding="latin-1") as fh:
        for n in notes:
            fh.write(f"START_OF_RECORD={n.patient}||||{n.note_id}||||\n{n.text}||||END_OF_RECORD\n")
    with open(folder / "id-phi.phrase", "w", encoding="latin-1") as fh:
        for n in notes:
            for s, e, t in n.spans:
                fh.write(f"{n.patient} {n.note_id} {s} {e} {t} {n.text[s:e]}\n")
