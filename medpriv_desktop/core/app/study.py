"""The Imaging workspace's study jobs, without Qt: open a study, read a saved segmentation onto it, statistics,
exports. Generators yielding :class:`~medpriv_desktop.core.jobs.Progress`, so the window runs them off its GUI thread
with progress and Cancel, and a headless caller drives them with ``run_job``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.volume import LabelMap, Volume
from medpriv_desktop.core.jobs import Job, Progress, scaled

_STUDY_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm")


def resolve_study_path(path: Path) -> Path:
    """A DICOMDIR stands for the folder it indexes (its series are read from the files beside it)."""
    path = Path(path)
    return path.parent if path.is_file() and path.name.upper() == "DICOMDIR" else path


def study_stem(path: Path) -> str:
    """Base name for the outputs of a study file or folder (``ct.nii.gz`` -> ``ct``)."""
    name = Path(path).name
    for suf in _STUDY_SUFFIXES:
        if name.lower().endswith(suf):
            return name[: -len(suf)] or "study"
    return name or "study"


def load_study_job(path: Path, series_uid: str | None = None, modality: str | None = None) -> Job[Volume]:
    """Read a study file, DICOM folder or DICOMDIR (``MultipleSeriesError`` when the caller must pick a series);
    progress every few DICOM slices, cancellable."""
    from medpriv_desktop.core.imaging.io import read_volume_job

    yield Progress(None, f"reading {Path(path).name}")
    volume = yield from read_volume_job(resolve_study_path(path), series_uid=series_uid, modality=modality)
    yield Progress(1.0, "done")
    return volume


def load_segmentation_job(path: Path, volume: Volume) -> Job[tuple[LabelMap, list]]:
    """A saved label map or DICOM SEG read onto the open study, with the statistics of every structure."""
    from medpriv_desktop.core.imaging.label_files import read_segmentation_onto
    from medpriv_desktop.core.imaging.stats import structure_stats

    lm = yield from scaled(read_segmentation_onto(path, volume), 0.0, 0.7)
    yield Progress(0.7, "statistics")
    return lm, structure_stats(lm, volume)


def statistics_job(labelmap: LabelMap, volume: Volume) -> Job[list]:
    """Statistics of every structure of ``labelmap`` on ``volume``."""
    from medpriv_desktop.core.imaging.stats import structure_stats

    yield Progress(None, "computing statistics")
    return structure_stats(labelmap, volume)


def export_labelmap_job(labelmap: LabelMap, path: Path) -> Job[list[Path]]:
    """Write the label map to ``path`` (format from its extension) plus ``<stem>_labels.json``."""
    from medpriv_desktop.core.imaging.export import LABELMAP_FORMATS, export_labelmap

    path = Path(path)
    name = path.name
    fmt = next((f for f, ext in LABELMAP_FORMATS.items() if name.lower().endswith(ext)), None)
    if fmt is None:
        raise InputError("choose a .nii.gz, .nii, .nrrd or .mha file name", path=path)
    yield Progress(None, "writing the label map")
    return export_labelmap(labelmap, path.parent, name[: -len(LABELMAP_FORMATS[fmt])], (fmt,))


def export_dicom_seg_job(labelmap: LabelMap, card: Any, path: Path) -> Job[Path]:
    """Write a DICOM SEG referencing the study's DICOM series (``card``: the model that made the labels)."""
    from medpriv_desktop.core.imaging.export import export_dicom_seg

    yield Progress(None, "writing the DICOM SEG")
    return export_dicom_seg(labelmap, card, Path(path))


def export_stats_job(labelmap: LabelMap, volume: Volume, path: Path, meta: dict | None = None) -> Job[Path]:
    """Statistics of the current (possibly edited) labels as CSV (and JSON beside it)."""
    from medpriv_desktop.core.imaging.stats import structure_stats, write_stats

    yield Progress(None, "computing statistics")
    stats = structure_stats(labelmap, volume)
    path = Path(path)
    write_stats(stats, path, path.with_suffix(".json"), meta or {})
    return path


_worker_state = threading.local()


def lower_worker_priority(step: int | None = None) -> bool:
    """Make the calling worker thread nicer than the GUI thread (Linux: per-thread nice); True when changed.

    Inference runs on the worker thread itself (and ONNX Runtime's pool threads inherit its niceness), so when the
    CPU is busy the scheduler still gives the GUI thread its turn. The main thread (the CLI's) is never touched.
    ``step`` defaults to ``MEDPRIV_WORKER_NICE`` or 10 (0 turns it off; the GUI benchmark compares both).
    """
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
