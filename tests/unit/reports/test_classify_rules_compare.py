"""``medpriv classify --model rules`` (the rule labeler alone) and ``--compare`` (model and rules side by side)."""

from __future__ import annotations

import csv
import json

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.reports.labels import CHESTXRAY14, CTRATE18
from medpriv_desktop.core.reports.rules_model import RuleModel, rule_label_set_of
from tests.unit.reports._tiny import build_bundle

REPORTS = [
    ("A1", "FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Effusion."),
    ("A2", "INDICATION: rule out pneumonia.\nFINDINGS: Lungs are clear."),  # indication is not read
    ("A3", "There is a nodule in the right lung. Pneumonia cannot be excluded."),
    ("A4", ""),
]


def _csv(path, rows=REPORTS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["accession", "report"])
        w.writerows(rows)
    return path


def _read(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


@pytest.mark.parametrize("label_set,names", [("ChestX-ray14", CHESTXRAY14), ("CT-RATE", CTRATE18)])
def test_rules_model_decisions_and_columns(medpriv_home, tmp_path, label_set, names):
    out = tmp_path / "rules.csv"
    rc = main(["classify", str(_csv(tmp_path / "in.csv")), "--text-column", "report", "--id-column", "accession",
               "--model", "rules", "--label-set", label_set, "-o", str(out), "--quiet"])
    assert rc == 0
    rows = _read(out)
    assert list(rows[0]) == ["accession", *names]
    if label_set == "ChestX-ray14":
        assert rows[0]["Effusion"] == "1" and rows[0]["Pneumothorax"] == "0"
        assert rows[1]["Pneumonia"] == "0"  # only mentioned in the indication
        assert rows[2]["Nodule"] == "1" and rows[2]["Pneumonia"] == "1"  # uncertain counts as positive
        # an empty report is not assessed: blank, never 0 (changed for issue 21, item 4)
        assert all(v == "" for k, v in rows[3].items() if k != "accession")


def test_rules_model_evidence_points_at_the_mention_sentence(tmp_path):
    text = REPORTS[2][1]
    pred = RuleModel("ChestX-ray14").classify([text], evidence=True)[0]
    ev = pred.evidence["Nodule"][0]
    assert text[ev.start:ev.end] == "There is a nodule in the right lung."
    assert all(p is None for p in pred.probabilities.values())


@pytest.mark.parametrize("argv,message", [
    (["--model", "rules", "--probabilities"], "decisions, not probabilities"),
    (["--model", "rules", "--compare"], "needs a model"),
    (["--label-set", "CT-RATE"], "--model rules only"),
])
def test_misused_options_are_one_sentence(medpriv_home, tmp_path, capsys, argv, message):
    rc = main(["classify", str(_csv(tmp_path / "in.csv")), "--text-column", "report", "-o", str(tmp_path / "o.csv"),
               "--quiet", *argv])
    err = capsys.readouterr().err
    assert rc != 0 and message in err and "Traceback" not in err and not (tmp_path / "o.csv").exists()


def test_compare_writes_both_sides_and_marks_disagreements(medpriv_home, tmp_path):
    bundle = build_bundle(medpriv_home / "site_models", model_id="cxr-tiny-cmp")
    rows_in = [("B1", "There is a small left effusion."),  # model 1, rules 1
               ("B2", "No effusion. Lung clear."),  # model 1 (word 'effusion'), rules 0 -> disagreement
               ("B3", "There is a nodule."),  # both Nodule
               ("B4", "")]
    out = tmp_path / "cmp.csv"
    rc = main(["classify", str(_csv(tmp_path / "in.csv", rows_in)), "--text-column", "report", "--id-column",
               "accession", "--model", bundle.name, "--compare", "-o", str(out), "--quiet"])
    assert rc == 0
    rows = _read(out)
    assert list(rows[0]) == ["accession", "Effusion", "Effusion (rules)", "Nodule", "Nodule (rules)", "Hernia",
                             "Hernia (rules)", "disagreements", "disagreeing labels"]
    assert [r["disagreements"] for r in rows] == ["0", "1", "0", "0"]
    assert rows[1]["disagreeing labels"] == "Effusion"
    assert rows[1]["Effusion"] == "1" and rows[1]["Effusion (rules)"] == "0"
    log = (medpriv_home / "data").rglob("audit*.jsonl")
    entries = [json.loads(line) for f in log for line in open(f, encoding="utf-8")]
    cmp = [e for e in entries if e["action"] == "reports.compare"]
    assert cmp and cmp[-1]["n_disagreeing_reports"] == 1 and cmp[-1]["disagreements"]["Effusion"] == 1


def test_rule_label_set_of_a_card(medpriv_home):
    from medpriv_desktop.core.models.registry import ModelRegistry

    bundle = build_bundle(medpriv_home / "site_models", model_id="cxr-tiny-ls")
    card = ModelRegistry().get(bundle.name).card
    assert rule_label_set_of(card) == "ChestX-ray14"  # 'tiny' set, but its names are ChestX-ray14 names
