"""Synthetic notes tables for the scale-out tests (made in each test; no real data)."""

from __future__ import annotations

import csv
from pathlib import Path

#: Five synthetic patients; every note names its patient, a clinician, a date and a phone number.
PATIENTS = [("MRN1000001", "John Quimbleford"), ("MRN1000002", "Mary Ashcombe"), ("MRN1000003", "Peter Dunwoody"),
            ("MRN1000004", "Alice Fernsby"), ("MRN1000005", "Tom Wrexley")]


def note_text(i: int, name: str) -> str:
    """A synthetic note with a line break inside (CSV must keep it whole) and PHI the rules find."""
    return (f"Patient {name} seen on 03/{(i % 27) + 1:02d}/2021 by Dr. Alice Brown.\n"
            f"Call 410-555-{1000 + i:04d}, fu in 2 weeks, note {i}.")


def note_rows(n: int) -> list[dict[str, object]]:
    """``n`` rows: note_id, mrn (patient), dept, text."""
    rows = []
    for i in range(n):
        mrn, name = PATIENTS[i % len(PATIENTS)]
        rows.append({"note_id": f"N{i:05d}", "mrn": mrn, "dept": f"ward-{i % 3}", "text": note_text(i, name)})
    return rows


def write_table(rows: list[dict[str, object]], path: Path, rows_per_group: int = 10) -> Path:
    """Write ``rows`` as Parquet (row groups of ``rows_per_group``) or CSV, by the suffix of ``path``."""
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=rows_per_group)
    else:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return path


def read_parts(folder: Path) -> list[dict[str, object]]:
    """Every row of a folder of parts, in part order."""
    rows: list[dict[str, object]] = []
    for p in sorted(folder.glob("part-*")):
        if p.name.endswith(".errors.csv"):
            continue
        if p.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows += pq.read_table(p).to_pylist()
        else:
            with open(p, newline="", encoding="utf-8") as fh:
                rows += list(csv.DictReader(fh))
    return rows
