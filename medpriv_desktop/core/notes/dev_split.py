"""The fixed, seeded split of the de-identification development notes into a tuning part and a locked part.

The shared PhysioNet deid development notes (a quarter of the corpus's patients) are the only real annotated notes
here. From 2026-12-04 on, rules, lexicons, thresholds and model training use the **tuning** part only; the
**locked** part is scored for totals per category (``medpriv eval deid --part locked``, which refuses to write
misses), never read note by note. The split is by patient (all notes of a patient fall on one side) and is fixed
by :data:`SPLIT_SEED`; :func:`split_patients` is deterministic and independent of the order notes are read in.

Caveat stated wherever the locked figures are reported: the rule recognizers were written before this split, from
all development notes, so the locked part is unseen only by what was tuned after the split (the PHI model and
everything changed since); figures on it are honest for the model and optimistic for the older rules.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

#: The seed of the split; changing it would unlock the locked part.
SPLIT_SEED = "medpriv-deid-locked-2026-12-04"
#: At least this share of the patients (and of the notes) goes to the locked part.
LOCKED_SHARE = 1 / 3


def _rank(patient: str) -> str:
    return hashlib.sha256(f"{SPLIT_SEED}:{patient}".encode()).hexdigest()


def split_patients(patient_of_each_note: Iterable[str]) -> tuple[set[str], set[str]]:
    """``(tuning, locked)`` patient ids: patients in a seeded pseudo-random order go to the locked part until it
    holds at least :data:`LOCKED_SHARE` of the patients and of the notes."""
    counts = Counter(str(p) for p in patient_of_each_note)
    order = sorted(counts, key=_rank)
    total_notes, total_patients = sum(counts.values()), len(counts)
    locked: set[str] = set()
    notes = 0
    for p in order:
        if len(locked) >= LOCKED_SHARE * total_patients and notes >= LOCKED_SHARE * total_notes:
            break
        locked.add(p)
        notes += counts[p]
    return set(counts) - locked, locked


def part_of(patient: str, tuning: set[str], locked: set[str]) -> str:
    """``"tuning"`` or ``"locked"`` for a patient of the split (``"unknown"`` for one outside it)."""
    return "tuning" if patient in tuning else "locked" if patient in locked else "unknown"
