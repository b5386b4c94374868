"""The whole headless imaging workflow as one job: read -> segment -> statistics -> QC -> export.

Used by ``medpriv segment`` and by the GUI's Imaging workspace (which adds meshes through ``render``). Every output
is written atomically into ``outdir``; a cancelled run leaves only complete files. Timings per stage go into
``summary.json`` and the result.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.imaging.export import export_dicom_seg, export_labelmap
from medpriv_desktop.core.imaging.inference import SegmentationResult, segment_volume
from medpriv_desktop.core.imaging.io import read_volume_job
from medpriv_desktop.core.imaging.qc import QCReport, run_qc
from medpriv_desktop.core.imaging.stats import StructureStats, structure_stats, write_stats
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry

log = logging.getLogger(__name__)


@dataclass
class SegmentOptions:
    """What to compute and write besides the label map."""

    series_uid: str | None = None
    modality: str | None = None
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


@dataclass
class PipelineResult:
    """Everything the run produced."""

    volume: Volume
    segmentation: SegmentationResult
    stats: list[StructureStats] = field(default_factory=list)
    qc: QCReport | None = None
    outputs: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def output_stem(path: Path) -> str:
    """Base name of outputs for an input file or folder (``ct.nii.gz`` -> ``ct``)."""
    name = path.name
    for suf in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"):
        if name.lower().endswith(suf):
            return name[: -len(suf)] or "image"
    return name or "image"


def segment_file(path: Path, entry: ModelEntry, registry: ModelRegistry, outdir: Path,
                 options: SegmentOptions | None = None) -> Job[PipelineResult]:
    """Read ``path``, segment it with ``entry``, compute what ``options`` asks and write it all into ``outdir``."""
    opt = options or SegmentOptions()
    path, outdir = Path(path), Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError("output path exists and is not a folder", path=outdir)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    volume = yield from scaled(read_volume_job(path, series_uid=opt.series_uid, modality=opt.modality), 0.0, 0.02,
                               "")
    timings["read"] = time.perf_counter() - t
    warnings = list(volume.meta.get("warnings", []))
    seg_end = 0.55 if opt.qc else 0.85
    seg = yield from scaled(segment_volume(volume, entry, registry, threads=opt.threads, overlap=opt.overlap,
                                           tta=opt.tta), 0.02, seg_end)
    for k in ("load_model", "preprocess", "inference", "resample", "postprocess"):
        timings[k] = seg.timings.get(k, 0.0)
    # Warnings of the segmentation itself (e.g. test-time flips the card does not allow) reach the caller too.
    warnings += [w for w in seg.warnings if w not in warnings]
    result = PipelineResult(volume, seg, timings=timings, warnings=warnings)
    if opt.stats or opt.qc:
        t = time.perf_counter()
        yield Progress(seg_end, "statistics")
        result.stats = structure_stats(seg.labelmap, volume)
        timings["stats"] = time.perf_counter() - t
    if opt.qc:
        t = time.perf_counter()
        result.qc = yield from scaled(run_qc(volume, seg, entry, registry, result.stats,
                                             second_opinion=opt.second_opinion, threads=opt.threads), seg_end, 0.88)
        timings["qc"] = time.perf_counter() - t

    t = time.perf_counter()
    yield Progress(0.9, "writing outputs")
    stem, deid = output_stem(path), None
    if opt.deidentify:
        from medpriv_desktop.core.dicom_deid.exports import ExportDeidentifier
        from medpriv_desktop.core.dicom_deid.profile import Profile

        deid = ExportDeidentifier.for_volume(volume.meta, path, Profile.named(opt.deid_profile))
        stem = deid.stem
    result.outputs += export_labelmap(seg.labelmap, outdir, f"{stem}_seg", opt.formats)
    if opt.dicom_seg and volume.meta.get("source_format") == "dicom":
        try:
            result.outputs.append(export_dicom_seg(seg.labelmap, entry.card, outdir / f"{stem}_seg.dcm",
                                                   deidentify=deid))
        except InputError as exc:
            # The label map files are written already; a SEG that cannot be made is a warning, not a failure.
            warnings.append(f"DICOM SEG not written: {exc.reason}")
    if opt.stats:
        write_stats(result.stats, outdir / "stats.csv", outdir / "stats.json",
                    {"model_id": entry.card.id, "model_version": entry.card.version})
        result.outputs += [outdir / "stats.csv", outdir / "stats.json"]
    if result.qc is not None:
        result.qc.write(outdir / "qc.json")
        result.outputs.append(outdir / "qc.json")
    timings["export"] = time.perf_counter() - t
    summary = {
        "model_id": entry.card.id, "model_version": entry.card.version, "input_shape": list(volume.shape),
        "input_spacing_mm": list(volume.spacing), "input_orientation": volume.orientation_codes(),
        "modality": volume.modality, "threads": seg.threads, "tiles": seg.n_tiles, "tta_passes": seg.flips,
        "timings_s": {k: round(v, 4) for k, v in timings.items()}, "warnings": warnings,
        "structures_found": len(seg.labelmap.present_values()),
        "qc": result.qc.counts() if result.qc else None, "outputs": [p.name for p in result.outputs],
        "deidentified": opt.deidentify,
    }
    atomic_write_text(outdir / "summary.json", json.dumps(summary, indent=2) + "\n")
    result.outputs.append(outdir / "summary.json")
    _audit(entry, volume, seg, result)
    yield Progress(1.0, "done")
    return result


def _audit(entry: ModelEntry, volume: Volume, seg: SegmentationResult, result: PipelineResult) -> None:
    """One audit entry with counts only (no paths, no names)."""
    try:
        from medpriv_desktop.core.audit import AuditLog

        AuditLog().record("imaging.segment", **entry.audit_fields(),
                          structures=len(seg.labelmap.present_values()), voxels=int(volume.array.size),
                          qc=result.qc.counts() if result.qc else None, kind=volume.modality)
    except Exception:  # the audit log must never make a finished segmentation fail
        log.exception("audit record failed")
