"""The application layer: each use case written once, as a job, for every front end.

The CLI (``commands/``), the window (``gui/``) and a batch runner (``scaleout/``, a hospital's own scripts) only
adapt: they collect input, build one :class:`Context` at their entry point, drive the job (``core/jobs.py``: a
generator that yields :class:`~medpriv_desktop.core.jobs.Progress` and returns its result) and show the result.
Each use case writes its own audit entry from the fixed vocabulary in :mod:`~medpriv_desktop.core.app.actions`.

Stable interface (a batch runner may rely on these signatures; additions are keyword-only with defaults):

``Context.build(settings=None, *, registry=None, audit_path=None) -> Context``
    settings (saved ones by default), THE model registry (site folder and allow-list by the machine-wide rule of
    ``core/models/site.py``), the ONNX session factory (``ctx.sessions.threads`` from Preferences or
    ``MEDPRIV_ORT_THREADS``), the text reader (``ctx.reader``), the audit log (``ctx.audit``, opened on first use).
``deidentify_notes(ctx, DeidRequest(input, output, ...), *, engine_factory=None) -> Job[DeidSummary]``
    a folder of ``.txt`` notes or a CSV column; operator and threshold default to Preferences; records
    ``notes.deid``. ``record_reviewed_note(ctx, ...)`` records one note a person reviewed in the window.
``deid_engine_factory(ctx, config=None) -> () -> DeidEngine``, ``deid_engine_config(ctx, *, use_model=True,
model_id=None, threshold=None) -> EngineConfig``, ``keep_torch_out()``
    the de-identification engine on the Context's registry and threads (for per-partition work);
    ``detector_identity(engine)``, ``detector_audit_fields(engine)``, ``dates_option(options)`` give the resume
    identity, audit fields and year rule a partitioned run records, exactly as the desktop batch does.
``synthesize_notes(ctx, SynthRequest(input, output, ...), *, detector_factory=None, engine=None) -> Job[SynthSummary]``
    records ``notes.synth``.
``classify_reports(ctx, ClassifyRequest(input, output, ...), *, model=None, fields=None, reports=None)
-> Job[BatchSummary]``
    model from ``model_id``, else the ``default_report_model`` setting, else the registry default; records
    ``reports.classify``. ``resolve_model(ctx, request)`` gives ``(model, audit fields, name)`` and
    ``report_model_entry(ctx, model_id=None)`` the registry entry, for per-partition work.

Segmentation (``segment_study``, ``compare_student_teacher``) and ``import_model`` move here in a later step.
"""

from medpriv_desktop.core.app.actions import ACTIONS, LEGACY_ACTIONS, canonical_action
from medpriv_desktop.core.app.context import Context, SessionFactory, TextReader
from medpriv_desktop.core.app.notes import (DeidRequest, SynthRequest, dates_option, deid_engine_config,
                                            deid_engine_factory, deidentify_notes, detector_audit_fields,
                                            detector_identity, keep_torch_out, record_reviewed_note,
                                            synthesize_notes)
from medpriv_desktop.core.app.reports import (RULES, ClassifyRequest, classify_reports, load_report_model,
                                              report_model_entry, resolve_model)

__all__ = ["ACTIONS", "LEGACY_ACTIONS", "RULES", "ClassifyRequest", "Context", "DeidRequest", "SessionFactory",
           "SynthRequest", "TextReader", "canonical_action", "classify_reports", "dates_option", "deid_engine_config",
           "deid_engine_factory", "deidentify_notes", "detector_audit_fields", "detector_identity", "keep_torch_out",
           "load_report_model", "record_reviewed_note", "report_model_entry", "resolve_model", "synthesize_notes"]
