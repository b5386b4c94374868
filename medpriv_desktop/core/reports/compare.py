"""Model and rule labeler side by side over a batch, disagreements marked (``medpriv classify --compare``).

Output CSV, one row per input row in input order: the id column; per label ``<label>`` (the model's 0/1) and
``<label> (rules)`` (the rule labeler's 0/1, uncertain counted as 1); then ``disagreements`` (how many labels differ)
and ``disagreeing labels`` (their names joined by ``; ``). Labels the model does not support are left out of the
comparison (their rules column is still written). The file is written atomically at the end, as in :mod:`.batch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.csv_safety import SafeCsvWriter
from medpriv_desktop.core.fileio import atomic_open
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.reports.batch import ReportInput

RULES_SUFFIX = " (rules)"


@dataclass
class CompareSummary:
    """Counts of a finished comparison (no patient text)."""

    n_reports: int
    n_empty: int
    n_disagreeing_reports: int
    disagreements: dict[str, int]
    output: Path


def disagreeing(model_dec: dict[str, int], rules_dec: dict[str, int], labels: list[str],
                thresholds: list[float | None]) -> list[str]:
    """Supported labels on which the two decisions differ."""
    return [lb for lb, th in zip(labels, thresholds)
            if th is not None and lb in rules_dec and int(model_dec[lb]) != int(rules_dec[lb])]


def compare_reports(model: Any, rules: Any, reports: ReportInput, output: str | Path,
                    batch_size: int = 256) -> Job[CompareSummary]:
    """Classify every report with ``model`` and ``rules`` and write the side-by-side CSV; yields progress."""
    output = Path(output)
    labels = list(model.label_names)
    n = len(reports.texts)
    rows: list[list[object]] = []
    per_label = {lb: 0 for lb in labels}
    n_empty = n_diff = 0
    yield Progress(0.0, f"comparing {n} reports")
    for start in range(0, n, batch_size):
        part = reports.texts[start:start + batch_size]
        for rid, mp, rp in zip(reports.ids[start:start + batch_size], model.classify(part), rules.classify(part)):
            diff = [] if mp.empty else disagreeing(mp.decisions, rp.decisions, labels, model.thresholds)
            n_empty += int(mp.empty)
            n_diff += int(bool(diff))
            for lb in diff:
                per_label[lb] += 1
            row: list[object] = [rid]
            for lb in labels:
                row += [mp.decisions[lb], rp.decisions.get(lb, "")]
            rows.append(row + [len(diff), "; ".join(diff)])
        done = min(start + batch_size, n)
        yield Progress(done / n, f"{done}/{n} reports")
    header: list[object] = [reports.id_column]
    for lb in labels:
        header += [lb, f"{lb}{RULES_SUFFIX}"]
    with atomic_open(output, "w", newline="") as fh:
        w = SafeCsvWriter(fh)
        w.writerow(header + ["disagreements", "disagreeing labels"])
        w.writerows(rows)
    return CompareSummary(n, n_empty, n_diff, per_label, output)
