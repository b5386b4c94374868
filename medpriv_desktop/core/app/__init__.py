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

``segment_study(ctx, study, entry=None, *, output=None, options=None, model_id=None, record=True)
-> Job[StudyResult]``
    ``study`` a file, DICOM folder or DICOMDIR (read once) or an open ``Volume``; the model ``entry``, else
    ``segmentation_model(ctx, model_id, fast=False)`` (``default_segmentation_model``, else the registry's default);
    ``SegmentOptions`` says what to compute (statistics, QC, test-time flips, overlap, explicit threads) and write
    into ``output`` (label maps, DICOM SEG, statistics, ``qc.json``, ``summary.json``); records ``imaging.segment``
    with QC counts.
``compare_student_teacher(ctx, volume, student, teacher, *, options=None) -> Job[CompareRun]``
    both models on one study, Dice per structure; records ``imaging.compare``.
``import_model(ctx, bundle, *, overwrite=False, allow_shadow=False) -> Job[ModelEntry]``
    records ``models.import``.
``core.app.study``: the study jobs of the Imaging workspace and a headless caller (``load_study_job``,
``load_segmentation_job``: a label map or DICOM SEG onto the open study, ``statistics_job``, ``export_*_job``);
``core.app.imaging_state.ImagingState``: the evented model of an open study that the window observes.

The window's own Qt-free helpers live here too, so ``gui/`` holds only Qt: ``note_jobs`` (find PHI in one note,
the batch pane's job), ``note_operators``, ``note_review`` (a reviewed note's decisions), ``synth_jobs`` (one-note
synthesis, the assessment), ``report_jobs``, ``report_choice`` (which model suits a report), ``report_privacy``,
``output_paths`` (where the window proposes to write).
"""

from medpriv_desktop.core.app.actions import ACTIONS, LEGACY_ACTIONS, canonical_action
from medpriv_desktop.core.app.context import Context, SessionFactory, TextReader
from medpriv_desktop.core.app.imaging import (CompareRun, SegmentOptions, StudyResult, compare_student_teacher,
                                              default_model, dice_ratio_text, passed_over_students, segment_study,
                                              segmentation_model)
from medpriv_desktop.core.app.models import import_model
from medpriv_desktop.core.app.notes import (DeidRequest, SynthRequest, dates_option, deid_engine_config,
                                            deid_engine_factory, deidentify_notes, detector_audit_fields,
                                            detector_identity, keep_torch_out, record_reviewed_note,
                                            synthesize_notes)
from medpriv_desktop.core.app.reports import (RULES, ClassifyRequest, classify_reports, load_report_model,
                                              report_model_entry, resolve_model)

__all__ = ["ACTIONS", "LEGACY_ACTIONS", "RULES", "ClassifyRequest", "CompareRun", "Context", "DeidRequest",
           "SegmentOptions", "SessionFactory", "StudyResult", "SynthRequest", "TextReader", "canonical_action",
           "classify_reports", "compare_student_teacher", "dates_option", "default_model", "deid_engine_config",
           "deid_engine_factory", "deidentify_notes", "detector_audit_fields", "detector_identity", "dice_ratio_text",
           "import_model", "keep_torch_out", "load_report_model", "passed_over_students", "record_reviewed_note",
           "report_model_entry", "resolve_model", "segment_study", "segmentation_model", "synthesize_notes"]
