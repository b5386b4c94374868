"""De-identify one partition of a notes table: the task a worker runs.

:func:`deidentify_partition` reads its rows, finds PHI with the same engine the laptop uses
(``core/notes/engine.py``, built once per worker process), replaces it with the same operators
(``core/notes/operators.py: apply_operator``, surrogates and date shifts from ``core/notes/surrogates.py`` under the
site's ``deid`` key) and writes the part to a temporary file that the driver commits. It is the function a future
``core.app`` ``deidentify_notes`` job will replace; until then it calls those core functions directly, never copies.

Consistency without shared state: every surrogate and date shift is a keyed hash of (patient, value), so one patient's
notes in different partitions, on different workers or in different shards get the same fake name and the same date
shift, as long as every worker holds the same ``deid`` key (checked: a worker whose key or detector differs from the
driver's refuses its partition). The patient of a row is its ``--patient-column`` cell; without one, or when the cell
is empty, the row is its own patient (by its global row number, so a rerun gives the same output).

Pseudonyms: the note id and patient columns are written as keyed pseudonyms, the MRN surrogate the notes engine
writes for a record number (``Surrogator.digits_like``: same layout, keyed digits), unless the user keeps a column
with ``--keep-columns``. The patient pseudonym is keyed by the patient itself, so it equals the surrogate a note of
that patient gets for its own MRN; the note id pseudonym is keyed by the id alone, so it joins across exports.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from medpriv_desktop.core.errors import MedPrivError
from medpriv_desktop.scaleout.parts import RowError, temp_path
from medpriv_desktop.scaleout.partitions import Partition, read_partition
from medpriv_desktop.scaleout.runner import PartResult, guarded_part, peak_rss_mb
from medpriv_desktop.scaleout.worker import cached

#: The pseudo-patient note ids are keyed under (ids must map alike whoever the patient is).
ID_KEY_PATIENT = "\x00note-id"
#: Notes analysed together (the tagger batches windows across them), as the folder job does.
NOTES_PER_STEP = 16


@dataclass(frozen=True)
class TableColumns:
    """Which columns a run reads and writes."""

    text: str
    id: str
    patient: str | None = None
    keep: tuple[str, ...] = ()

    def to_read(self) -> list[str]:
        """Every column a partition needs, once each."""
        cols = [self.id] + ([self.patient] if self.patient else []) + list(self.keep) + [self.text]
        return list(dict.fromkeys(cols))

    def output(self) -> list[str]:
        """Output columns in order: id, patient, kept columns, text."""
        return self.to_read()


@dataclass(frozen=True)
class DeidSpec:
    """Everything a worker needs for one partition (no text: rows are read on the worker)."""

    partition: Partition
    columns: TableColumns
    options: Any  # OperatorOptions (frozen, picklable)
    engine_config: Any  # EngineConfig
    detector: dict[str, Any]
    key_id: str
    folder: str
    out_format: str
    max_bytes: int


def engine_key(config: Any) -> tuple[str, str]:
    """The per-process cache key of an engine built from ``config``."""
    return ("deid-engine", repr(sorted(asdict(config).items())))


def _engine(spec: DeidSpec) -> Any:
    from medpriv_desktop.core.app import detector_identity, keep_torch_out
    from medpriv_desktop.core.notes.engine import DeidEngine

    keep_torch_out()  # as in the command's own process: spaCy would pull torch (hundreds of MB) into every worker

    engine = cached(engine_key(spec.engine_config), lambda: DeidEngine(spec.engine_config))
    if detector_identity(engine) != spec.detector:
        raise MedPrivError("this worker's PHI detector (model, version or site recognizers) differs from the "
                           "driver's", hint="install the same model bundles and site files on every node")
    return engine


def _surrogator(spec: DeidSpec) -> Any:
    from medpriv_desktop.core.keys import key_id, load_key
    from medpriv_desktop.core.notes.surrogates import Surrogator

    key = load_key("deid")
    if key_id(key) != spec.key_id:
        raise MedPrivError("this worker's deid key differs from the driver's",
                           hint="point MEDPRIV_KEY_DIR at one shared key folder on every node")
    return cached(("surrogator", spec.key_id), lambda: Surrogator(key))


def pseudonym(surrogator: Any, value: Any, patient: str) -> str:
    """The keyed MRN-style pseudonym of a cell (empty stays empty)."""
    text = "" if value is None else str(value).strip()
    return surrogator.digits_like(patient, text, "MRN") if text else ""


def _row_problem(text: Any, max_bytes: int) -> str | None:
    """Why a cell cannot be de-identified (None when it can); the reason never quotes the cell."""
    if text is None:
        return "no note text (empty cell)"
    if not isinstance(text, str):
        return f"the text cell is not text ({type(text).__name__})"
    if not text.strip():
        return "empty note"
    if "\x00" in text:
        return "the note holds binary data (NUL characters)"
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return f"the note is larger than {max_bytes // (1024 * 1024)} MB"
    return None


def _analyse(engine: Any, texts: list[str]) -> list[list[Any] | str]:
    """Spans per note; a note the detector fails on gets a reason instead (the others of its group still run)."""
    try:
        return list(engine.analyze_many(texts))
    except Exception:  # noqa: BLE001 - find the note that fails, alone
        out: list[list[Any] | str] = []
        for t in texts:
            try:
                out.append(engine.analyze(t))
            except Exception as exc:  # noqa: BLE001 - a bad row is an errors-table entry, never a stopped run
                out.append(f"the detector failed on this note ({type(exc).__name__})")
        return out


def deidentify_partition(spec: DeidSpec) -> PartResult:
    """De-identify one partition into a temporary file in ``spec.folder``; never raises (see :class:`PartResult`)."""
    return guarded_part(spec.partition.index, lambda: _run(spec))


def _run(spec: DeidSpec) -> PartResult:
    from medpriv_desktop.core.notes.batch import own_patient
    from medpriv_desktop.core.notes.operators import apply_operator

    p, cols = spec.partition, spec.columns
    data, bad = read_partition(p, cols.to_read())
    engine = _engine(spec)
    surrogator = _surrogator(spec)
    errors = [RowError(p.index, p.first_row + n + 1, reason) for n, reason in sorted(bad.items())]
    good: list[int] = []
    for n, text in enumerate(data[cols.text]):
        if n in bad:
            continue
        problem = _row_problem(text, spec.max_bytes)
        if problem:
            errors.append(RowError(p.index, p.first_row + n + 1, problem))
        else:
            good.append(n)
    patients, unplaced = {}, 0
    for n in good:
        cell = data[cols.patient][n] if cols.patient else None
        value = "" if cell is None else str(cell).strip()
        if not value:
            unplaced += bool(cols.patient)
            value = own_patient("row", str(p.first_row + n))
        patients[n] = value
    out: dict[str, list[Any]] = {c: [] for c in cols.output()}
    counts: Counter = Counter()
    for g in range(0, len(good), NOTES_PER_STEP):
        group = good[g: g + NOTES_PER_STEP]
        for n, spans in zip(group, _analyse(engine, [data[cols.text][i] for i in group])):
            if isinstance(spans, str):
                errors.append(RowError(p.index, p.first_row + n + 1, spans))
                continue
            patient = patients[n]
            text = apply_operator(spec.options, data[cols.text][n], spans, surrogator, patient)
            counts.update(s.tag for s in spans)
            for c in cols.output():
                if c == cols.text:
                    out[c].append(text)
                elif c in cols.keep:
                    out[c].append(data[c][n])
                elif c == cols.id:
                    out[c].append(pseudonym(surrogator, data[c][n], ID_KEY_PATIENT))
                else:  # the patient column: keyed by the patient itself
                    out[c].append(pseudonym(surrogator, data[c][n], str(data[c][n] or "").strip()))
    errors.sort(key=lambda e: e.row or 0)
    temp = temp_path(spec.folder, p.index)
    write_part(out, cols.output(), temp, spec.out_format)
    digests = {int.from_bytes(hashlib.blake2b(patients[n].encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                              "big") for n in good}
    return PartResult(p.index, temp, rows_done=len(out[cols.text]), errors=errors, counts=dict(counts),
                      patients=digests, unplaced=unplaced, peak_rss_mb=peak_rss_mb(), pid=os.getpid())


def write_part(columns: dict[str, list[Any]], order: list[str], path: str, out_format: str) -> None:
    """Write a part (Parquet, or CSV with cells neutralised against formula injection) to ``path``, flushed."""
    if out_format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({c: pa.array(columns[c]) if columns[c] else pa.array([], pa.string()) for c in order})
        pq.write_table(table, path)
        with open(path, "rb+") as fh:  # on disk before the driver renames it into place
            os.fsync(fh.fileno())
        return
    from medpriv_desktop.core.csv_safety import SafeCsvWriter

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = SafeCsvWriter(fh)
        w.writerow(order)
        for row in zip(*(columns[c] for c in order)):
            w.writerow(["" if v is None else v for v in row])
        fh.flush()
        os.fsync(fh.fileno())
