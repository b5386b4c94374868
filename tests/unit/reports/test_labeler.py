"""The rule-based labeler: mentions, negation, uncertainty and aggregation, table-driven."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.reports.labeler import NEGATIVE, POSITIVE, UNCERTAIN, RuleLabeler

CASES = [
    # (label set, text, label, expected value)
    ("ChestX-ray14", "Small left pleural effusion.", "Effusion", POSITIVE),
    ("ChestX-ray14", "No pneumothorax or pleural effusion.", "Effusion", NEGATIVE),
    ("ChestX-ray14", "No pneumothorax or pleural effusion.", "Pneumothorax", NEGATIVE),
    ("ChestX-ray14", "Pneumothorax is not seen.", "Pneumothorax", NEGATIVE),
    ("ChestX-ray14", "The previously seen consolidation has resolved.", "Consolidation", NEGATIVE),
    ("ChestX-ray14", "Without evidence of edema.", "Edema", NEGATIVE),
    ("ChestX-ray14", "Pneumonia cannot be excluded.", "Pneumonia", UNCERTAIN),
    ("ChestX-ray14", "Findings may represent atelectasis.", "Atelectasis", UNCERTAIN),
    ("ChestX-ray14", "Atelectasis versus pneumonia.", "Atelectasis", UNCERTAIN),
    ("ChestX-ray14", "Possible small nodule in the right upper lobe.", "Nodule", UNCERTAIN),
    ("ChestX-ray14", "No effusion, but there is a right lower lobe consolidation.", "Consolidation", POSITIVE),
    ("ChestX-ray14", "No effusion, but there is a right lower lobe consolidation.", "Effusion", NEGATIVE),
    ("ChestX-ray14", "Heart size is normal.", "Cardiomegaly", NEGATIVE),
    ("ChestX-ray14", "The heart is enlarged.", "Cardiomegaly", POSITIVE),
    ("ChestX-ray14", "Borderline cardiomegaly.", "Cardiomegaly", POSITIVE),
    ("ChestX-ray14", "Lungs are clear.", "Effusion", None),
    ("ChestX-ray14", "No effusion. Large left effusion on the lateral view.", "Effusion", POSITIVE),
    ("ChestX-ray14", "Hyperinflated lungs consistent with COPD.", "Emphysema", POSITIVE),
    ("CT-RATE", "Pericardial effusion-thickening was not observed.", "Pericardial effusion", NEGATIVE),
    ("CT-RATE", "No enlarged lymph nodes were detected in the mediastinum.", "Lymphadenopathy", NEGATIVE),
    ("CT-RATE", "There are millimetric lymph nodes in the mediastinum.", "Lymphadenopathy", POSITIVE),
    ("CT-RATE", "Atheroma plaques are observed in the aorta and coronary arteries.",
     "Coronary artery wall calcification", POSITIVE),
    ("CT-RATE", "Mosaic attenuation pattern in both lungs.", "Mosaic attenuation pattern", POSITIVE),
    ("CT-RATE", "Bronchiectasis is not seen.", "Bronchiectasis", NEGATIVE),
    ("CheXpert", "Right IJ central line in place.", "Support Devices", POSITIVE),
    ("CheXpert", "Acute displaced rib fracture.", "Fracture", POSITIVE),
    ("CheXpert", "Suspicious for pneumonia.", "Pneumonia", UNCERTAIN),
]


@pytest.mark.parametrize("label_set,text,label,expected", CASES)
def test_mention_status(label_set, text, label, expected):
    assert RuleLabeler(label_set).label(text).values[label] == expected


def test_no_finding_aggregation():
    lab = RuleLabeler("CheXpert")
    assert lab.label("No pneumothorax. No effusion.").values["No Finding"] == 1
    assert lab.label("Possible pneumonia.").values["No Finding"] is None
    # Support devices do not make a study abnormal.
    assert lab.label("Pacemaker in place. Lungs clear.").values["No Finding"] == 1


def test_binary_maps_uncertain_by_policy():
    res = RuleLabeler("ChestX-ray14").label("Pneumonia cannot be excluded. No effusion.")
    assert res.binary(uncertain_as=1)["Pneumonia"] == 1
    assert res.binary(uncertain_as=0)["Pneumonia"] == 0
    assert res.binary()["Effusion"] == 0


def test_mention_offsets_point_into_text():
    text = "Lungs clear.  Small right pleural effusion."
    m = [m for m in RuleLabeler("ChestX-ray14").label(text).mentions if m.label == "Effusion"][0]
    assert text[m.start:m.end].lower() == "effusion"


def test_unknown_label_set():
    with pytest.raises(KeyError):
        RuleLabeler("nope")
