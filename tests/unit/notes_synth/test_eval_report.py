"""``eval synth``: the evaluation job on a corpus we write, and the Markdown / JSON / PNG report."""

from __future__ import annotations

import argparse
import builtins
import json

import pytest

from medpriv_desktop.commands.synth import register_eval
from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.notes.synth.corpus import read_corpus
from medpriv_desktop.core.notes.synth.engines import get_engine
from medpriv_desktop.core.notes.synth.evaluate import evaluate_synthesis, parse_configs
from medpriv_desktop.core.notes.synth.report import markdown, write_report
from tests.unit.notes_synth._synth_helpers import ListDetector

BODY = ("Pt with fever seen by Dr. Quillon Abernathy on 3/14. Admitted to Mercy Vale Hospital with chest pain.\n"
        "Given aspirin and lasix. Wife updated about the foley at 555-201-7788. Lungs with crackles.\n")


def _physionet(folder):
    folder.mkdir()
    recs, phr = [], []
    for n in (1, 2):
        recs.append(f"START_OF_RECORD=4||||{n}||||\n{BODY}||||END_OF_RECORD\n")
        for phrase, typ in (("Quillon", "HCPName"), ("Abernathy", "HCPName"), ("3/14", "Date"),
                            ("Mercy Vale Hospital", "Location"), ("555-201-7788", "Phone")):
            i = BODY.index(phrase)
            phr.append(f"4 {n} {i} {i + len(phrase)} {typ} {phrase}")
    (folder / "id.text").write_text("".join(recs), encoding="latin-1")
    (folder / "id-phi.phrase").write_text("\n".join(phr) + "\n", encoding="latin-1")
    return folder


def test_evaluation_separates_keyword_from_one_shot_and_writes_report(tmp_path, monkeypatch):
    notes = read_corpus(_physionet(tmp_path / "corpus"))
    assert len(notes) == 2 and len(notes[0].spans) == 5
    det = ListDetector({"quillon abernathy": "CLINICIAN", "3/14": "DATE", "mercy vale hospital": "HOSPITAL",
                        "555-201-7788": "PHONE"})
    res = run_job(evaluate_synthesis(notes, get_engine("template"), det, parse_configs("keyword,one-shot,normalized")))
    kw, one, norm = (res["configs"][k]["privacy"] for k in ("keyword/tagged", "one-shot/raw", "normalized/raw"))
    assert kw["any_leak_rate"] == 0.0 and kw["ngram8_overlap"] == 0.0
    assert one["categories"]["NAME"]["rate"] == 1.0 and one["categories"]["PHONE"]["rate"] == 1.0
    assert norm["categories"]["PHONE"]["rate"] == 0.0 and norm["categories"]["NAME"]["rate"] == 1.0
    assert one["cooccurrence"]["4"] == 2
    assert res["configs"]["one-shot/raw"]["quality"]["rouge1"] > res["configs"]["keyword/tagged"]["quality"]["rouge2"]
    utility = {"datasets": {"tiny": {"real": {"f1_macro": 0.5, "f1_micro": 0.6}, "methods": {
        "keyword": {"f1_macro_synth": 0.4, "f1_micro_synth": 0.3, "ratio_macro": 0.8, "ratio_micro": 0.5}}}}}
    files = write_report(res, tmp_path / "rep", utility)
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| keyword/tagged | 0.0 |" in md and "| 0.800 | 0.500 |" in md
    assert "Quillon" not in md and "Quillon" not in (tmp_path / "rep" / "report.json").read_text()
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["n_notes"] == 2
    try:
        import matplotlib  # noqa: F401

        png = tmp_path / "rep" / "occurrence.png"
        assert png in files and png.read_bytes()[:4] == b"\x89PNG"
    except ImportError:
        assert "matplotlib is not installed" in md
    # without matplotlib the report still comes, with a plain note
    real_import = builtins.__import__

    def no_mpl(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    write_report(res, tmp_path / "rep2")
    assert "PNG charts skipped: matplotlib is not installed" in (tmp_path / "rep2" / "report.md").read_text()
    assert not (tmp_path / "rep2" / "occurrence.png").exists()


def test_eval_synth_subcommand_runs_through_its_handler(tmp_path, monkeypatch, capsys):
    import medpriv_desktop.core.notes.engine as engine_mod

    monkeypatch.setattr(engine_mod, "DeidEngine", lambda *a, **k: ListDetector({"quillon abernathy": "CLINICIAN"}))
    parser = argparse.ArgumentParser()
    register_eval(parser.add_subparsers(dest="what"))
    args = parser.parse_args(["synth", str(_physionet(tmp_path / "c")), "-o", str(tmp_path / "r"), "--no-cosine",
                              "-q", "--configs", "keyword/tagged,one-shot/raw"])
    assert args.handler(args) == 0
    assert (tmp_path / "r" / "report.md").is_file()
    bad = parser.parse_args(["synth", str(tmp_path / "c"), "-o", str(tmp_path / "r"), "--configs", "copy/raw"])
    from medpriv_desktop.core.errors import InputError

    with pytest.raises(InputError, match="unknown configuration"):
        bad.handler(bad)
