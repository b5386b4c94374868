"""The engine on the public PhysioNet deid notes (skipped when ../shared/data is absent).

Floors here are below what the rules reach on these notes (token recall 0.993, precision 0.989, rules only, with
``medpriv eval deid``'s token metric), so a regression fails while small changes pass; the real measurement is the
shared harness (benchmarks/bench_deid.py, training/phi/cv.py).
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
    assert tok.recall >= 0.98 and tok.precision >= 0.95, report.table()
    for cat in ("HCPName", "PTName", "RelativeProxyName", "Date", "DateYear"):
        assert report.token[cat].recall >= 0.97, report.table()
