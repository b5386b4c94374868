"""Honest de-identification figures: parts of the development corpus, bootstrap intervals and span leak rates.

``medpriv eval deid CORPUS --part tuning|locked`` keeps only the documents of one side of the fixed patient split
(:mod:`medpriv_desktop.core.notes.dev_split`; PhysioNet document ids are ``patient-note``). The **locked** part is
scored for totals only: :func:`check_locked_options` refuses anything that would show a document (misses, a limit
that picks documents), and the table holds counts per category, never text.

Small counts need intervals, not bare rates: :func:`bootstrap_table` resamples *patients* (all notes of a patient
together, since one patient's notes share names and places), 2,000 times with a fixed seed, and reports the 2.5 and
97.5 percentiles of token recall, precision and the **span leak rate** (the share of gold PHI spans of which any word
survived: a half-masked name is a leaked name).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.notes.dev_split import split_patients
from medpriv_desktop.core.notes.evaluation import EvalReport, GoldDoc, score_document

PARTS = ("all", "tuning", "locked")
BOOTSTRAP_ROUNDS = 2000
BOOTSTRAP_SEED = 20261204


def patient_of(doc: GoldDoc) -> str:
    """The patient of a PhysioNet document (``patient-note`` ids); the whole id for other corpora."""
    return doc.doc_id.split("-", 1)[0]


def select_part(docs: list[GoldDoc], part: str) -> list[GoldDoc]:
    """The documents of ``part`` ("all", "tuning" or "locked") of the fixed split."""
    if part == "all":
        return docs
    if part not in PARTS:
        raise InputError(f"unknown part '{part}'", hint="all, tuning or locked")
    tuning, locked = split_patients(patient_of(d) for d in docs)
    keep = tuning if part == "tuning" else locked
    return [d for d in docs if patient_of(d) in keep]


def check_locked_options(part: str, misses: object, limit: int) -> None:
    """Refuse options that would show locked documents one by one."""
    if part != "locked":
        return
    if misses:
        raise InputError("--misses is refused with --part locked: the locked part is scored for totals only",
                         hint="read misses on --part tuning")
    if limit:
        raise InputError("--limit is refused with --part locked (it would pick documents)")


@dataclass
class Interval:
    """A point estimate with its bootstrap 95% interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def per_document(docs: Sequence[GoldDoc], predicted: Sequence[list]) -> list[EvalReport]:
    """One report per document (for resampling)."""
    out = []
    for doc, pred in zip(docs, predicted):
        r = EvalReport()
        score_document(doc, pred, r)
        out.append(r)
    return out


def _rates(reports: Sequence[EvalReport], category: str) -> tuple[float, float, float]:
    tp = sum(r.token[category].tp for r in reports if category in r.token)
    fn = sum(r.token[category].fn for r in reports if category in r.token)
    fp = sum(r.token["ALL"].fp for r in reports) if category == "ALL" else 0
    stp = sum(r.span[category].tp for r in reports if category in r.span)
    sfn = sum(r.span[category].fn for r in reports if category in r.span)
    recall = tp / (tp + fn) if tp + fn else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    leak = sfn / (stp + sfn) if stp + sfn else float("nan")
    return recall, precision, leak


def _percentile(values: list[float], q: float) -> float:
    vals = sorted(v for v in values if v == v)
    if not vals:
        return float("nan")
    k = min(len(vals) - 1, max(0, int(round(q * (len(vals) - 1)))))
    return vals[k]


def bootstrap_table(docs: Sequence[GoldDoc], reports: Sequence[EvalReport], rounds: int = BOOTSTRAP_ROUNDS
                    ) -> dict[str, dict[str, object]]:
    """Per gold category and ALL: counts, token recall, precision (ALL only) and span leak rate, each with a
    patient-level bootstrap 95% interval."""
    by_patient: dict[str, list[EvalReport]] = defaultdict(list)
    for d, r in zip(docs, reports):
        by_patient[patient_of(d)].append(r)
    patients = sorted(by_patient)
    cats = sorted({c for r in reports for c in r.token if c != "ALL" and not c.startswith("pred:")}) + ["ALL"]
    rng = random.Random(BOOTSTRAP_SEED)
    samples: dict[str, list[tuple[float, float, float]]] = {c: [] for c in cats}
    for _ in range(rounds):
        pick = [r for _ in patients for r in by_patient[rng.choice(patients)]]
        for c in cats:
            samples[c].append(_rates(pick, c))
    table: dict[str, dict[str, object]] = {}
    for c in cats:
        rec, prec, leak = _rates(reports, c)
        tokens = sum(r.token[c].tp + r.token[c].fn for r in reports if c in r.token)
        spans = sum(r.span[c].tp + r.span[c].fn for r in reports if c in r.span)
        row: dict[str, object] = {"tokens": tokens, "spans": spans,
                                  "recall": Interval(rec, *(_percentile([s[0] for s in samples[c]], q)
                                                            for q in (0.025, 0.975))),
                                  "leak": Interval(leak, *(_percentile([s[2] for s in samples[c]], q)
                                                           for q in (0.025, 0.975)))}
        if c == "ALL":
            row["precision"] = Interval(prec, *(_percentile([s[1] for s in samples[c]], q) for q in (0.025, 0.975)))
        table[c] = row
    return table


def format_table(table: dict[str, dict[str, object]], patients: int, docs: int) -> str:
    """The bootstrap table as text: counts and intervals only."""
    lines = [f"{docs} documents of {patients} patients; 95% intervals from {BOOTSTRAP_ROUNDS} patient resamples",
             f"{'category':18s} {'tokens':>6s} {'spans':>6s}  {'token recall':24s} {'span leak rate':24s}"]
    for c, row in table.items():
        lines.append(f"{c:18s} {row['tokens']:6d} {row['spans']:6d}  {str(row['recall']):24s} {str(row['leak']):24s}")
    if "precision" in table.get("ALL", {}):
        lines.append(f"token precision (all categories): {table['ALL']['precision']}")
    return "\n".join(lines)


def table_as_dict(table: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """JSON-ready copy of a bootstrap table."""
    out: dict[str, dict[str, object]] = {}
    for c, row in table.items():
        out[c] = {k: ({"value": round(v.value, 4), "low": round(v.low, 4), "high": round(v.high, 4)}
                      if isinstance(v, Interval) else v) for k, v in row.items()}
    return out
