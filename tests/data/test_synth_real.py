"""Synthetic notes on the public PhysioNet deid notes and the labelled reports (skipped when ../shared/data is absent).

Nothing generated here is written anywhere: the assessment keeps synthetic notes in memory.
"""

from __future__ import annotations

import sys

import pytest

from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.notes.synth.corpus import read_physionet
from medpriv_desktop.core.notes.synth.engines import get_engine
from medpriv_desktop.core.notes.synth.evaluate import DEFAULT_CONFIGS, evaluate_synthesis


@pytest.fixture(scope="module")
def deid():
    """The real de-identifier (torch hidden from spaCy while it builds)."""
    from medpriv_desktop.core.notes.engine import DeidEngine

    blocked = [n for n in ("torch", "tensorflow", "transformers") if n not in sys.modules]
    for n in blocked:
        sys.modules[n] = None
    try:
        return DeidEngine()
    finally:
        for n in blocked:
            if sys.modules.get(n, 0) is None:
                del sys.modules[n]


def test_keyword_path_leaks_no_names_dates_or_phones_where_one_shot_does(shared_data, deid):
    notes = read_physionet(shared_data / "notes" / "physionet-deid", limit=60)
    res = run_job(evaluate_synthesis(notes, get_engine("template"), deid, DEFAULT_CONFIGS))
    kw = res["configs"]["keyword/tagged"]["privacy"]
    one = res["configs"]["one-shot/raw"]["privacy"]
    for cat in ("NAME", "DATE", "PHONE"):
        if cat in kw["categories"]:
            assert kw["categories"][cat]["rate"] == 0.0, cat
    assert kw["ngram8_overlap"] < 0.01
    assert one["any_leak_rate"] > max(0.05, kw["any_leak_rate"])  # share of ALL notes, many have no PHI
    assert one["ngram8_overlap"] > 0.2
    q = res["configs"]["keyword/tagged"]["quality"]
    assert 0.05 < q["rouge1"] < res["configs"]["one-shot/raw"]["quality"]["rouge1"]


def test_utility_of_keyword_reports_on_ct_rate(shared_data):
    pytest.importorskip("sklearn")
    from training.reports.data import load_dataset
    from training.synth.utility import utility_experiment

    ds = load_dataset("ctrate", shared_data)
    res = run_job(utility_experiment([ds], ["keyword"], detector=None, limit=300))
    d = res["datasets"]["CT-RATE"]
    assert d["real"]["f1_micro"] > 0.4
    assert 0.3 < d["methods"]["keyword"]["ratio_micro"] <= 1.5
