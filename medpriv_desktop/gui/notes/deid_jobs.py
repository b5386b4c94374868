"""Job generators the Notes workspace runs on the JobRunner: find PHI in one note, de-identify a batch.

Plain Python (no Qt). The de-identification engine (Presidio, spaCy, lexicons) is imported and built inside the job,
on the worker thread, so the window starts fast; the built engine is cached for the next note. Tests pass their own
``engine_factory`` so they need not build the real engine.

The batch job is a local adapter: the engine package ships per-note analysis but (so far) no batch job the window
can drive, so this module reads a folder of ``.txt`` notes or a CSV, de-identifies each note, writes the outputs
atomically and returns counts per category (never text).
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError, did_you_mean
from medpriv_desktop.core.fileio import atomic_open, atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.gui.notes.operators import DEFAULT_SHIFT_DAYS, apply_operator

EngineFactory = Callable[[], Any]

_engine_lock = threading.Lock()
_engine: Any = None


def default_engine() -> Any:
    """The shared :class:`DeidEngine`, built on first use (heavy: Presidio, spaCy, lexicons, the PHI model)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from medpriv_desktop.core.notes.engine import DeidEngine

            _engine = DeidEngine()
        return _engine


@dataclass
class DetectResult:
    """Spans found in one note and the engine's identity (model id or rules only)."""

    spans: list[PhiSpan]
    model_id: str | None = None


def detect_phi(text: str, engine_factory: EngineFactory = default_engine) -> Job[DetectResult]:
    """Find the PHI spans of one note."""
    if not text.strip():
        raise InputError("the note is empty", hint="paste a note or open a .txt file first")
    yield Progress(None, "loading the de-identification engine")
    engine = engine_factory()
    yield Progress(0.5, "finding PHI")
    spans = list(engine.analyze(text))
    yield Progress(1.0, f"{len(spans)} PHI spans")
    return DetectResult(spans, getattr(engine, "model_id", None))


@dataclass
class NoteSource:
    """Notes to de-identify: ids and texts; for CSV input also the rows and the text column."""

    ids: list[str]
    texts: list[str]
    path: Path
    csv_rows: list[dict[str, str]] | None = None
    text_column: str | None = None
    fieldnames: list[str] = field(default_factory=list)


def csv_columns(path: Path) -> list[str]:
    """Header of a CSV file (clear error when it cannot be read)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except UnicodeDecodeError:
        raise InputError("CSV is not UTF-8 text", path=path, hint="save it as UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or type(exc).__name__})", path=path) from None


def guess_text_column(columns: list[str]) -> str | None:
    """The likeliest text column of a notes/reports CSV."""
    for want in ("text", "note", "note_text", "report", "report_text", "findings"):
        for c in columns:
            if c.lower() == want:
                return c
    return columns[-1] if columns else None


def read_notes(path: Path, text_column: str | None = None) -> NoteSource:
    """A folder of ``.txt`` notes (sorted by name) or a CSV with one note per row."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise InputError("folder has no .txt notes", path=path)
        texts = []
        for f in files:
            try:
                texts.append(f.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError:
                raise InputError("note is not UTF-8 text", path=f, hint="re-save it as UTF-8") from None
        return NoteSource([f.stem for f in files], texts, path)
    if path.suffix.lower() != ".csv":
        raise InputError("batch input must be a folder of .txt notes or a .csv file", path=path)
    cols = csv_columns(path)
    col = text_column or guess_text_column(cols)
    if col not in cols:
        raise InputError(f"CSV has no column '{col}'", path=path, hint=did_you_mean(str(col), cols))
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except csv.Error as exc:
        raise InputError(f"CSV cannot be parsed ({type(exc).__name__})", path=path) from None
    if not rows:
        raise InputError("CSV has no rows", path=path)
    return NoteSource([str(i) for i in range(1, len(rows) + 1)], [r.get(col) or "" for r in rows], path, rows, col,
                      cols)


@dataclass
class BatchResult:
    """Counts of a finished batch: per category, notes done, where the output went. No text."""

    counts: dict[str, int]
    n_notes: int
    n_with_phi: int
    output: Path
    per_note: list[dict[str, int]] = field(default_factory=list)


def deidentify_batch(source: Path, output: Path, operator: str = "tag", *, text_column: str | None = None,
                     shift_days: int = DEFAULT_SHIFT_DAYS,
                     engine_factory: EngineFactory = default_engine) -> Job[BatchResult]:
    """De-identify every note of ``source`` into ``output`` (a folder for .txt input, a CSV for CSV input)."""
    yield Progress(None, "reading notes")
    notes = read_notes(Path(source), text_column)
    yield Progress(None, "loading the de-identification engine")
    engine = engine_factory()
    output = Path(output)
    counts: dict[str, int] = {}
    per_note: list[dict[str, int]] = []
    outputs: list[str] = []
    n = len(notes.texts)
    for i, text in enumerate(notes.texts):
        spans = engine.analyze(text) if text.strip() else []
        note_counts: dict[str, int] = {}
        for s in spans:
            note_counts[s.category] = note_counts.get(s.category, 0) + 1
            counts[s.category] = counts.get(s.category, 0) + 1
        per_note.append(note_counts)
        outputs.append(apply_operator(text, spans, operator, shift_days=shift_days))
        # Progress between notes is where Cancel takes effect; nothing has been written yet at that point.
        yield Progress((i + 1) / n, f"{i + 1}/{n} notes")
    yield Progress(1.0, "writing")
    if notes.csv_rows is not None:
        with atomic_open(output, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=notes.fieldnames)
            w.writeheader()
            for row, out in zip(notes.csv_rows, outputs):
                w.writerow({**row, notes.text_column: out})
    else:
        output.mkdir(parents=True, exist_ok=True)
        for nid, out in zip(notes.ids, outputs):
            atomic_write_text(output / f"{nid}.txt", out)
    from medpriv_desktop.core.audit import AuditLog

    AuditLog().record("notes.deidentify", model_id=getattr(engine, "model_id", None) or "rules", n_notes=n,
                      operator=operator, counts=counts)
    return BatchResult(counts, n, sum(1 for c in per_note if c), output, per_note)
