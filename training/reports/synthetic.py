"""Synthetic radiology reports from public phrase templates, with the labels the generator planted.

Nothing here comes from a private report: the phrases are written for this module from general radiology usage, and
the labels are the generator's own (a finding is planted as present, absent or uncertain; present and uncertain
count as 1, as the rule labeler's ``binary(uncertain_as=1)`` does). The corpus is public in the sense that matters
for differential privacy: what is computed from it (the feature standardisation constants of the rules + encoder
head, the int8 acceptance check, the optimiser settings fixed before any private run: see
``docs/results/reports-sweep/recipe_search.md``) costs no privacy on the private training reports.

Each finding has several wordings, some of which the rule labeler's patterns do not know (the second tuple of each
table entry), so a model that reads the text as well as the rules has something to learn here that the rules miss.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

# label -> (wordings the rules know, wordings they do not)
CXR_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Atelectasis": (("atelectasis", "subsegmental atelectasis", "bibasilar atelectasis"), ("volume loss",)),
    "Cardiomegaly": (("cardiomegaly", "cardiac enlargement", "an enlarged heart"), ("a large cardiac silhouette",)),
    "Effusion": (("pleural effusion", "a small pleural effusion", "pleural fluid"),
                 ("fluid layering in the pleural space",)),
    "Infiltration": (("an infiltrate", "patchy infiltrates", "airspace disease"), ("ill-defined airspace filling",)),
    "Mass": (("a mass", "a large mass"), ("a bulky soft tissue lesion",)),
    "Nodule": (("a nodule", "a small nodule", "nodular opacities"), ("a rounded density measuring 8 mm",)),
    "Pneumonia": (("pneumonia", "an infectious process"), ("a developing lobar infection",)),
    "Pneumothorax": (("a pneumothorax", "a small apical pneumothorax"),
                     ("a visible pleural line with absent lung markings",)),
    "Consolidation": (("consolidation", "focal consolidation", "a consolidative process"), ("dense airspace filling",)),
    "Edema": (("pulmonary edema", "interstitial edema", "vascular congestion"), ("fluid overload with cephalization",)),
    "Emphysema": (("emphysema", "hyperinflation", "changes of chronic obstructive disease"), ("flattened diaphragms",)),
    "Fibrosis": (("fibrosis", "fibrotic changes"), ("chronic reticular scarring",)),
    "Pleural_Thickening": (("pleural thickening", "a pleural plaque"), ("a thickened pleural rind",)),
    "Hernia": (("a hiatal hernia", "a hernia"), ("a retrocardiac air-fluid level from the stomach",)),
}

CT_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Medical material": (("a central venous catheter", "a pacemaker", "sternotomy wires", "a stent"),
                         ("postoperative hardware",)),
    "Arterial wall calcification": (("atherosclerotic calcification of the aorta", "aortic wall calcification",
                                     "atheroma plaques"), ("calcified plaque along the arch",)),
    "Cardiomegaly": (("cardiomegaly", "cardiac enlargement"), ("an increased cardiothoracic ratio",)),
    "Pericardial effusion": (("a pericardial effusion", "pericardial fluid"), ("fluid around the heart",)),
    "Coronary artery wall calcification": (("coronary artery calcification", "calcified coronary plaques"),
                                           ("dense deposits in the LAD",)),
    "Hiatal hernia": (("a hiatal hernia", "a sliding hiatus hernia"), ("the gastric fundus above the diaphragm",)),
    "Lymphadenopathy": (("mediastinal lymphadenopathy", "enlarged lymph nodes", "a lymph node measuring 12 mm"),
                        ("a bulky hilar station",)),
    "Emphysema": (("centrilobular emphysema", "paraseptal emphysema", "bullae"),
                  ("areas of low attenuation without walls",)),
    "Atelectasis": (("atelectasis", "subsegmental atelectasis", "atelectatic changes"),
                    ("partial collapse of the lower lobe",)),
    "Lung nodule": (("a nodule", "a 4 mm nodule", "several nodules"), ("a small rounded density",)),
    "Lung opacity": (("ground-glass opacities", "an opacity", "density increases"), ("hazy increased attenuation",)),
    "Pulmonary fibrotic sequela": (("fibrotic changes", "parenchymal bands", "fibrotic sequelae"),
                                   ("linear scarring",)),
    "Pleural effusion": (("a pleural effusion", "pleural fluid"), ("a fluid collection in the pleural space",)),
    "Mosaic attenuation pattern": (("a mosaic attenuation pattern", "mosaic perfusion"), ("patchy air trapping",)),
    "Peribronchial thickening": (("peribronchial thickening", "bronchial wall thickening"), ("thick-walled airways",)),
    "Consolidation": (("consolidation", "consolidated areas"), ("dense airspace filling",)),
    "Bronchiectasis": (("bronchiectasis", "cylindrical bronchiectasis"), ("dilated airways",)),
    "Interlobular septal thickening": (("interlobular septal thickening", "septal thickening"),
                                       ("a reticular septal pattern",)),
}

PLACES = ("in the right lower lobe", "in the left lower lobe", "in the right upper lobe", "at the left base",
          "bilaterally", "in the lingula", "at the right base", "in the middle lobe", "")
POSITIVE = ("There is {f} {p}.", "{F} {p} is noted.", "{F} is present {p}.", "Findings consistent with {f} {p}.",
            "Interval development of {f} {p}.", "Redemonstrated {f} {p}.")
NEGATIVE = ("No {f}.", "No evidence of {f}.", "There is no {f}.", "{F} is not seen.", "Negative for {f}.")
UNCERTAIN = ("Possible {f} {p}.", "{F} cannot be excluded.", "Findings may represent {f}.",
             "Questionable {f} {p}.", "Likely {f} {p}.")
NORMAL_CXR = ("The lungs are clear.", "Heart size is normal.", "The mediastinal contours are within normal limits.",
              "No acute bony abnormality.", "The pulmonary vasculature is normal.", "Osseous structures are intact.")
NORMAL_CT = ("The trachea and main bronchi are patent.", "The thoracic aorta is of normal caliber.",
             "Heart contour and size are normal.", "No mass is seen in the upper abdominal organs included.",
             "Bone structures show degenerative changes.", "The esophagus is of normal course and caliber.",
             "Thyroid gland is unremarkable.", "Both lungs are otherwise aerated.")
IMPRESSION_NORMAL = ("No acute cardiopulmonary process.", "No acute abnormality.", "Normal examination.")


@dataclass
class SyntheticReports:
    """Generated reports and their planted 0/1 labels (``labels[i, j]`` = 1 when label j was planted as present or
    uncertain)."""

    label_names: list[str]
    texts: list[str]
    labels: np.ndarray


SYNTHETIC_SETS = ("ChestX-ray14", "CT-RATE")


def phrases_for(label_set: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The phrase table of a label set (``ChestX-ray14`` or ``CT-RATE``)."""
    if label_set == "ChestX-ray14":
        return CXR_PHRASES
    if label_set == "CT-RATE":
        return CT_PHRASES
    raise KeyError(f"no synthetic phrases for label set {label_set!r}; known: ChestX-ray14, CT-RATE")


def _sentence(rng: random.Random, templates: tuple[str, ...], phrase: str) -> str:
    t = rng.choice(templates)
    s = t.format(f=phrase, F=phrase[:1].upper() + phrase[1:], p=rng.choice(PLACES))
    return " ".join(s.split()).replace(" .", ".")


def generate(label_set: str, n: int, seed: int = 0, p_present: float = 0.12, p_negated: float = 0.15,
             p_uncertain: float = 0.03, p_unknown_wording: float = 0.3) -> SyntheticReports:
    """``n`` reports of the label set's style (chest X-ray: short; chest CT: long) with planted labels.

    Per label: present with ``p_present``, uncertain with ``p_uncertain``, explicitly negated with ``p_negated``,
    else not mentioned; a wording the rules do not know is used with ``p_unknown_wording``.
    """
    table = phrases_for(label_set)
    names = list(table)
    rng = random.Random(f"{label_set}:{seed}")
    ct = label_set == "CT-RATE"
    normal = NORMAL_CT if ct else NORMAL_CXR
    texts, labels = [], np.zeros((n, len(names)), dtype=np.float32)
    for i in range(n):
        findings: list[str] = []
        impression: list[str] = []
        for j, name in enumerate(names):
            known, unknown = table[name]
            phrase = rng.choice(unknown if rng.random() < p_unknown_wording else known)
            u = rng.random()
            if u < p_present:
                findings.append(_sentence(rng, POSITIVE, phrase))
                impression.append(phrase[:1].upper() + phrase[1:] + ".")
                labels[i, j] = 1
            elif u < p_present + p_uncertain:
                findings.append(_sentence(rng, UNCERTAIN, phrase))
                labels[i, j] = 1
            elif u < p_present + p_uncertain + p_negated:
                findings.append(_sentence(rng, NEGATIVE, phrase))
        findings += rng.sample(normal, k=rng.randint(2 if ct else 1, len(normal) if ct else 3))
        rng.shuffle(findings)
        imp = " ".join(impression[:3]) if impression else rng.choice(IMPRESSION_NORMAL)
        texts.append(f"FINDINGS: {' '.join(findings)}\nIMPRESSION: {imp}")
    return SyntheticReports(names, texts, labels)
