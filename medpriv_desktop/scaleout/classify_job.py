"""Classify one partition of a reports table: the task a worker runs.

:func:`classify_partition` reads the partition's report texts and ids and hands them to the same batch job the
laptop runs (``core/reports/batch.py: classify_reports``) with the same model (a registry bundle, loaded and verified
once per worker process, or the rule labeler); that job writes the part's CSV (id, one 0/1 column per label, blank
when not assessed, optional probabilities). For a Parquet output the CSV is converted cell for cell (labels as
nullable integers, probabilities as floats). It is the function a future ``core.app`` ``classify_reports`` job will
replace. A worker whose model bundle differs from the driver's (another manifest hash) refuses its partition.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Any

from medpriv_desktop.core.errors import MedPrivError
from medpriv_desktop.scaleout.parts import RowError, temp_path
from medpriv_desktop.scaleout.partitions import Partition, read_partition
from medpriv_desktop.scaleout.runner import PartResult, guarded_part, peak_rss_mb
from medpriv_desktop.scaleout.worker import cached


@dataclass(frozen=True)
class ClassifySpec:
    """Everything a worker needs for one partition of reports (no text)."""

    partition: Partition
    text_columns: tuple[str, ...]
    id_column: str | None
    model_id: str  # a registry id, or "rules"
    label_set: str | None
    model_fields: dict[str, Any]
    probabilities: bool
    batch_size: int
    folder: str
    out_format: str


def load_report_model(model_id: str, label_set: str | None) -> tuple[Any, dict[str, Any]]:
    """The model the command would load (``--model ID`` or ``rules``) and its audit fields."""
    from medpriv_desktop.core.reports.rules_model import RULES_MODEL_ID, RuleModel

    if model_id == RULES_MODEL_ID:
        model = RuleModel(label_set or "ChestX-ray14")
        return model, {"model_id": RULES_MODEL_ID, "kind": model.label_set}
    from medpriv_desktop.core.app import Context, load_report_model as load_entry, report_model_entry

    ctx = Context.build()
    entry = report_model_entry(ctx, model_id)
    return load_entry(ctx, entry), dict(entry.audit_fields())


def _model(spec: ClassifySpec) -> Any:
    model, fields = cached(("report-model", spec.model_id, spec.label_set),
                           lambda: load_report_model(spec.model_id, spec.label_set))
    if fields != spec.model_fields:
        raise MedPrivError("this worker's report model bundle differs from the driver's",
                           hint="install the same model bundles on every node")
    return model


def classify_partition(spec: ClassifySpec) -> PartResult:
    """Classify one partition into a temporary file in ``spec.folder``; never raises (see :class:`PartResult`)."""
    return guarded_part(spec.partition.index, lambda: _run(spec))


def _run(spec: ClassifySpec) -> PartResult:
    from pathlib import Path

    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.reports.batch import MAX_REPORT_CHARS, ReportInput, classify_reports, join_columns

    p = spec.partition
    wanted = list(dict.fromkeys(list(spec.text_columns) + ([spec.id_column] if spec.id_column else [])))
    data, bad = read_partition(p, wanted)
    errors = [RowError(p.index, p.first_row + n + 1, reason) for n, reason in sorted(bad.items())]
    ids, texts = [], []
    for n in range(p.n_rows):
        if n in bad:
            continue
        row = {c: (None if data[c][n] is None else str(data[c][n])) for c in spec.text_columns}
        text = join_columns(row, list(spec.text_columns))
        if len(text) > MAX_REPORT_CHARS:
            errors.append(RowError(p.index, p.first_row + n + 1, f"longer than {MAX_REPORT_CHARS} characters"))
            continue
        ids.append(str(data[spec.id_column][n] or "") if spec.id_column else str(p.first_row + n + 1))
        texts.append(text)
    model = _model(spec)
    temp = temp_path(spec.folder, p.index)
    csv_out = temp + ".csv"
    try:
        summary = run_job(classify_reports(model, ReportInput(ids, texts, spec.id_column or "row", Path(p.path)),
                                           csv_out, probabilities=spec.probabilities, batch_size=spec.batch_size))
        if spec.out_format == "parquet":
            csv_to_parquet(csv_out, temp, model.label_names)
        else:
            os.replace(csv_out, temp)
    finally:
        if os.path.exists(csv_out):
            os.unlink(csv_out)
    counts = {f"positive {k}": v for k, v in summary.positives.items()}
    counts["empty reports"] = summary.n_empty
    return PartResult(p.index, temp, rows_done=summary.n_reports, errors=errors, counts=counts,
                      peak_rss_mb=peak_rss_mb(), pid=os.getpid())


def csv_to_parquet(src: str, dst: str, labels: list[str]) -> None:
    """The batch job's CSV as Parquet: id as text, labels as nullable int8, probabilities as nullable float32."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    cols: dict[str, Any] = {}
    for j, name in enumerate(header):
        cells = [r[j] for r in body]
        if name in labels:
            cols[name] = pa.array([int(c) if c else None for c in cells], pa.int8())
        elif j > 0 and name.endswith(" probability"):
            cols[name] = pa.array([float(c) if c else None for c in cells], pa.float32())
        else:
            cols[name] = pa.array(cells, pa.string())
    pq.write_table(pa.table(cols), dst)
    with open(dst, "rb+") as fh:
        os.fsync(fh.fileno())
