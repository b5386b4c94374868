"""The Imaging workspace's long operations as core-style jobs (generators yielding Progress; no Qt).

Handlers in the widgets call these through the window's JobRunner, so reading a study, segmenting, comparing two
models and writing exports all run off the GUI thread with progress and Cancel. Each is a thin composition of the
imaging engine's public functions (``read_volume``, ``segment_volume``, ``structure_stats``, ``run_qc``, exports).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.volume import LabelMap, Volume
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry

log = logging.getLogger(__name__)


def resolve_study_path(path: Path) -> Path:
    """A DICOMDIR stands for the folder it indexes (its series are read from the files beside it)."""
    path = Path(path)
    return path.parent if path.is_file() and path.name.upper() == "DICOMDIR" else path


def study_stem(path: Path) -> str:
    """Base name for exports of a study file or folder (``ct.nii.gz`` -> ``ct``)."""
    name = Path(path).name
    for suf in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"):
        if name.lower().endswith(suf):
            return name[: -len(suf)] or "study"
    return name or "study"


def load_study_job(path: Path, series_uid: str | None = None) -> Job[Volume]:
    """Read a study file or DICOM folder (``MultipleSeriesError`` when the caller must pick a series).

    Uses the engine's ``read_volume_job`` (progress per few DICOM slices, cancellable) when it is available.
    """
    from medpriv_desktop.core.imaging import io

    target = resolve_study_path(path)
    yield Progress(None, f"reading {Path(path).name}")
    if hasattr(io, "read_volume_job"):
        volume = yield from io.read_volume_job(target, series_uid=series_uid)
    else:
        volume = io.read_volume(target, series_uid=series_uid)
    yield Progress(1.0, "done")
    return volume


def _is_dicom_seg(path: Path) -> bool:
    if not path.is_file():
        return False
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        return False
    return str(getattr(ds, "Modality", "")) == "SEG"


def _labels_sidecar(path: Path) -> tuple[dict[int, str], dict[int, tuple[int, int, int]]]:
    """Names and colours from ``<stem>_labels.json`` beside a label map (as the exports write it)."""
    name = path.name
    for suf in (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd"):
        if name.lower().endswith(suf):
            name = name[: -len(suf)]
            break
    side = path.with_name(f"{name}_labels.json")
    if not side.is_file():
        return {}, {}
    try:
        table = json.loads(side.read_text(encoding="utf-8"))
        names = {int(k): str(v["name"]) for k, v in table.items()}
        colors = {int(k): tuple(v["color"]) for k, v in table.items() if len(v.get("color") or ()) == 3}
        return names, colors  # type: ignore[return-value]
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}, {}


def _class_map(folder: Path, modality: str) -> dict[int, str]:
    """Names from a TotalSegmentator-style ``class_map.json`` beside the label map (``total`` / ``total_mr``)."""
    f = folder / "class_map.json"
    if not f.is_file():
        return {}
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
            key = "total_mr" if modality == "MR" and "total_mr" in data else ("total" if "total" in data
                                                                             else next(iter(data)))
            data = data[key]
        return {int(k): str(v) for k, v in data.items()}
    except (ValueError, TypeError, AttributeError, StopIteration):
        return {}


def read_dicom_seg_onto(path: Path, volume: Volume) -> LabelMap:
    """A DICOM SEG that references ``volume``'s DICOM series, as a label map on the study's grid."""
    import highdicom as hd
    import pydicom

    files = volume.meta.get("dicom_files")
    if volume.meta.get("source_format") != "dicom" or not files:
        raise InputError("a DICOM SEG can only be shown on the DICOM series it was made from", path=path)
    try:
        seg = hd.seg.segread(str(path))
    except Exception:
        raise InputError("DICOM SEG is damaged or not supported", path=path) from None
    uids = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files]
    numbers = [int(d.SegmentNumber) for d in seg.SegmentSequence]
    try:
        frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=numbers,
                                                   combine_segments=True, relabel=False,
                                                   ignore_spatial_locations=True, assert_missing_frames_are_empty=True)
    except Exception:
        raise InputError("the DICOM SEG does not reference this study's images", path=path,
                         hint="open the DICOM series the SEG was made from first") from None
    arr = np.ascontiguousarray(np.transpose(np.asarray(frames), (2, 1, 0))).astype(np.uint16)
    if arr.shape != volume.shape:
        raise InputError("the DICOM SEG's frames do not match the study's grid", path=path)
    names = {int(d.SegmentNumber): str(d.SegmentLabel) for d in seg.SegmentSequence}
    return LabelMap.like(volume, arr, names)


def load_segmentation_job(path: Path, volume: Volume) -> Job[LabelMap]:
    """Read a label map file (NIfTI, NRRD, MHA) or a DICOM SEG onto the open study."""
    from medpriv_desktop.core.imaging.io import read_labelmap

    path = Path(path)
    yield Progress(None, f"reading {path.name}")
    if _is_dicom_seg(path):
        return read_dicom_seg_onto(path, volume)
    names, colors = _labels_sidecar(path)
    if not names:
        names = _class_map(path.parent, volume.modality)
    lm = read_labelmap(path, names)
    # Files of one study often store their voxels in different axis orders (a DICOM series in LPS, its label map
    # written by nibabel in LAS): bring the label map into the study's order before comparing grids.
    try:
        lm = lm.reoriented(volume.orientation_codes())
    except ValueError:
        pass
    if lm.shape != volume.shape:
        raise InputError(f"label map grid {' x '.join(map(str, lm.shape))} does not match the study's "
                         f"{' x '.join(map(str, volume.shape))}", path=path,
                         hint="open the label map made for this study")
    warnings = []
    if not np.allclose(lm.affine, volume.affine, atol=1.0):
        warnings.append("the label map's position in space differs from the study's by more than 1 mm; "
                        "it is shown voxel by voxel")
    out = LabelMap.like(volume, lm.array, lm.labels or {}, colors)
    out.meta["warnings"] = warnings
    yield Progress(1.0, "done")
    return out


def load_segmentation_with_stats_job(path: Path, volume: Volume) -> Job[tuple[LabelMap, list]]:
    """:func:`load_segmentation_job` plus the statistics of every structure (computed off the GUI thread)."""
    from medpriv_desktop.core.imaging.stats import structure_stats

    lm = yield from scaled(load_segmentation_job(path, volume), 0.0, 0.7)
    yield Progress(0.7, "statistics")
    return lm, structure_stats(lm, volume)


_worker_state = threading.local()


def lower_worker_priority(step: int | None = None) -> bool:
    """Make the calling worker thread nicer than the GUI thread (Linux: per-thread nice); True when changed.

    Inference runs on the worker thread itself (and ONNX Runtime's pool threads inherit its niceness), so when the
    CPU is busy the scheduler still gives the GUI thread its turn. The main thread is never touched. ``step``
    defaults to ``MEDPRIV_WORKER_NICE`` or 10 (0 turns it off; the GUI benchmark compares both).
    """
    import os

    if step is None:
        env = os.environ.get("MEDPRIV_WORKER_NICE", "")
        step = int(env) if env.isdigit() else 10
    if step <= 0:
        return False
    if threading.current_thread() is threading.main_thread() or not hasattr(os, "setpriority"):
        return False
    if getattr(_worker_state, "niced", False):
        return False  # once per thread: a comparison runs two segmentations on the same worker
    try:
        tid = threading.get_native_id()
        cur = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, cur + step))
        _worker_state.niced = True
        return True
    except (OSError, AttributeError):
        return False


@dataclass
class SegmentationRun:
    """A finished segmentation with what the workspace shows next to it."""

    entry: ModelEntry
    result: object  # core.imaging.inference.SegmentationResult
    stats: list = field(default_factory=list)
    qc: object | None = None
    seconds: float = 0.0


def segment_job(volume: Volume, entry: ModelEntry, registry: ModelRegistry, threads: int | None = None,
                second_opinion: str = "none", tta: bool = False) -> Job[SegmentationRun]:
    """Segment, then statistics and QC (plausibility and uncertainty; a second opinion only when asked)."""
    from medpriv_desktop.core.imaging.inference import segment_volume
    from medpriv_desktop.core.imaging.qc import run_qc
    from medpriv_desktop.core.imaging.stats import structure_stats

    from medpriv_desktop.core.audit import AuditLog

    AuditLog().preflight()  # a damaged audit log stops the job before it starts, not after it finished
    lower_worker_priority()
    t0 = time.perf_counter()
    # With a second opinion (teacher or flipped re-run) QC costs about as much again as the segmentation.
    end = 0.88 if second_opinion == "none" else 0.45
    seg = yield from scaled(segment_volume(volume, entry, registry, threads=threads, tta=tta), 0.0, end)
    seconds = time.perf_counter() - t0
    yield Progress(end + 0.02, "statistics")
    stats = structure_stats(seg.labelmap, volume)
    qc = yield from scaled(run_qc(volume, seg, entry, registry, stats, second_opinion=second_opinion,
                                  threads=threads), end + 0.04, 1.0, "")
    _audit(entry, volume, seg.labelmap)
    return SegmentationRun(entry, seg, stats, qc, seconds)


@dataclass
class CompareRun:
    """Student and teacher on one study: both runs, Dice per structure and run times."""

    student: SegmentationRun
    teacher: SegmentationRun
    dice: dict[str, float]

    @property
    def mean_dice(self) -> float | None:
        """Mean Dice over the structures both found."""
        return float(np.mean(list(self.dice.values()))) if self.dice else None


def compare_job(volume: Volume, student: ModelEntry, teacher: ModelEntry, registry: ModelRegistry,
                threads: int | None = None) -> Job[CompareRun]:
    """Run the student and the teacher and measure their agreement."""
    from medpriv_desktop.core.imaging.qc import dice_by_name

    a = yield from scaled(segment_job(volume, student, registry, threads), 0.0, 0.3, "student: ")
    b = yield from scaled(segment_job(volume, teacher, registry, threads), 0.3, 0.98, "teacher: ")
    la, lb = a.result.labelmap, b.result.labelmap
    dice = dice_by_name(la, la.labels, lb, lb.labels)
    yield Progress(1.0, "compared")
    return CompareRun(a, b, dice)


def _audit(entry: ModelEntry, volume: Volume, labelmap: LabelMap) -> None:
    """Counts only: model, structures, voxels, modality."""
    try:
        from medpriv_desktop.core.audit import AuditLog

        AuditLog().record("imaging.segment", **entry.audit_fields(),
                          structures=len(labelmap.present_values()), voxels=int(volume.array.size),
                          kind=volume.modality)
    except Exception:  # auditing must never fail a finished segmentation
        log.exception("audit record failed")


def default_model(entries: list[ModelEntry], preferred_id: str | None = None, modality: str | None = None
                  ) -> ModelEntry | None:
    """The model the picker starts on: the preferred id, else a trusted student, else any; modality first."""
    if not entries:
        return None
    pool = [e for e in entries if modality is None or modality in e.card.modalities] or list(entries)
    for e in pool:
        if preferred_id and e.card.id == preferred_id:
            return e
    # A student is the fast default only while its card shows it kept its teacher's accuracy.
    return sorted(pool, key=lambda e: (e.card.default_rank, e.card.id))[0]


# -- exports -----------------------------------------------------------------------------------------------------

def export_labelmap_job(labelmap: LabelMap, path: Path) -> Job[list[Path]]:
    """Write the label map to ``path`` (format from its extension) plus ``<stem>_labels.json``."""
    from medpriv_desktop.core.imaging.export import LABELMAP_FORMATS, export_labelmap

    path = Path(path)
    name = path.name
    fmt = next((f for f, ext in LABELMAP_FORMATS.items() if name.lower().endswith(ext)), None)
    if fmt is None:
        raise InputError("choose a .nii.gz, .nii, .nrrd or .mha file name", path=path)
    stem = name[: -len(LABELMAP_FORMATS[fmt])]
    yield Progress(None, "writing the label map")
    return export_labelmap(labelmap, path.parent, stem, (fmt,))


def export_dicom_seg_job(labelmap: LabelMap, card, path: Path) -> Job[Path]:
    """Write a DICOM SEG referencing the study's DICOM series."""
    from medpriv_desktop.core.imaging.export import export_dicom_seg

    yield Progress(None, "writing the DICOM SEG")
    return export_dicom_seg(labelmap, card, Path(path))


def statistics_job(labelmap: LabelMap, volume: Volume) -> Job[list]:
    """Statistics of every structure of ``labelmap`` on ``volume``."""
    from medpriv_desktop.core.imaging.stats import structure_stats

    yield Progress(None, "computing statistics")
    return structure_stats(labelmap, volume)


def export_stats_job(labelmap: LabelMap, volume: Volume, path: Path, meta: dict | None = None) -> Job[Path]:
    """Statistics of the current (possibly edited) labels as CSV (and JSON beside it)."""
    from medpriv_desktop.core.imaging.stats import structure_stats, write_stats

    yield Progress(None, "computing statistics")
    stats = structure_stats(labelmap, volume)
    path = Path(path)
    write_stats(stats, path, path.with_suffix(".json"), meta or {})
    return path


def export_meshes_job(labelmap: LabelMap, outdir: Path, scene_only: bool = False, fmt: str = "stl") -> Job[list[Path]]:
    """Surface meshes: one file per structure (``fmt``) plus ``scene.vtp``, or only the scene.

    VTK filters and writers run here, off the GUI thread; no rendering object is involved.
    """
    from medpriv_desktop.render.meshes import export_meshes

    yield Progress(None, "meshing structures")
    outdir = Path(outdir)
    if not scene_only:
        return export_meshes(labelmap, outdir, (fmt,))
    written = export_meshes(labelmap, outdir, ())
    return written
