"""Job generators the Notes workspace runs on the JobRunner: find PHI in one note, de-identify a batch.

Plain Python (no Qt). The de-identification engine (Presidio, spaCy, lexicons) is imported and built inside the job,
on the worker thread, so the window starts fast; the built engine is cached for the next note. Tests pass their own
``engine_factory`` so they need not build the real engine. Batches run the engine's own resumable jobs
(:mod:`medpriv_desktop.core.notes.batch`).
"""

from __future__ import annotations

import os
import sys
import threading
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


def deidentify_batch(source: Path, output: Path, operator: str = "tag", *, text_column: str | None = None,
                     engine_factory: EngineFactory = default_engine) -> Job[Any]:
    """The engine's batch job for ``source``: a folder of ``.txt`` notes (resumable: finished notes are kept) or a
    CSV (one column de-identified). Returns the engine's ``DeidSummary`` (counts per tag, no text)."""
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.notes.batch import deidentify_csv, deidentify_folder

    AuditLog().preflight()  # a damaged audit log stops the batch before any output is written
    source = Path(source)
    if source.is_dir():
        return _audited(deidentify_folder(source, Path(output), engine_factory, operator))
    if source.suffix.lower() != ".csv":
        raise InputError("batch input must be a folder of .txt notes or a .csv file", path=source)
    column = text_column or guess_text_column(csv_columns(source))
    if not column:
        raise InputError("CSV has no header", path=source)
    return _audited(deidentify_csv(source, Path(output), engine_factory, column, None, operator))


def _audited(job: Job[Any]) -> Job[Any]:
    """The batch job, then the same audit entry ``medpriv deid`` writes (action ``notes.deid``, counts only)."""
    from medpriv_desktop.core.audit import AuditLog

    summary = yield from job
    AuditLog().record("notes.deid", **summary.as_audit_fields())
    return summary
