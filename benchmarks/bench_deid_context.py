"""Presidio's context machinery in the de-identification engine: what it costs and what it changes, in one run.

Three set-ups of the rule stage (no PHI tagger, no site file), on the **tuning** part of the PhysioNet development
notes only (the locked part is scored by ``medpriv eval deid --part locked``, totals only):

- ``off``: the built-in recognizers without context words (no weak candidates, no enhancer work): the engine as it
  was before Presidio's context was switched on;
- ``lazy`` (the default): weak candidates, Presidio's lemma enhancer, NLP artifacts made only for notes with an open
  candidate;
- ``every``: the same, but every note tokenised for Presidio (``EngineConfig(spacy_tokens=True)``).

Reports notes/s (median of three passes, wall and CPU), notes tokenised for context, and token recall/precision on
the tuning part. Usage: ``python benchmarks/run.py deid_context``; writes ``benchmarks/results/deid_context.json``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import medpriv_desktop  # noqa: F401  - offline switches before anything else

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import write_result  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PASSES = 3


def _engine(setup: str):
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
    from medpriv_desktop.core.notes.recognizers import default_recognizers

    recognizers = default_recognizers()
    if setup == "off":
        for r in recognizers:
            r.context = None  # what Presidio reads: no context words, so no weak candidates either
    return DeidEngine(EngineConfig(use_model=False, site_recognizers=False, spacy_tokens=setup == "every"),
                      recognizers=recognizers)


def _measure(setup: str, docs: list) -> dict:
    from medpriv_desktop.core.notes import eval_parts

    engine = _engine(setup)
    tokenised = [0]
    real = engine.analyzer.nlp_engine.process_text

    def counting(text: str, language: str):
        tokenised[0] += 1
        return real(text, language)

    engine.analyzer.nlp_engine.process_text = counting
    walls, cpus = [], []
    for _ in range(PASSES):
        tokenised[0] = 0
        w, c = time.perf_counter(), time.process_time()
        predicted = [engine.analyze(d.text) for d in docs]
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    reports = eval_parts.per_document(docs, predicted)
    tp = sum(r.token["ALL"].tp for r in reports if "ALL" in r.token)
    fp = sum(r.token["ALL"].fp for r in reports if "ALL" in r.token)
    fn = sum(r.token["ALL"].fn for r in reports if "ALL" in r.token)
    return {"notes_per_s": len(docs) / statistics.median(walls), "notes_per_cpu_s": len(docs) / statistics.median(cpus),
            "notes_tokenised": tokenised[0], "token_tp": tp, "token_fp": fp, "token_fn": fn,
            "token_recall": tp / max(tp + fn, 1), "token_precision": tp / max(tp + fp, 1)}


def main() -> int:
    """Measure the three set-ups and print the table."""
    from medpriv_desktop.core.notes import eval_parts
    from medpriv_desktop.core.notes.evaluation import read_physionet_corpus

    env = os.environ.get("MEDPRIV_DATA")
    corpus = (Path(env) if env else REPO.parent / "shared" / "data") / "notes" / "physionet-deid"
    if not corpus.is_dir():
        print(f"skipped: no PhysioNet deid notes at {corpus}")
        return 0
    docs = eval_parts.select_part(read_physionet_corpus(corpus), "tuning")
    rows = {setup: _measure(setup, docs) for setup in ("off", "lazy", "every")}
    print(f"{len(docs)} tuning notes, rules only, median of {PASSES} passes")
    print(f"{'set-up':8s} {'notes/s':>8s} {'notes/cpu-s':>12s} {'tokenised':>10s} {'tp':>5s} {'fp':>4s} {'fn':>4s}"
          f" {'recall':>7s} {'prec':>6s}")
    for setup, r in rows.items():
        print(f"{setup:8s} {r['notes_per_s']:8.0f} {r['notes_per_cpu_s']:12.0f} {r['notes_tokenised']:10d} "
              f"{r['token_tp']:5d} {r['token_fp']:4d} {r['token_fn']:4d} {r['token_recall']:7.3f} "
              f"{r['token_precision']:6.3f}")
    print(f"CPU cost of context, lazy vs off: x{rows['off']['notes_per_cpu_s'] / rows['lazy']['notes_per_cpu_s']:.2f}; "
          f"every note tokenised vs off: x{rows['off']['notes_per_cpu_s'] / rows['every']['notes_per_cpu_s']:.2f}")
    path = write_result("deid_context", {"notes": len(docs), "part": "tuning", "passes": PASSES, "setups": rows})
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
