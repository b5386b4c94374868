"""Notes use cases: ``deidentify_notes`` (a batch, or one reviewed note) and ``synthesize_notes``.

Each is written once here and driven alike by ``medpriv deid`` / ``medpriv synth``, the Notes workspace and a batch
runner: it takes the :class:`~medpriv_desktop.core.app.context.Context` (registry, thread policy, settings, audit
log), runs the engine's resumable job and writes its one audit entry (``core/app/actions.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.app import actions
from medpriv_desktop.core.app.context import Context
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job

EngineFactory = Callable[[], Any]


def keep_torch_out() -> None:
    """spaCy (under Presidio) imports torch when it is installed: seconds and hundreds of MB the rule engine and
    onnxruntime never use. Block it before the engine is imported, unless something already loaded torch or
    ``MEDPRIV_ALLOW_TORCH`` is set."""
    if "torch" not in sys.modules and not os.environ.get("MEDPRIV_ALLOW_TORCH"):
        for name in ("torch", "tensorflow", "transformers"):
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]


@dataclass
class DeidRequest:
    """What to de-identify and how. ``None`` means "the user's default" (Preferences: ``deid_operator``,
    ``deid_threshold``); ``csv`` None decides by the ``.csv`` suffix; ``text_column`` None guesses it from the
    header (:func:`~medpriv_desktop.core.text.reading.guess_text_columns`); ``max_bytes`` None is the reader's one
    limit."""

    input: Path
    output: Path
    operator: str | None = None
    threshold: float | None = None
    keep_year: bool = False
    csv: bool | None = None
    text_column: str | None = None
    id_column: str | None = None
    patient_id: str | None = None
    one_patient: bool = False
    encoding: str | None = None
    max_bytes: int | None = None
    restart: bool = False
    use_model: bool = True
    model_id: str | None = None

    def operator_options(self, ctx: Context) -> Any:
        """The operator (name and year rule) this request means under ``ctx``'s settings."""
        from medpriv_desktop.core.notes.operators import OperatorOptions

        return OperatorOptions(self.operator or ctx.settings.deid_operator, keep_year=self.keep_year)

    def is_csv(self) -> bool:
        """True for a table input (a CSV file), False for a folder of ``.txt`` notes."""
        return self.csv if self.csv is not None else Path(self.input).suffix.lower() == ".csv"


def deid_engine_config(ctx: Context, *, use_model: bool = True, model_id: str | None = None,
                       threshold: float | None = None) -> Any:
    """The engine configuration of ``ctx``: threshold (default: Preferences), the site folder setting and threads."""
    from medpriv_desktop.core.notes.engine import EngineConfig

    return EngineConfig(threshold=ctx.settings.deid_threshold if threshold is None else threshold,
                        use_model=use_model, model_id=model_id, site_models_dir=ctx.settings.site_models_dir,
                        threads=ctx.sessions.threads)


def deid_engine_factory(ctx: Context, config: Any = None) -> EngineFactory:
    """A factory for the de-identification engine on ``ctx``'s registry (built lazily: Presidio is heavy)."""
    config = config or deid_engine_config(ctx)

    def build() -> Any:
        keep_torch_out()
        from medpriv_desktop.core.notes.engine import DeidEngine

        return DeidEngine(config, models=ctx.registry)

    return build


def detector_identity(engine: Any) -> dict[str, Any]:
    """What identifies a detector for resuming a run (PHI model id, version or manifest, threshold, site
    recognizers): two runs with different identities must not share outputs."""
    from medpriv_desktop.core.notes.batch import _detector_ref

    return _detector_ref(engine)


def detector_audit_fields(engine: Any) -> dict[str, Any]:
    """The detector's fields of a ``notes.deid`` audit entry (PHI model identity, site recognizers hash)."""
    from medpriv_desktop.core.notes.batch import _detector_fields

    return _detector_fields(engine)


def dates_option(options: Any) -> dict[str, Any]:
    """The year rule of an ``OperatorOptions`` as it affects outputs (part of a run's resume options)."""
    from medpriv_desktop.core.notes.batch import _dates_option

    return _dates_option(options)


def deidentify_notes(ctx: Context, request: DeidRequest, *, engine_factory: EngineFactory | None = None) -> Job[Any]:
    """De-identify a folder of ``.txt`` notes or one column of a CSV (resumable), then record ``notes.deid``.

    Returns the engine's ``DeidSummary`` (counts only). ``engine_factory`` replaces the default engine (tests, a
    window that keeps one engine for every job); the default is :func:`deid_engine_factory` with the request's
    model choice and threshold.
    """
    from medpriv_desktop.core.notes.batch import deidentify_csv, deidentify_folder

    options = request.operator_options(ctx)  # a bad operator or year rule fails before any output
    factory = engine_factory or deid_engine_factory(ctx, deid_engine_config(
        ctx, use_model=request.use_model, model_id=request.model_id, threshold=request.threshold))
    ctx.audit.preflight()  # a damaged audit log stops the run before any output is written
    source = Path(request.input)
    if request.is_csv():
        if request.patient_id:
            raise InputError("--patient-id is for a folder of notes",
                             hint="in CSV mode name the patient column with --id-column")
        if not source.is_file():
            raise InputError("CSV file does not exist", path=source)
        column = request.text_column or next(iter(ctx.reader.guess_text_columns(ctx.reader.csv_header(
            source, request.encoding))), None)
        if not column:
            raise InputError("CSV has no header", path=source)
        request.text_column = column  # the caller lists the rows of the column that was used
        job = deidentify_csv(source, Path(request.output), factory, column, request.id_column, options,
                             request.encoding, restart=request.restart, one_patient=request.one_patient)
    else:
        if request.text_column or request.id_column:
            raise InputError("--text-column/--id-column need --csv")
        job = deidentify_folder(source, Path(request.output), factory, options, request.patient_id,
                                request.encoding, request.max_bytes or ctx.reader.max_bytes,
                                restart=request.restart, one_patient=request.one_patient)
    summary = yield from job
    actions.record(ctx.audit, actions.NOTES_DEID, **summary.as_audit_fields())
    return summary


def record_reviewed_note(ctx: Context, operator: str, model_fields: dict[str, Any], tag_counts: dict[str, int],
                         status_counts: dict[str, int], patient_source: str = "per-note") -> dict[str, Any]:
    """Record ``notes.deid`` for one note a person reviewed and saved: the fields a batch writes for one note (one
    patient) plus the reviewer's decisions (counts only). Returns the entry."""
    from collections import Counter

    from medpriv_desktop.core.notes.batch import DeidSummary

    fields = dict(model_fields or {})
    summary = DeidSummary(operator, fields.get("model_id"), done=1, counts=Counter(tag_counts), model_fields=fields,
                          patient_source=patient_source, patients=1)
    return actions.record(ctx.audit, actions.NOTES_DEID, **{
        **summary.as_audit_fields(),
        "reviewed": {"accepted": status_counts.get("accepted", 0), "rejected": status_counts.get("rejected", 0),
                     "added": status_counts.get("manual", 0), "unreviewed": status_counts.get("detected", 0)}})


@dataclass
class SynthRequest:
    """What to synthesize: a ``.txt`` note or a folder of them into ``output``; ``engine`` is ``template`` or a
    ``causal-lm`` bundle id in the Context's registry."""

    input: Path
    output: Path
    method: str = "keyword"
    engine: str = "template"
    source_mode: str = "tagged"
    seed: int = 0
    max_keywords: int = 20
    max_new_tokens: int = 200
    note_type: str | None = None
    top_k: int = 1
    restart: bool = False

    def check(self) -> None:
        """Refuse a bad method, source mode or input before anything loads (one :class:`InputError`)."""
        from medpriv_desktop.core.notes.synth import batch

        batch.SynthSettings(self.method, self.engine, self.source_mode)
        batch.list_notes(Path(self.input))


def synthesize_notes(ctx: Context, request: SynthRequest, *, detector_factory: EngineFactory | None = None,
                     engine: Any = None) -> Job[Any]:
    """Generate one synthetic note per input note (resumable), then record ``notes.synth``.

    The generation engine comes from ``ctx``'s registry (``engine`` replaces it); the PHI detector that tags the
    sources is the de-identification engine of ``ctx`` (``detector_factory`` replaces it). Returns the batch's
    ``SynthSummary`` (counts only).
    """
    from medpriv_desktop.core.notes.synth import batch
    from medpriv_desktop.core.notes.synth.engines import get_engine

    request.check()  # a bad input fails before the de-identifier loads
    settings = batch.SynthSettings(request.method, request.engine, request.source_mode, request.seed,
                                   request.max_keywords, request.max_new_tokens, request.note_type)
    ctx.audit.preflight()
    if engine is None:
        opts = {} if request.engine == "template" else {"top_k": request.top_k, "threads": ctx.sessions.threads}
        engine = get_engine(request.engine, ctx.registry, **opts)
    detector = (detector_factory or deid_engine_factory(ctx))()
    summary = yield from batch.synthesize_notes(Path(request.input), Path(request.output), engine, detector,
                                                settings, restart=request.restart)
    actions.record(ctx.audit, actions.NOTES_SYNTH, method=request.method, engine=request.engine,
                   n_written=summary.written, n_resumed=summary.skipped_done, n_failed=len(summary.failed),
                   counts={k: int(v) for k, v in summary.counts.items()})
    return summary
