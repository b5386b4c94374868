"""Job generators the Notes workspace runs on the JobRunner: find PHI in one note, de-identify a batch.

Plain Python (no Qt). The de-identification engine (Presidio, spaCy, lexicons) is imported and built inside the job,
on the worker thread, so the window starts fast; the built engine is cached for the next note. Tests pass their own
``engine_factory`` so they need not build the real engine. Batches run the engine's own resumable jobs
(:mod:`medpriv_desktop.core.notes.batch`).
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.text.reading import read_table_text
from medpriv_desktop.core.app.note_operators import make_surrogator

EngineFactory = Callable[[], Any]

_engine_lock = threading.Lock()
_engine: Any = None
_engine_key: tuple = ()


def context_for(registry: Any = None) -> Any:
    """The Context of a job the window runs: the saved settings and the window's registry (THE registry)."""
    from medpriv_desktop.core.app import Context

    return Context.build(registry=registry)


def engine_for(ctx: Any) -> Any:
    """The de-identification engine of ``ctx`` (``core.app``), built on first use and kept while the settings that
    shape it (threshold, site folder, threads) and the registry stay the same."""
    global _engine, _engine_key
    from medpriv_desktop.core.app import deid_engine_config, deid_engine_factory

    config = deid_engine_config(ctx)
    key = (id(ctx.registry), config.threshold, config.site_models_dir, config.threads)
    with _engine_lock:
        if _engine is None or _engine_key != key:
            _engine, _engine_key = deid_engine_factory(ctx, config)(), key
        return _engine


def default_engine() -> Any:
    """The shared de-identification engine on the saved settings (heavy: Presidio, spaCy, lexicons, the PHI
    model); the Notes workspace uses :func:`engine_for` with its own registry."""
    return engine_for(context_for())


def reset_default_engine() -> None:
    """Forget the shared engine (the installed PHI models changed); the next job builds a new one."""
    global _engine
    with _engine_lock:
        _engine = None


@dataclass
class DetectResult:
    """Spans found in one note, the engine's identity (model id or rules only) and the surrogate maker."""

    spans: list[PhiSpan]
    model_id: str | None = None
    surrogator: Any = None
    #: The PHI model's audit identity (id, version, manifest hash, root); ``{"model_id": None}`` for rules only.
    model_fields: dict = field(default_factory=dict)


def detect_phi(text: str, engine_factory: EngineFactory = default_engine) -> Job[DetectResult]:
    """Find the PHI spans of one note."""
    if not text.strip():
        raise InputError("the note is empty", hint="paste a note or open a .txt file first")
    yield Progress(None, "loading the de-identification engine")
    engine = engine_factory()
    yield Progress(0.5, "finding PHI")
    spans = list(engine.analyze(text))
    yield Progress(0.9, "preparing surrogates")
    surrogator = make_surrogator()
    yield Progress(1.0, f"{len(spans)} PHI spans")
    return DetectResult(spans, getattr(engine, "model_id", None), surrogator,
                        {**(getattr(engine, "model_fields", None) or {}),
                         "site_recognizers_hash": getattr(engine, "site_recognizers_hash", None)})


@dataclass
class BatchItem:
    """One note of a batch: its file (folder mode) or row number (CSV mode, 1-based, header excluded), the patient
    the batch keyed it on, what happened and the tags replaced in it."""

    name: str
    status: str  # "done" | "earlier run" | "failed: <reason>"
    counts: Counter = field(default_factory=Counter)
    source: Path | None = None
    row: int | None = None
    patient: str | None = None

    @property
    def total(self) -> int:
        """Spans replaced in this note."""
        return sum(self.counts.values())


@dataclass
class BatchRun:
    """A finished batch: the engine's summary (counts only) and one :class:`BatchItem` per note."""

    summary: Any
    items: list[BatchItem]
    output: Path
    operator: str
    column: str | None = None


def csv_texts(source: Path, column: str) -> list[str]:
    """The text column of every non-empty row, in order (the batch job skips empty rows the same way)."""
    content = read_table_text(source)  # the reader the batch job used: same decoding, same rows
    rows = [r for r in csv.reader(io.StringIO(content, newline="")) if r]
    if not rows or column not in rows[0]:
        return []
    i = rows[0].index(column)
    return [r[i] if i < len(r) else "" for r in rows[1:]]


def batch_items(source: Path, column: str | None, summary: Any) -> list[BatchItem]:
    """One item per note of ``source`` with its counts from this run (``summary.per_note``), or "earlier run" when a
    previous run wrote it (resume), or the failure reason."""
    from medpriv_desktop.core.notes.batch import own_patient

    why = {Path(p).name: r for p, r in summary.failed}
    done = summary.per_note
    items: list[BatchItem] = []
    if source.is_dir():
        for f in sorted(p for p in source.iterdir() if p.suffix.lower() == ".txt" and p.is_file()):
            if f.name in why:
                items.append(BatchItem(f.name, f"failed: {why[f.name]}", source=f))
                continue
            c = done.get(f.name)
            items.append(BatchItem(f.name, "done" if c is not None else "earlier run", Counter(c or {}), f,
                                   patient=own_patient("note", f.name)))
        return items
    for n, _ in enumerate(csv_texts(source, column or "")):
        c = done.get(str(n))
        items.append(BatchItem(f"row {n + 1}", "done" if c is not None else "earlier run", Counter(c or {}), source,
                               row=n, patient=own_patient("row", str(n))))
    return items


def deidentify_batch(source: Path, output: Path, operator: str | None = None, *, text_column: str | None = None,
                     engine_factory: EngineFactory = default_engine, registry: Any = None) -> Job[BatchRun]:
    """``core.app.deidentify_notes`` (the use case ``medpriv deid`` drives, with its audit entry ``notes.deid``) for
    ``source``: a folder of ``.txt`` notes (resumable: finished notes are kept) or a CSV (one column de-identified,
    guessed from the header when not given). ``operator`` None is the Preferences default. Returns a
    :class:`BatchRun`: the engine's ``DeidSummary`` (counts per tag, no text) and the notes one by one."""
    from medpriv_desktop.core.app import DeidRequest, deidentify_notes

    source = Path(source)
    if not source.is_dir() and source.suffix.lower() != ".csv":
        raise InputError("batch input must be a folder of .txt notes or a .csv file", path=source)
    ctx = context_for(registry)
    request = DeidRequest(source, Path(output), operator, text_column=text_column, csv=not source.is_dir())
    summary = yield from deidentify_notes(ctx, request, engine_factory=engine_factory)
    yield Progress(1.0, "listing the notes")
    column = request.text_column if request.is_csv() else None
    items = batch_items(source, column, summary)
    return BatchRun(summary, items, Path(output), summary.operator, column)
