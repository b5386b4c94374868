"""Job generators the Notes workspace runs on the JobRunner: find PHI in one note, de-identify a batch.

Plain Python (no Qt). The de-identification engine (Presidio, spaCy, lexicons) is imported and built inside the job,
on the worker thread, so the window starts fast; the built engine is cached for the next note. Tests pass their own
``engine_factory`` so they need not build the real engine. Batches run the engine's own resumable jobs
(:mod:`medpriv_desktop.core.notes.batch`).
"""

from __future__ import annotations

import csv
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.gui.notes.operators import make_surrogator
from medpriv_desktop.gui.workspaces.text_panes import csv_columns, guess_text_column

EngineFactory = Callable[[], Any]

_engine_lock = threading.Lock()
_engine: Any = None


def _keep_torch_out() -> None:
    """spaCy (under Presidio) imports torch when it is installed: seconds and hundreds of MB the rule engine and
    onnxruntime never use (the same guard as ``medpriv deid``). Skipped when torch is already loaded."""
    if "torch" not in sys.modules and not os.environ.get("MEDPRIV_ALLOW_TORCH"):
        for name in ("torch", "tensorflow", "transformers"):
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def default_engine() -> Any:
    """The shared :class:`DeidEngine`, built on first use (heavy: Presidio, spaCy, lexicons, the PHI model)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _keep_torch_out()
            from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
            from medpriv_desktop.core.settings import load_settings

            _engine = DeidEngine(EngineConfig(site_models_dir=load_settings().site_models_dir))
        return _engine


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


def review_audit(operator: str, model_id: str | None, model_fields: dict, tag_counts: Counter,
                 status_counts: dict[str, int], patient_source: str = "per-note") -> dict[str, Any]:
    """The audit fields of one reviewed note: the entry a batch writes (``DeidSummary.as_audit_fields``, one note,
    one patient) plus what the reviewer decided (counts only)."""
    from medpriv_desktop.core.notes.batch import DeidSummary

    summary = DeidSummary(operator, model_id, done=1, counts=Counter(tag_counts),
                          model_fields=dict(model_fields or {}), patient_source=patient_source, patients=1)
    return {**summary.as_audit_fields(),
            "reviewed": {"accepted": status_counts.get("accepted", 0), "rejected": status_counts.get("rejected", 0),
                         "added": status_counts.get("manual", 0), "unreviewed": status_counts.get("detected", 0)}}


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
    with open(source, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r]
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


def deidentify_batch(source: Path, output: Path, operator: str = "tag", *, text_column: str | None = None,
                     engine_factory: EngineFactory = default_engine) -> Job[BatchRun]:
    """The engine's batch job for ``source``: a folder of ``.txt`` notes (resumable: finished notes are kept) or a
    CSV (one column de-identified). Returns a :class:`BatchRun`: the engine's ``DeidSummary`` (counts per tag, no
    text) and the notes one by one with their counts."""
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.notes.batch import deidentify_csv, deidentify_folder

    AuditLog().preflight()  # a damaged audit log stops the batch before any output is written
    source = Path(source)
    column = None
    if source.is_dir():
        job = deidentify_folder(source, Path(output), engine_factory, operator)
    else:
        if source.suffix.lower() != ".csv":
            raise InputError("batch input must be a folder of .txt notes or a .csv file", path=source)
        column = text_column or guess_text_column(csv_columns(source))
        if not column:
            raise InputError("CSV has no header", path=source)
        job = deidentify_csv(source, Path(output), engine_factory, column, None, operator)
    summary = yield from _audited(job)
    yield Progress(1.0, "listing the notes")
    items = batch_items(source, column, summary)
    return BatchRun(summary, items, Path(output), operator, column)


def _audited(job: Job[Any]) -> Job[Any]:
    """The batch job, then the audit entry ``medpriv deid`` writes (action ``notes.deid``, counts only), with the
    reviewer fields a reviewed note's entry has (nobody reviewed a batch: every span is unreviewed)."""
    from medpriv_desktop.core.audit import AuditLog

    summary = yield from job
    AuditLog().record("notes.deid", **summary.as_audit_fields())
    return summary
