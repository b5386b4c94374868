"""Does a study fit a segmentation model? Modality and body region, checked before a model runs.

A torso model run on a brain MRI labels the brain "heart" and reports it with a volume and a QC grade, which looks
like a result. Two checks say beforehand, in one sentence each, when the study is not what the card was made for:

- **modality**: the study's modality (from the header, or guessed from intensities) against the card's modalities;
- **body region**: the region the card's structures belong to (``head`` or ``torso``, from a ``body_region`` field
  when a card has one, else from its label names) against the study's: DICOM ``BodyPartExamined`` when the header has
  it, else a cheap image check: the median left-right width of the body in axial slices (an adult head is about
  14-20 cm wide, a chest or abdomen 25-45 cm; a width in between decides nothing).

A modality the card does not list cannot run at all (the card has no intensity normalisation for it: the engine
refuses it); a region mismatch can, so the window asks the user whether to run anyway and ``medpriv segment``
refuses unless ``--force``. Counts and words only: no header value other than the body part is read, and nothing is
logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Label names (lower case, parts of names) that place a model's structures in a region.
REGION_WORDS: dict[str, tuple[str, ...]] = {
    "head": ("brain", "skull", "cerebell", "ventricle", "orbit", "optic", "hippocamp", "thalam", "cortex"),
    "torso": ("lung", "heart", "liver", "spleen", "kidney", "aorta", "pancrea", "stomach", "bladder", "vertebra",
              "rib", "gallbladder", "adrenal", "esophag", "colon", "duoden", "trachea"),
}
#: DICOM BodyPartExamined values (upper case) by region.
BODY_PARTS: dict[str, frozenset[str]] = {
    "head": frozenset({"HEAD", "BRAIN", "SKULL", "HEADNECK", "HEAD_NECK", "NECK", "IAC", "ORBIT", "SINUS"}),
    "torso": frozenset({"CHEST", "THORAX", "ABDOMEN", "PELVIS", "CHESTABDOMEN", "CHEST_ABDOMEN", "ABDOMENPELVIS",
                        "CHESTABDPELV", "TORSO", "HEART", "LUNG", "LIVER", "KIDNEY", "CSPINE", "TSPINE", "LSPINE",
                        "SPINE", "WHOLEBODY", "WHOLE_BODY"}),
}
#: Median body width (mm, left to right) at or below which a study is a head, at or above which a torso.
HEAD_MAX_WIDTH_MM = 210.0
TORSO_MIN_WIDTH_MM = 250.0


@dataclass(frozen=True)
class StudyFit:
    """The outcome: the problems found (one sentence each; empty when the study fits) and what was measured;
    ``modality_ok`` is False when the card does not take the study's modality at all."""

    problems: list[str]
    study_region: str | None = None
    region_basis: str = ""
    model_region: str | None = None
    modality_ok: bool = True
    region_problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing argues against running the model."""
        return not self.problems

    def message(self) -> str:
        """The problems as one paragraph."""
        return " ".join(self.problems)


def model_region(card: Any) -> str | None:
    """``head`` or ``torso`` for a segmentation card (its ``body_region`` when present, else its label names)."""
    declared = getattr(card, "body_region", None)
    if declared:
        return str(declared).lower()
    names = " ".join(lb.name.lower() for lb in card.outputs.labels if lb.value != 0)
    votes = {r: sum(1 for w in words if w in names) for r, words in REGION_WORDS.items()}
    best = max(votes, key=votes.get)
    return best if votes[best] and list(votes.values()).count(votes[best]) == 1 else None


def _header_body_part(volume: Any) -> str | None:
    """BodyPartExamined of a DICOM study (first file, header only), or a reader's ``body_part`` meta value."""
    part = volume.meta.get("body_part")
    files = volume.meta.get("dicom_files") or []
    if not part and files:
        try:
            import pydicom

            ds = pydicom.dcmread(files[0], stop_before_pixels=True, specific_tags=["BodyPartExamined"])
            part = getattr(ds, "BodyPartExamined", None)
        except Exception:  # noqa: BLE001 - no header answer: the image check decides
            part = None
    return str(part).strip().upper().replace(" ", "") if part else None


def body_width_mm(volume: Any) -> float | None:
    """Median left-right width (mm) of the body in the axial slices that hold some of it; None when none do."""
    ras = volume.reoriented("RAS")
    arr = ras.array
    sample = arr[:: max(1, arr.shape[0] // 128), :: max(1, arr.shape[1] // 128), :: max(1, arr.shape[2] // 64)]
    step_x = max(1, arr.shape[0] // 128)
    if volume.modality == "CT":
        body = sample > -500.0
    else:  # MR has no fixed scale: air is the dark tail
        lo, hi = np.percentile(sample[:: max(1, sample.size // 200_000)], [2, 98])
        body = sample > lo + 0.15 * (hi - lo)
    widths = []
    for k in range(body.shape[2]):
        m = body[:, :, k]  # [x, y]
        per_row = m.sum(axis=0)
        if not per_row.any():
            continue
        # Measure across the body's centre row: the table under the patient (wide, at the back) is not crossed.
        cy = int(round(float(np.average(np.arange(len(per_row)), weights=per_row))))
        # From the outermost body voxel on one side to the other: the air of the lungs lies inside that span.
        xs = np.flatnonzero(m[:, max(0, cy - 1): cy + 2].any(axis=1))
        widths.append(int(xs[-1] - xs[0] + 1) * step_x * float(ras.spacing[0]) if xs.size else 0.0)
    widths_arr = np.asarray([w for w in widths if w > 0])
    return float(np.median(widths_arr)) if widths_arr.size else None


def study_region(volume: Any) -> tuple[str | None, str]:
    """(region, how it was told): from the header's body part, else from the body's width."""
    part = _header_body_part(volume)
    if part:
        for region, parts in BODY_PARTS.items():
            if part in parts:
                return region, f"the header says {part.lower()}"
    width = body_width_mm(volume)
    if width is None:
        return None, "no body found in the image"
    if width <= HEAD_MAX_WIDTH_MM:
        return "head", f"the body is {width / 10:.0f} cm wide, a head"
    if width >= TORSO_MIN_WIDTH_MM:
        return "torso", f"the body is {width / 10:.0f} cm wide, a chest or abdomen"
    return None, f"the body is {width / 10:.0f} cm wide"


def check_study(volume: Any, card: Any) -> StudyFit:
    """Modality and body region of ``volume`` against a segmentation ``card`` (see the module docstring)."""
    problems: list[str] = []
    mods = list(card.image_input.modalities) if getattr(card, "image_input", None) else []
    guessed = " (guessed from its intensities)" if volume.meta.get("modality_guessed") else ""
    modality_ok = not mods or volume.modality in mods
    if not modality_ok:
        problems.append(f"The study is {volume.modality}{guessed}, but {card.id} was made for "
                        f"{' and '.join(mods)} only.")
    want = model_region(card)
    region, how = study_region(volume)
    region_problem = None
    if want and region and region != want:
        region_problem = (f"The study looks like a {region} ({how}), but {card.id} segments structures of the "
                          f"{want}; its labels would name the wrong organs.")
        problems.append(region_problem)
    return StudyFit(problems, region, how, want, modality_ok, region_problem)
