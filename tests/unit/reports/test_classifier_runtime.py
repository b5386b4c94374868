"""The runtime classifier and the ``medpriv classify`` CLI on a tiny word-to-label ONNX model (no torch)."""

from __future__ import annotations

import csv
import json
import os

import pytest

from tests.unit.reports._tiny import LABELS, build_bundle
from medpriv_desktop.cli import main
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.reports.classifier import ReportModel

REPORTS = [
    "FINDINGS: There is a small left effusion. Heart size is normal.\nIMPRESSION: Small effusion.",
    "Lung clear. There is a nodule in the right lung.",
    "Heart size normal. Lung clear.",
    "",
]


@pytest.fixture
def bundle(medpriv_home):
    site = medpriv_home / "site_models"
    return build_bundle(site)


def _model(bundle) -> ReportModel:
    reg = ModelRegistry()
    return ReportModel.from_entry(reg.get(bundle.name), reg)


def test_decisions_unsupported_and_empty(bundle):
    preds = _model(bundle).classify(REPORTS)
    assert [p.positives for p in preds] == [["Effusion"], ["Nodule"], [], []]
    assert preds[0].probabilities["Hernia"] is None and preds[0].decisions["Hernia"] == 0
    assert preds[3].empty and not preds[2].empty


def test_long_report_is_windowed_not_truncated(bundle):
    # 'nodule' sits far past the 16-token window; truncation would miss it.
    long = "Lung clear. " * 30 + "There is a nodule."
    pred = _model(bundle).classify([long])[0]
    assert pred.windows > 1
    assert pred.decisions["Nodule"] == 1


def test_evidence_offsets_point_at_the_sentence(bundle):
    text = REPORTS[1]
    pred = _model(bundle).classify([text], evidence=True)[0]
    ev = pred.evidence["Nodule"][0]
    assert text[ev.start:ev.end] == "There is a nodule in the right lung."
    assert "Effusion" not in pred.evidence


def test_sections_select_findings_and_impression(bundle):
    # A nodule mentioned only in the indication must not make the report positive.
    text = "INDICATION: follow up nodule.\nFINDINGS: Lung clear. Heart size normal."
    assert _model(bundle).classify([text])[0].decisions["Nodule"] == 0


def _write_csv(path, rows, header=("accession", "report")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_cli_csv_output_format(bundle, tmp_path):
    src = tmp_path / "in.csv"
    _write_csv(src, [(f"A{i}", t) for i, t in enumerate(REPORTS)])
    out = tmp_path / "out.csv"
    rc = main(["classify", str(src), "--text-column", "report", "--id-column", "accession", "--model", bundle.name,
               "-o", str(out), "--quiet"])
    assert rc == 0
    rows = list(csv.reader(open(out, encoding="utf-8")))
    assert rows[0] == ["accession"] + LABELS
    assert [r[0] for r in rows[1:]] == ["A0", "A1", "A2", "A3"]
    # Hernia is unsupported and A3 is empty: blank ("not assessed"), never 0 (changed for issue 21, item 4)
    assert [r[1:] for r in rows[1:]] == [["1", "0", ""], ["0", "1", ""], ["0", "0", ""], ["", "", ""]]


def test_cli_probabilities_folder_and_evidence(bundle, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for i, t in enumerate(REPORTS[:3]):
        (folder / f"r{i}.txt").write_text(t, encoding="utf-8")
    out, ev = tmp_path / "out.csv", tmp_path / "ev.jsonl"
    rc = main(["classify", str(folder), "--model", bundle.name, "-o", str(out), "--probabilities",
               "--evidence", str(ev), "--quiet"])
    assert rc == 0
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["id"] for r in rows] == ["r0", "r1", "r2"]
    assert float(rows[0]["Effusion probability"]) > 0.5 > float(rows[2]["Effusion probability"])
    assert rows[0]["Hernia probability"] == ""
    lines = [json.loads(x) for x in open(ev, encoding="utf-8")]
    span = lines[1]["evidence"]["Nodule"][0]
    assert REPORTS[1][span["start"]:span["end"]] == span["text"]


def test_cli_missing_column_is_one_clear_error(bundle, tmp_path, capsys):
    src = tmp_path / "in.csv"
    _write_csv(src, [("A", "Lung clear.")])
    rc = main(["classify", str(src), "--text-column", "reprot", "--model", bundle.name, "-o",
               str(tmp_path / "o.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "no column 'reprot'" in err and "did you mean 'report'" in err
    assert "Traceback" not in err and not (tmp_path / "o.csv").exists()


def test_tampered_model_refuses_to_load(bundle, tmp_path, capsys):
    with open(bundle / "model.onnx", "ab") as fh:
        fh.write(b"\0")
    src = tmp_path / "in.csv"
    _write_csv(src, [("A", "Lung clear.")])
    rc = main(["classify", str(src), "--text-column", "report", "--model", bundle.name, "-o", str(tmp_path / "o.csv")])
    assert rc != 0 and "sha256" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["in.csv"]
