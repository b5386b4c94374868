"""`medpriv eval deid`: the three corpus formats, token and span scores, and the misses file."""

from __future__ import annotations

import json

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.notes.evaluation import EvalReport, GoldDoc, read_corpus, score_document
from medpriv_desktop.core.notes.spans import PhiSpan

TEXT = "DR. ZORBLEWICK SAW PT ON 8/18 IN ROOM 5."


def gold_spans():
    return [(4, 14, "HCPName"), (25, 29, "Date")]


def write_all_formats(tmp_path):
    phys = tmp_path / "phys"
    phys.mkdir()
    (phys / "id.text").write_text(f"START_OF_RECORD=1||||1||||\n{TEXT}||||END_OF_RECORD\n", encoding="latin-1")
    (phys / "id-phi.phrase").write_text("1 1 4 14 HCPName ZORBLEWICK\n1 1 25 29 Date 8/18\n", encoding="latin-1")
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "n1.txt").write_text(TEXT)
    (brat / "n1.ann").write_text("T1\tHCPName 4 14\tZORBLEWICK\nT2\tDate 25 29\t8/18\n#1\tNote T1\tx\n")
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps({"id": "n1", "text": TEXT, "spans": gold_spans()}) + "\n")
    return phys, brat, jsonl


def test_readers_agree(tmp_path):
    for path in write_all_formats(tmp_path):
        docs = read_corpus(path)
        assert len(docs) == 1 and docs[0].text == TEXT
        assert sorted((s, e) for s, e, _ in docs[0].spans) == [(4, 14), (25, 29)]


def test_scores_token_and_span():
    report = EvalReport()
    doc = GoldDoc("n1", TEXT, gold_spans())
    # finds the name, misses the date, and flags "ROOM" wrongly
    score_document(doc, [PhiSpan(4, 14, "NAME"), PhiSpan(33, 37, "LOCATION")], report)
    tok = report.token["ALL"]
    assert (tok.tp, tok.fp, tok.fn) == (1, 1, 2)  # 8/18 is two word tokens (8, 18)
    assert report.token["HCPName"].recall == 1.0 and report.token["Date"].recall == 0.0
    assert report.span["ALL"].tp == 1 and report.span["ALL"].fn == 1 and report.span["ALL"].fp == 1
    assert report.misses == [("n1", 25, 29, "Date")]
    assert "token" in report.table() and "ZORBLEWICK" not in report.table()


@pytest.mark.parametrize("fmt", ["physionet", "brat", "jsonl"])
def test_eval_command_writes_misses_only_where_asked(tmp_path, capsys, fmt):
    paths = dict(zip(["physionet", "brat", "jsonl"], write_all_formats(tmp_path)))
    misses = tmp_path / "misses.txt"
    rc = main(["eval", "deid", str(paths[fmt]), "--rules-only", "--quiet", "--misses", str(misses), "--json",
               str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert rc == 0 and "token" in out and "ALL" in out and "ZORBLEWICK" not in out
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["token"]["ALL"]["recall"] == 1.0  # both spans found by the rules
    assert misses.read_text().startswith("# missed PHI spans")
