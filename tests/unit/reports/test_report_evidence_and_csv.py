"""Issue 21, item 4 (engine side): whole evidence sentences ranked by how much removing each lowers the label's
probability, for negative labels too; blank "not assessed" cells; several text columns joined; CSV for a decimal-comma
locale. A word-counting stand-in encoder makes every probability predictable."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.reports.batch import ReportInput, classify_reports, read_csv_reports
from medpriv_desktop.core.reports.classifier import ReportModel, evidence_sentences

LABELS = ["Atelectasis", "Pneumothorax", "Hernia"]
#: logit = WEIGHT * (mentions of the label's word) + BIAS: one mention of "pneumothorax" is 0.12 (negative, below
#: the 0.5 threshold), two are 0.73; atelectasis needs one strong word.
WORDS = {"Atelectasis": ("atelectasis", 4.0), "Pneumothorax": ("pneumothorax", 1.0)}
BIAS = -3.0


@dataclass
class _Chunk:
    logits: np.ndarray


class WordEncoder:
    """Stands in for TextEncoder: one window per text, label logits from word counts."""

    def logits(self, texts):
        out = []
        for t in texts:
            low = t.lower()
            row = [WORDS[lb][1] * low.count(WORDS[lb][0]) + BIAS if lb in WORDS else BIAS for lb in LABELS]
            out.append([_Chunk(np.array(row, dtype=np.float64))])
        return out


def _model() -> ReportModel:
    return ReportModel(WordEncoder(), LABELS, [0.5, 0.5, None])


@pytest.mark.parametrize("text, expected", [
    ("1. Small effusion. 2. No pneumothorax.", ["1. Small effusion.", "2. No pneumothorax."]),
    ("Findings:\n1) Clear lungs.\n2) Normal heart.", ["Findings:", "1) Clear lungs.", "2) Normal heart."]),
    ("- Clear lungs.\n- Normal heart.", ["- Clear lungs.", "- Normal heart."]),
    ("Heart normal. Lungs clear.", ["Heart normal.", "Lungs clear."]),
    ("Measures 1.5 cm. Stable.", ["Measures 1.5 cm.", "Stable."]),
])
def test_list_numbers_belong_to_their_sentence(text, expected):
    assert [text[a:b] for a, b in evidence_sentences(text)] == expected


REPORT = ("FINDINGS: 1. Bibasilar atelectasis. 2. Small apical pneumothorax. 3. Heart size normal.\n"
          "IMPRESSION: Atelectasis.")


def test_evidence_is_ranked_by_occlusion_and_never_borrows_another_labels_sentence():
    pred = _model().classify([REPORT], evidence=True)[0]
    assert pred.decisions == {"Atelectasis": 1, "Pneumothorax": 0, "Hernia": 0}
    atel = [REPORT[e.start:e.end] for e in pred.evidence["Atelectasis"]]
    # both atelectasis sentences, whole, the list number joined; never the pneumothorax sentence
    assert set(atel) == {"1. Bibasilar atelectasis.", "Atelectasis."}
    assert all("pneumothorax" not in s.lower() for s in atel)
    scores = [e.score for e in pred.evidence["Atelectasis"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_negative_labels_get_evidence_too():
    pred = _model().classify([REPORT], evidence=True)[0]
    assert pred.decisions["Pneumothorax"] == 0  # one mention: 0.12, below the threshold
    ev = pred.evidence["Pneumothorax"]
    assert [REPORT[e.start:e.end] for e in ev] == ["2. Small apical pneumothorax."]
    p_full = pred.probabilities["Pneumothorax"]
    p_without = 1 / (1 + np.exp(-BIAS))
    assert ev[0].score == pytest.approx(p_full - p_without, abs=1e-5)
    assert "Hernia" not in pred.evidence  # unsupported: not assessed, no evidence


def _write_csv(path: Path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_unsupported_and_empty_are_blank_and_not_counted(tmp_path):
    reports = ReportInput(["r1", "r2"], [REPORT, "   "], "id", tmp_path / "x.csv")
    out = tmp_path / "out.csv"
    summary = run_job(classify_reports(_model(), reports, out, probabilities=True))
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert rows[0]["Atelectasis"] == "1" and rows[0]["Pneumothorax"] == "0" and rows[0]["Hernia"] == ""
    assert rows[0]["Hernia probability"] == "" and rows[0]["Atelectasis probability"].startswith("0.99")
    assert all(v == "" for k, v in rows[1].items() if k != "id")  # the empty report: nothing assessed
    assert summary.positives == {"Atelectasis": 1, "Pneumothorax": 0}
    assert summary.not_assessed == ["Hernia"] and summary.n_empty == 1


def test_decimal_comma_csv(tmp_path):
    reports = ReportInput(["r1"], [REPORT], "id", tmp_path / "x.csv")
    out = tmp_path / "out.csv"
    run_job(classify_reports(_model(), reports, out, probabilities=True, decimal_comma=True))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id;Atelectasis;Pneumothorax;Hernia;")
    cells = lines[1].split(";")
    assert cells[:4] == ["r1", "1", "0", ""] and cells[4].startswith("0,99") and "." not in cells[4]


@pytest.mark.parametrize("spec", [["findings", "impression"], "findings+impression"])
def test_several_text_columns_are_joined_under_their_headings(tmp_path, spec):
    src = _write_csv(tmp_path / "in.csv", ["id", "indication", "findings", "impression"],
                     [["1", "rule out pneumothorax", "Lungs clear.", "Atelectasis."],
                      ["2", "pain", "", "Normal."]])
    reports = read_csv_reports(src, spec, "id")
    assert reports.texts == ["FINDINGS: Lungs clear.\nIMPRESSION: Atelectasis.", "IMPRESSION: Normal."]
    pred = _model().classify(reports.texts)[0]
    assert pred.decisions["Atelectasis"] == 1 and pred.decisions["Pneumothorax"] == 0  # indication not read
