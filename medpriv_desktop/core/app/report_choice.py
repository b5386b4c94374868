"""Which report model fits a report: chest X-ray or chest CT, told from the report's own words.

A chest X-ray report read by a chest CT model (or the reverse) gives labels from the wrong label set and
probabilities from text unlike any it was trained on. The workspace therefore picks the model by the report: words
that only a CT report uses (CT, axial, Hounsfield, mediastinal window, contrast-enhanced...) against words of a
radiograph report (radiograph, X-ray, PA and lateral, portable, frontal...). When the words do not decide, the
``default_report_model`` setting does, and else the current choice stays. Plain Python (no Qt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CHEST_CT, CHEST_XRAY = "Chest CT", "Chest X-ray"

#: Cues per modality (case-insensitive regular expressions, each counted once).
CUES: dict[str, tuple[str, ...]] = {
    CHEST_CT: (r"\bCT\b", r"computed tomograph", r"\baxial\b", r"\bhounsfield\b", r"\bHU\b", r"mediastinal window",
               r"lung window", r"contrast[- ]enhanced", r"non[- ]?contrast", r"\bangiograph", r"\bslices?\b",
               r"multiplanar", r"\bground[- ]glass\b", r"thin[- ]section", r"\battenuation\b", r"\benhanc",
               r"lymphadenopathy", r"lymph nodes?\b", r"\bbronchiectasis\b", r"\bmosaic\b", r"main bronch",
               r"\besophag", r"\badrenal", r"\bparenchyma", r"\babdomen\b|\babdominal\b"),
    CHEST_XRAY: (r"radiograph", r"\bx-?ray\b", r"\bCXR\b", r"\bPA\b", r"\bfrontal\b", r"\blateral view",
                 r"PA and lateral", r"\bportable\b", r"\bupright\b", r"costophrenic angle", r"\bsingle view\b",
                 r"cardiomediastinal silhouette", r"cardiac silhouette", r"no acute cardiopulmonary",
                 r"bony abnormalit", r"osseous structures", r"\bhilar contours?\b", r"pulmonary vascularity",
                 r"mediastinal contours?", r"bony thorax", r"\bairspace\b", r"\bvisualized\b", r"\bspine\b"),
}


def _compile(cue: str) -> re.Pattern:
    """An all-capital cue (CT, HU, PA, AP, CXR) matches in capitals only: "ct" or "ap" inside words are no cues."""
    letters = [ch for ch in re.sub(r"\\[a-zA-Z]", "", cue) if ch.isalpha()]
    return re.compile(cue, 0 if letters and all(ch.isupper() for ch in letters) else re.IGNORECASE)


_COMPILED = {m: [_compile(c) for c in cues] for m, cues in CUES.items()}


@dataclass(frozen=True)
class Guess:
    """The modality a report reads as (None when its words do not decide) and the cue counts behind it."""

    modality: str | None
    ct_cues: int
    xray_cues: int

    def describe(self) -> str:
        """A short reason for the model line."""
        if self.modality is None:
            return "its words do not say chest X-ray or CT"
        n = max(self.ct_cues, self.xray_cues)
        return f"it reads as a {self.modality.lower()} report ({n} cue word{'' if n == 1 else 's'})"


def guess_report_modality(text: str) -> Guess:
    """``Chest CT`` or ``Chest X-ray`` when one kind's cue words clearly outnumber the other's."""
    counts = {m: sum(1 for rx in rxs if rx.search(text)) for m, rxs in _COMPILED.items()}
    ct, xr = counts[CHEST_CT], counts[CHEST_XRAY]
    modality = CHEST_CT if ct > xr else CHEST_XRAY if xr > ct else None
    return Guess(modality, ct, xr)


def pick_model(text: str, entries: list[Any], modality_of: Any, default_id: str | None = None,
               current_id: str | None = None) -> tuple[str | None, str]:
    """The model id for ``text`` among registry ``entries`` and why: one of the guessed modality (the setting's
    model when it is of that modality), else the setting's model, else the current one."""
    guess = guess_report_modality(text)
    ids = [e.card.id for e in entries]
    if guess.modality is not None:
        fitting = [e.card.id for e in entries if modality_of(e.card) == guess.modality]
        if fitting:
            chosen = default_id if default_id in fitting else current_id if current_id in fitting else fitting[0]
            return chosen, guess.describe()
    if default_id in ids:
        return default_id, f"{guess.describe()}; the default report model (Preferences)"
    return (current_id if current_id in ids else (ids[0] if ids else None)), guess.describe()
