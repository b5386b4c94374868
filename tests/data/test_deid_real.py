"""The engine on the public PhysioNet deid notes (skipped when ../shared/data is absent).

Floors here are below what the rules reach on these notes (token recall 0.951, precision 0.957, rules only), so a
regression fails while small changes pass; the real measurement is the shared harness (benchmarks/bench_deid.py).
"""

from __future__ import annotations

from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
from medpriv_desktop.core.notes.evaluation import evaluate_corpus, read_corpus


def test_rules_on_physionet_notes(shared_data):
    docs = read_corpus(shared_data / "notes" / "physionet-deid", "physionet")
    assert len(docs) == 591
    report = run_job(evaluate_corpus(docs, DeidEngine(EngineConfig(use_model=False))))
    tok = report.token["ALL"]
    assert tok.recall >= 0.93 and tok.precision >= 0.90, report.table()
    assert report.token["HCPName"].recall >= 0.95 and report.token["Date"].recall >= 0.95
