"""The label set of the phantom torso models (``medpriv-phantom-torso-v1``).

Two levels, as in SynthSeg: *generation* labels (every tissue the image simulator paints, including fat, muscle,
discs, bowel gas) and *segmentation* labels (what the network predicts). :data:`GEN_TO_SEG` maps the first onto the
second. Each segmentation label carries its colour, its TotalSegmentator names (``class_map.json``, tasks ``total``
and ``total_mr``) and, where a published adult norm exists, a reference volume range for QC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SegLabel:
    """One predicted structure."""

    value: int
    name: str
    title: str
    color: tuple[int, int, int]
    totalseg: tuple[str, ...] = ()
    reference: tuple[float, float, str] | None = None  # (min_ml, max_ml, citation)
    keep_largest: bool = False
    components: int | None = None
    volume_note: str | None = None  # why no adult range is checked (structures without ``reference``)


_VERT = tuple(f"vertebrae_{n}" for n in (
    [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)] + ["S1"]
)) + ("vertebrae",)
_RIBS = tuple(f"rib_{s}_{i}" for s in ("left", "right") for i in range(1, 13))

_LIVER_REF = (
    900.0, 2200.0,
    "Heymsfield SB et al., Accurate measurement of liver, kidney, and spleen volume and mass by computerized axial "
    "tomography, Ann Intern Med 1979;90:185-187 (adult liver about 1000-2000 ml)",
)
_SPLEEN_REF = (
    50.0, 400.0,
    "Prassopoulos P et al., Determination of normal splenic volume on computed tomography in relation to age, "
    "gender and body habitus, Eur Radiol 1997;7:246-248 (adult spleen 107-314 ml, mean 215 ml)",
)
_KIDNEY_REF = (
    90.0, 260.0,
    "Emamian SA et al., Kidney dimensions at sonography: correlation with age, sex, and habitus in 665 adult "
    "volunteers, AJR 1993;160:83-86 (mean renal volume about 146 ml left, 134 ml right)",
)

# Wang X et al. measured both glands by hand on 1.5 mm portal-venous CT in 81 adults without adrenal disease: left
# 2.85-5.83 cm3, right 2.59-6.56 cm3 (the observed ranges, not mean +/- SD).
_ADRENAL_SOURCE = ("Wang X et al., Evaluation of normal adrenal gland volume by 64-slice CT, Chin Med Sci J "
                   "2012;27:220-224 (81 adults: left {}, right {} ml)")
_ADRENAL_LEFT_REF = (2.8, 5.9, _ADRENAL_SOURCE.format("2.85-5.83", "2.59-6.56"))
_ADRENAL_RIGHT_REF = (2.5, 6.6, _ADRENAL_SOURCE.format("2.85-5.83", "2.59-6.56"))

# Heart and lungs: no study publishes a whole-organ CT volume interval, so these two ranges are DERIVED from published
# norms, wide on purpose (they catch a 34 mL "heart" or a 55 mL "lung", not a borderline organ).
# Heart (chambers and muscle together, as a whole-heart segmentation holds them). Upper: the 97.5th percentiles of
# Fuchs et al. (320-detector CT, 569 healthy adults), men, per m2 of body surface: LV 97, RV 120, LA 60, RA 85 mL and
# LV mass 80 g (76 mL at 1.05 g/mL): 438 mL/m2, times 2.3 m2 (a large adult) = 1,008 mL. Lower: twice the left
# ventricle's lower CT limits (mean - 2 SD of Kang et al. 2017 as tabulated in Cardiovasc Diagn Ther 2020;10:1918-1945,
# Table 3, women: end-diastolic volume 98.2 - 2 x 21.0 = 56 mL, LV mass 107.9 - 2 x 20.0 = 68 g = 65 mL), the right
# heart being at least as large: 242 mL.
_HEART_REF = (
    240.0, 1000.0,
    "Fuchs A et al. 2016 and Kang et al. 2017 (derived range), chamber volumes and muscle mass on CT: Fuchs A et al., "
    "Normal values of left ventricular mass and cardiac chamber volumes assessed by 320-detector computed tomography "
    "angiography in the Copenhagen General Population Study, Eur Heart J Cardiovasc Imaging 2016;17:1009-1017 "
    "(upper: sum of the men's 97.5th percentiles per m2 times 2.3 m2); Kang et al. 2017 in Cardiovasc Diagn Ther "
    "2020;10:1918-1945, Table 3 (lower: twice the left ventricle's end-diastolic volume and muscle at mean - 2 SD)",
)
# Lungs (air and tissue as CT shows them; one lung taken as 40-60% of both). Lower: the adult residual volume, about
# 1 L for both lungs (StatPearls, Physiology, Residual Volume: 1-1.2 L), times 0.4. Upper: total lung capacity of a
# 1.95 m man by the ECSC equation (Quanjer et al. 1993: 7.99 H - 7.08 L, residual SD 0.70 L) at its upper limit
# (+1.645 SD): 9.6 L, times 0.6.
_LUNG_REF = (
    400.0, 5800.0,
    "Quanjer PH et al. 1993 and StatPearls (derived range), adult lung volumes: Quanjer PH et al., Lung volumes and "
    "forced ventilatory flows, Eur Respir J 1993;6 Suppl 16:5-40 (upper: total lung capacity 7.99 H - 7.08 L of a "
    "1.95 m man plus 1.645 residual SD, 9.6 L, times 0.6 for one lung); StatPearls, Physiology, Residual Volume "
    "(lower: residual volume about 1 L, times 0.4). Depth of inspiration moves a lung within this range",
)

# Why the other structures carry no range. A range is only worth checking for an organ that a torso scan usually
# holds whole and whose normal size is published as a population range; for the rest QC states the volume and this
# reason instead of a verdict.
_REGION = "how much of it a scan holds depends on the scanned region"
_NOTE_BODY = f"soft tissue not given another label: {_REGION}"
_NOTE_AORTA = f"the visible length of the aorta: {_REGION}"
_NOTE_GALLBLADDER = "its volume changes with fasting and meals, and it may have been removed"
_NOTE_SPINE = f"the number of vertebrae in view: {_REGION}"
_NOTE_RIBS = f"the number of ribs in view: {_REGION}"
_NOTE_BLADDER = "its volume changes with filling, from nearly empty to several hundred ml"

#: Segmentation labels, value 0 = background (outside the body).
SEG_LABELS: tuple[SegLabel, ...] = (
    SegLabel(0, "background", "Background", (0, 0, 0)),
    SegLabel(1, "body", "Body (other soft tissue)", (222, 184, 135), volume_note=_NOTE_BODY),
    SegLabel(2, "lung_left", "Left lung", (102, 178, 255), ("lung_upper_lobe_left", "lung_lower_lobe_left", "lung_left"),
             _LUNG_REF, keep_largest=True, components=1),
    SegLabel(3, "lung_right", "Right lung", (51, 102, 255),
             ("lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right", "lung_right"),
             _LUNG_REF, keep_largest=True, components=1),
    SegLabel(4, "heart", "Heart", (220, 20, 60), ("heart",), _HEART_REF, keep_largest=True, components=1),
    SegLabel(5, "aorta", "Aorta", (255, 0, 0), ("aorta",), keep_largest=True, components=1,
             volume_note=_NOTE_AORTA),
    SegLabel(6, "liver", "Liver", (165, 42, 42), ("liver",), _LIVER_REF, keep_largest=True, components=1),
    SegLabel(7, "spleen", "Spleen", (157, 108, 162), ("spleen",), _SPLEEN_REF, keep_largest=True, components=1),
    SegLabel(8, "kidney_left", "Left kidney", (185, 102, 83), ("kidney_left",), _KIDNEY_REF, keep_largest=True,
             components=1),
    SegLabel(9, "kidney_right", "Right kidney", (205, 133, 63), ("kidney_right",), _KIDNEY_REF, keep_largest=True,
             components=1),
    SegLabel(10, "gallbladder", "Gallbladder", (0, 200, 100), ("gallbladder",), keep_largest=True,
             components=1, volume_note=_NOTE_GALLBLADDER),
    SegLabel(11, "adrenal_gland_left", "Left adrenal gland", (255, 215, 0), ("adrenal_gland_left",),
             _ADRENAL_LEFT_REF, keep_largest=True, components=1),
    SegLabel(12, "adrenal_gland_right", "Right adrenal gland", (255, 165, 0), ("adrenal_gland_right",),
             _ADRENAL_RIGHT_REF, keep_largest=True, components=1),
    SegLabel(13, "vertebrae", "Vertebrae", (241, 214, 145), _VERT, volume_note=_NOTE_SPINE),
    SegLabel(14, "ribs", "Ribs", (255, 250, 220), _RIBS, volume_note=_NOTE_RIBS),
    SegLabel(15, "urinary_bladder", "Urinary bladder", (0, 160, 200), ("urinary_bladder",), keep_largest=True,
             components=1, volume_note=_NOTE_BLADDER),
)
N_SEG = len(SEG_LABELS)
SEG_BY_NAME = {lb.name: lb.value for lb in SEG_LABELS}


def left_right_pairs(labels: tuple[SegLabel, ...] = SEG_LABELS) -> tuple[tuple[int, int], ...]:
    """``(left, right)`` label values: every ``<x>_left`` with its ``<x>_right`` (a mirrored body swaps them)."""
    by_name = {lb.name: lb.value for lb in labels}
    return tuple((v, by_name[n[: -len("_left")] + "_right"]) for n, v in by_name.items()
                 if n.endswith("_left") and n[: -len("_left")] + "_right" in by_name)


#: Left/right pairs of the card (``outputs.label_pairs``): lungs, kidneys, adrenal glands.
LABEL_PAIRS = left_right_pairs()


@dataclass(frozen=True)
class Tissue:
    """One generation label: which segmentation label it becomes and how it looks."""

    value: int
    name: str
    seg: str
    hu: tuple[float, float]  # CT mean range (HU) drawn per volume
    texture_hu: float = 10.0  # amplitude of smooth within-tissue texture on CT
    extra: dict = field(default_factory=dict)


#: Generation labels (value 0 = air outside the body). Organ tissues first, then tissue-only classes.
TISSUES: tuple[Tissue, ...] = (
    Tissue(0, "air", "background", (-1010, -990), 2),
    Tissue(1, "soft_tissue", "body", (20, 60), 12),
    Tissue(2, "lung_left", "lung_left", (-880, -780), 25),
    Tissue(3, "lung_right", "lung_right", (-880, -780), 25),
    Tissue(4, "heart", "heart", (30, 160), 10),  # blood pool, unenhanced to contrast-enhanced
    Tissue(5, "aorta", "aorta", (35, 350), 8),
    Tissue(6, "liver", "liver", (45, 120), 8),
    Tissue(7, "spleen", "spleen", (40, 130), 8),
    Tissue(8, "kidney_left", "kidney_left", (30, 200), 12),
    Tissue(9, "kidney_right", "kidney_right", (30, 200), 12),
    Tissue(10, "gallbladder", "gallbladder", (-5, 25), 4),
    Tissue(11, "adrenal_gland_left", "adrenal_gland_left", (20, 60), 6),
    Tissue(12, "adrenal_gland_right", "adrenal_gland_right", (20, 60), 6),
    Tissue(13, "vertebra", "vertebrae", (250, 700), 60),
    Tissue(14, "rib", "ribs", (250, 800), 60),
    Tissue(15, "bladder", "urinary_bladder", (-5, 30), 4),
    Tissue(16, "fat", "body", (-120, -80), 8),
    Tissue(17, "muscle", "body", (35, 65), 8),
    Tissue(18, "bowel", "body", (-20, 60), 30),
    Tissue(19, "bowel_gas", "body", (-950, -600), 40),
    Tissue(20, "disc", "body", (60, 110), 8),
    Tissue(21, "spinal_canal", "body", (0, 30), 4),
    Tissue(22, "stomach", "body", (-10, 40), 10),
)
N_GEN = len(TISSUES)
GEN_BY_NAME = {t.name: t.value for t in TISSUES}

#: Lookup table generation label -> segmentation label.
GEN_TO_SEG = np.array([SEG_BY_NAME[t.seg] for t in TISSUES], dtype=np.uint8)


def seg_from_gen(gen: np.ndarray) -> np.ndarray:
    """Segmentation label map (uint8) from a generation label map."""
    return GEN_TO_SEG[gen]


def totalseg_lookup(class_map: dict[str, str]) -> np.ndarray:
    """A lookup table TotalSegmentator value -> our segmentation value (255 = structure we do not predict).

    ``class_map`` is one task's ``{value: name}`` from TotalSegmentator's ``class_map.json``. Background stays 0;
    TotalSegmentator structures with no counterpart here become 255 so an evaluation can ignore them.
    """
    size = max(int(k) for k in class_map) + 1
    lut = np.full(max(size, 256), 255, dtype=np.uint8)
    lut[0] = 0
    for k, name in class_map.items():
        for lb in SEG_LABELS:
            if name in lb.totalseg:
                lut[int(k)] = lb.value
    return lut
