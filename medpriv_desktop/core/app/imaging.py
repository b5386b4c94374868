"""Segmentation use cases: ``segment_study`` and ``compare_student_teacher``.

Written once here, driven alike by ``medpriv segment``, the Imaging workspace, ``smoke.py`` and a batch runner
(``scaleout/segment_job.py``): the study is read once (the body-region check and the segmentation share it), the
model comes from the Context's registry, its ONNX session from the Context's thread policy
(``ctx.sessions.threads``: Preferences, ``MEDPRIV_ORT_THREADS``, or the request's explicit ``threads``), and one
audit entry records counts only (model identity, structures, voxels, QC counts, modality; no path, no name).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medpriv_desktop.core.app import actions
from medpriv_desktop.core.app.context import Context
from medpriv_desktop.core.app.study import lower_worker_priority, study_stem
from medpriv_desktop.core.errors import InputError, ModelError
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry

log = logging.getLogger(__name__)


@dataclass
class SegmentOptions:
    """What to compute and write besides the label map (``output`` of the request None: nothing is written)."""

    series_uid: str | None = None
    modality: str | None = None
    #: Explicit thread count (``--threads``); None: the Context's session factory decides.
    threads: int | None = None
    overlap: float | None = None
    tta: bool = False
    stats: bool = False
    qc: bool = False
    second_opinion: str = "auto"
    formats: tuple[str, ...] = ("nii.gz", "nrrd")
    dicom_seg: bool = True
    #: De-identified exports (``--deidentify``): SEG headers through ``core/dicom_deid``, pseudonymous file names.
    deidentify: bool = False
    deid_profile: str = "retain-dates-shifted"
    #: Refuse a study whose body region does not fit the card before the model runs (``--force`` turns it off;
    #: the window asks the user first and passes False).
    check_fit: bool = True


@dataclass
class StudyResult:
    """Everything one segmentation produced: the study, the engine's result, statistics, QC, files written."""

    entry: ModelEntry
    volume: Volume
    segmentation: Any  # core.imaging.inference.SegmentationResult
    stats: list = field(default_factory=list)
    qc: Any = None  # core.imaging.qc.QCReport
    outputs: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0  # read to QC, as the window shows it

    def audit_fields(self) -> dict[str, Any]:
        """The fields of the ``imaging.segment`` entry: counts only."""
        return {**self.entry.audit_fields(), "structures": len(self.segmentation.labelmap.present_values()),
                "voxels": int(self.volume.array.size), "qc": self.qc.counts() if self.qc is not None else None,
                "kind": self.volume.modality}


def passed_over_students(registry: ModelRegistry, entry: ModelEntry | None) -> list[ModelEntry]:
    """Students of ``entry``'s family that the default passed over because their card shows them losing more than
    10% of the teacher's Dice (:attr:`ModelCard.preferred_student`): the command and the window say why they
    chose the teacher."""
    if entry is None or entry.card.role != "teacher" or not entry.card.family:
        return []
    return [e for e in registry.entries("segmentation")
            if e.card.family == entry.card.family and e.card.role == "student" and not e.card.preferred_student]


def dice_ratio_text(student: ModelEntry) -> str:
    """Why a student was passed over, from its card: "0.897 of this model's Dice, below 0.9"."""
    from medpriv_desktop.core.models.card import MIN_STUDENT_DICE_RATIO

    return (f"{student.card.metrics.get('dice_ratio_to_teacher'):.3f} of this model's Dice, "
            f"below {MIN_STUDENT_DICE_RATIO}")


def segmentation_model(ctx: Context, model_id: str | None = None, *, fast: bool = False) -> ModelEntry:
    """The registry entry to segment with: ``model_id``, else the ``default_segmentation_model`` setting, else the
    registry's default (a student first); ``fast`` swaps a teacher for its family's student when one is installed.
    Raises :class:`ModelError` when there is none or the model does not segment."""
    reg = ctx.registry
    wanted = model_id or ctx.settings.default_segmentation_model
    if wanted:
        entry = reg.get(wanted)
    else:
        entry = reg.default_for("segmentation", prefer_role="student")
        if entry is None:
            raise ModelError("no segmentation model is installed", hint="import one with 'medpriv models import'")
    if entry.card.task.value != "segmentation":
        raise ModelError(f"model '{entry.card.id}' is a {entry.card.task.value} model, not a segmentation model")
    if fast and entry.card.role != "student" and entry.card.family:
        for e in reg.entries("segmentation"):
            if e.card.family == entry.card.family and e.card.role == "student":
                return e
    return entry


def default_model(entries: list[ModelEntry], preferred_id: str | None = None, modality: str | None = None
                  ) -> ModelEntry | None:
    """The model a picker starts on: the preferred id, else by the cards' ``default_rank``; modality first."""
    if not entries:
        return None
    pool = [e for e in entries if modality is None or modality in e.card.modalities] or list(entries)
    for e in pool:
        if preferred_id and e.card.id == preferred_id:
            return e
    # A student is the fast default only while its card shows it kept its teacher's accuracy.
    return sorted(pool, key=lambda e: (e.card.default_rank, e.card.id))[0]


def check_fit(volume: Volume, entry: ModelEntry, path: Path | None = None) -> None:
    """Refuse a study whose body region does not fit ``entry``'s card (``core/imaging/study_fit.py``).

    A modality the card lacks is refused by the engine itself, whether or not this check runs.
    """
    from medpriv_desktop.core.imaging.study_fit import check_study

    fit = check_study(volume, entry.card)
    if fit.region_problem:
        raise InputError(f"study does not fit the model: {fit.region_problem}", path=path,
                         hint="choose a model made for this study, or add --force to segment it anyway")


def segment_study(ctx: Context, study: Path | Volume, entry: ModelEntry | None = None, *,
                  output: Path | None = None, options: SegmentOptions | None = None, model_id: str | None = None,
                  record: bool = True) -> Job[StudyResult]:
    """Segment one study: read it once (``study`` a file or DICOM folder; a :class:`Volume` already open is used
    as it is), check its body region (``options.check_fit``), segment, compute statistics and QC as asked, write
    every output atomically into ``output`` (None: nothing written) and record ``imaging.segment``.

    ``entry`` None: :func:`segmentation_model` with ``model_id``. ``record`` False leaves the entry to a caller
    that records its own (:func:`compare_student_teacher`).
    """
    from medpriv_desktop.core.imaging.inference import segment_volume
    from medpriv_desktop.core.imaging.qc import run_qc
    from medpriv_desktop.core.imaging.stats import structure_stats

    opt = options or SegmentOptions()
    if output is not None and Path(output).exists() and not Path(output).is_dir():
        raise InputError("output path exists and is not a folder", path=output)
    ctx.audit.preflight()  # a damaged audit log stops the job before it starts, not after it finished
    entry = entry or segmentation_model(ctx, model_id)
    threads = opt.threads or ctx.sessions.threads
    lower_worker_priority()
    t0 = t = time.perf_counter()
    timings: dict[str, float] = {}
    if isinstance(study, Volume):
        volume = study
    else:
        from medpriv_desktop.core.app.study import load_study_job

        volume = yield from scaled(load_study_job(Path(study), opt.series_uid, opt.modality), 0.0, 0.02, "")
        timings["read"] = time.perf_counter() - t
    if opt.check_fit:
        check_fit(volume, entry, None if isinstance(study, Volume) else Path(study))
    warnings = list(volume.meta.get("warnings", []))
    # With a second opinion (teacher or flipped re-run) QC costs about as much again as the segmentation.
    seg_end = (0.45 if opt.second_opinion != "none" else 0.8) if opt.qc else 0.85
    seg = yield from scaled(segment_volume(volume, entry, ctx.registry, threads=threads, overlap=opt.overlap,
                                           tta=opt.tta), 0.02, seg_end)
    for k in ("load_model", "preprocess", "inference", "resample", "postprocess"):
        timings[k] = seg.timings.get(k, 0.0)
    # Warnings of the segmentation itself (e.g. test-time flips the card does not allow) reach the caller too.
    warnings += [w for w in seg.warnings if w not in warnings]
    result = StudyResult(entry, volume, seg, timings=timings, warnings=warnings)
    if opt.stats or opt.qc:
        t = time.perf_counter()
        yield Progress(seg_end + 0.01, "statistics")
        result.stats = structure_stats(seg.labelmap, volume)
        timings["stats"] = time.perf_counter() - t
    if opt.qc:
        t = time.perf_counter()
        result.qc = yield from scaled(run_qc(volume, seg, entry, ctx.registry, result.stats,
                                             second_opinion=opt.second_opinion, threads=threads),
                                      seg_end + 0.02, 0.88, "")
        timings["qc"] = time.perf_counter() - t
    result.seconds = time.perf_counter() - t0
    if output is not None:
        yield Progress(0.9, "writing outputs")
        _write_outputs(result, Path(study) if not isinstance(study, Volume) else None, Path(output), opt)
    if record:
        actions.record(ctx.audit, actions.IMAGING_SEGMENT, **result.audit_fields())
    yield Progress(1.0, "done")
    return result


def _write_outputs(result: StudyResult, source: Path | None, outdir: Path, opt: SegmentOptions) -> None:
    """Label maps, DICOM SEG, statistics, QC and ``summary.json``, each written atomically into ``outdir``."""
    from medpriv_desktop.core.fileio import atomic_write_text
    from medpriv_desktop.core.imaging.export import export_dicom_seg, export_labelmap
    from medpriv_desktop.core.imaging.stats import write_stats

    t = time.perf_counter()
    entry, volume, seg = result.entry, result.volume, result.segmentation
    stem, deid = study_stem(source) if source is not None else "study", None
    if opt.deidentify:
        from medpriv_desktop.core.dicom_deid.exports import ExportDeidentifier
        from medpriv_desktop.core.dicom_deid.profile import Profile

        deid = ExportDeidentifier.for_volume(volume.meta, source, Profile.named(opt.deid_profile))
        stem = deid.stem
    result.outputs += export_labelmap(seg.labelmap, outdir, f"{stem}_seg", opt.formats)
    if opt.dicom_seg and volume.meta.get("source_format") == "dicom":
        try:
            result.outputs.append(export_dicom_seg(seg.labelmap, entry.card, outdir / f"{stem}_seg.dcm",
                                                   deidentify=deid))
        except InputError as exc:
            # The label map files are written already; a SEG that cannot be made is a warning, not a failure.
            result.warnings.append(f"DICOM SEG not written: {exc.reason}")
    if opt.stats:
        write_stats(result.stats, outdir / "stats.csv", outdir / "stats.json",
                    {"model_id": entry.card.id, "model_version": entry.card.version})
        result.outputs += [outdir / "stats.csv", outdir / "stats.json"]
    if result.qc is not None:
        result.qc.write(outdir / "qc.json")
        result.outputs.append(outdir / "qc.json")
    result.timings["export"] = time.perf_counter() - t
    summary = {
        "model_id": entry.card.id, "model_version": entry.card.version, "input_shape": list(volume.shape),
        "input_spacing_mm": list(volume.spacing), "input_orientation": volume.orientation_codes(),
        "modality": volume.modality, "threads": seg.threads, "tiles": seg.n_tiles, "tta_passes": seg.flips,
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()}, "warnings": result.warnings,
        "structures_found": len(seg.labelmap.present_values()),
        "qc": result.qc.counts() if result.qc else None, "outputs": [p.name for p in result.outputs],
        "deidentified": opt.deidentify,
    }
    atomic_write_text(outdir / "summary.json", json.dumps(summary, indent=2) + "\n")
    result.outputs.append(outdir / "summary.json")


@dataclass
class CompareRun:
    """Student and teacher on one study: both runs, Dice per structure."""

    student: StudyResult
    teacher: StudyResult
    dice: dict[str, float]

    @property
    def mean_dice(self) -> float | None:
        """Mean Dice over the structures both found."""
        return float(np.mean(list(self.dice.values()))) if self.dice else None


def compare_student_teacher(ctx: Context, volume: Volume, student: ModelEntry, teacher: ModelEntry, *,
                            options: SegmentOptions | None = None) -> Job[CompareRun]:
    """Segment ``volume`` with the student and its teacher (statistics and QC, as the window shows them), measure
    their agreement (Dice per structure both found) and record one ``imaging.compare`` entry: the student's
    identity, the teacher's bundle manifest, structures compared, mean Dice, voxels, modality."""
    from medpriv_desktop.core.imaging.qc import dice_by_name

    opt = options or SegmentOptions(stats=True, qc=True, second_opinion="none", check_fit=False)
    a = yield from scaled(segment_study(ctx, volume, student, options=opt, record=False), 0.0, 0.3, "student: ")
    b = yield from scaled(segment_study(ctx, volume, teacher, options=opt, record=False), 0.3, 0.98, "teacher: ")
    la, lb = a.segmentation.labelmap, b.segmentation.labelmap
    dice = dice_by_name(la, la.labels, lb, lb.labels)
    run = CompareRun(a, b, dice)
    # the teacher by id and version for people, by its bundle manifest exactly
    actions.record(ctx.audit, actions.IMAGING_COMPARE, **student.audit_fields(),
                   teacher_model_id=teacher.card.id, teacher_model_version=teacher.card.version,
                   teacher_manifest_hash=teacher.audit_fields()["model_manifest"],
                   structures=len(dice), mean_dice=None if run.mean_dice is None else round(run.mean_dice, 4),
                   voxels=int(volume.array.size), kind=volume.modality)
    yield Progress(1.0, "compared")
    return run
