"""Label sets of radiology-report classifiers and the mapping between them.

Three label sets matter here: the 14 ChestX-ray14 findings (NIH, used by NegBio's Open-i labels), the 14 CheXpert
observations (MIMIC-CXR, CheXpert) and the 18 CT-RATE chest CT abnormalities. A model card names the set its model
predicts (``outputs.label_set``); the mapping lets a ChestX-ray14 model be read in CheXpert terms where a finding has a
CheXpert counterpart.
"""

from __future__ import annotations

from dataclasses import dataclass

CHESTXRAY14: tuple[str, ...] = (
    "Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia", "Pneumothorax",
    "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia",
)

CHEXPERT14: tuple[str, ...] = (
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Lung Opacity", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture",
    "Support Devices",
)

CTRATE18: tuple[str, ...] = (
    "Medical material", "Arterial wall calcification", "Cardiomegaly", "Pericardial effusion",
    "Coronary artery wall calcification", "Hiatal hernia", "Lymphadenopathy", "Emphysema", "Atelectasis",
    "Lung nodule", "Lung opacity", "Pulmonary fibrotic sequela", "Pleural effusion", "Mosaic attenuation pattern",
    "Peribronchial thickening", "Consolidation", "Bronchiectasis", "Interlobular septal thickening",
)

#: ChestX-ray14 finding -> CheXpert observations it falls under (empty: no CheXpert counterpart). Infiltration and
#: the focal findings are read as "Lung Opacity"/"Lung Lesion" the way CheXpert's own mention lists group them.
CHESTXRAY14_TO_CHEXPERT: dict[str, tuple[str, ...]] = {
    "Atelectasis": ("Atelectasis",),
    "Cardiomegaly": ("Cardiomegaly",),
    "Effusion": ("Pleural Effusion",),
    "Infiltration": ("Lung Opacity",),
    "Mass": ("Lung Lesion",),
    "Nodule": ("Lung Lesion",),
    "Pneumonia": ("Pneumonia",),
    "Pneumothorax": ("Pneumothorax",),
    "Consolidation": ("Consolidation",),
    "Edema": ("Edema",),
    "Emphysema": (),
    "Fibrosis": (),
    "Pleural_Thickening": ("Pleural Other",),
    "Hernia": (),
}


@dataclass(frozen=True)
class LabelSet:
    """A named, ordered list of label names."""

    name: str
    labels: tuple[str, ...]

    def index(self, label: str) -> int:
        """Position of ``label`` in the set."""
        return self.labels.index(label)

    def __len__(self) -> int:
        return len(self.labels)


LABEL_SETS: dict[str, LabelSet] = {
    "ChestX-ray14": LabelSet("ChestX-ray14", CHESTXRAY14),
    "CheXpert": LabelSet("CheXpert", CHEXPERT14),
    "CT-RATE": LabelSet("CT-RATE", CTRATE18),
}


def get_label_set(name: str) -> LabelSet:
    """The label set called ``name`` (ChestX-ray14, CheXpert, CT-RATE); KeyError names the known ones."""
    try:
        return LABEL_SETS[name]
    except KeyError:
        raise KeyError(f"unknown label set {name!r}; known: {', '.join(LABEL_SETS)}") from None


def chestxray14_to_chexpert(decisions: dict[str, int]) -> dict[str, int]:
    """Map ChestX-ray14 0/1 decisions onto CheXpert names (a CheXpert label is 1 when any source finding is 1).

    Only CheXpert labels reachable from the given findings appear in the result; "No Finding" is 1 when every
    given finding is 0, which is how a ChestX-ray14 "normal" reads in CheXpert terms.
    """
    out: dict[str, int] = {}
    for finding, value in decisions.items():
        for target in CHESTXRAY14_TO_CHEXPERT.get(finding, ()):
            out[target] = max(out.get(target, 0), int(value))
    if decisions:
        out["No Finding"] = int(not any(int(v) for v in decisions.values()))
    return out
