"""Segment one study: the task a worker runs for ``medpriv segment STUDIES --studies|--cluster|--shard``.

The studies are the entries of a folder (image files ``.nii``, ``.nii.gz``, ``.nrrd``, ``.mha``, ``.mhd``, or
sub-folders holding a DICOM series), sorted by name, or the ``path`` column of a CSV list (relative paths are taken
from the list's folder). Study ``i`` of that list (counting from 0) is written to the folder ``part-0000i/``; the
files inside are named as ``medpriv segment`` names them (after the study's file name, or pseudonymous with
``--deidentify``: names are PHI). :func:`segment_study` runs the same imaging pipeline the laptop runs
(``core.app.segment_study``, which also writes the study's audit entry) with the model the driver chose, into a
hidden temporary folder that the driver then records and renames. A study that cannot be read or segmented becomes
one line of the errors table (its index and the reason) and the other studies go on.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError, MedPrivError
from medpriv_desktop.scaleout.parts import part_name
from medpriv_desktop.scaleout.runner import PartResult, peak_rss_mb
from medpriv_desktop.scaleout.worker import cached, prepare_process

IMAGE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".mha", ".mhd")
STUDY_SUMMARY = "studies.csv"


def list_studies(source: Path) -> list[Path]:
    """The studies of a folder or of a CSV list (see the module docstring), in a fixed order."""
    source = Path(source)
    if source.is_dir():
        studies = sorted(p for p in source.iterdir() if not p.name.startswith(".")
                         and (p.is_dir() or p.name.lower().endswith(IMAGE_SUFFIXES)))
        if not studies:
            raise InputError("the folder holds no studies (image files or DICOM series folders)", path=source)
        return studies
    if source.suffix.lower() != ".csv" or not source.is_file():
        raise InputError("expected a folder of studies or a CSV list with a 'path' column", path=source)
    try:
        with open(source, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if "path" not in (reader.fieldnames or []):
                raise InputError("the study list has no 'path' column", path=source)
            rows = [r["path"] for r in reader if (r.get("path") or "").strip()]
    except (UnicodeDecodeError, csv.Error):
        raise InputError("the study list is not a readable UTF-8 CSV", path=source) from None
    if not rows:
        raise InputError("the study list names no study", path=source)
    return [p if p.is_absolute() else source.parent / p for p in (Path(r.strip()) for r in rows)]


@dataclass(frozen=True)
class SegmentSpec:
    """One study to segment (its path, not its pixels)."""

    index: int
    study: str
    model_id: str
    model_fields: dict[str, Any]
    options: Any  # SegmentOptions
    folder: str
    #: Refuse a study whose body region does not fit the card, as ``medpriv segment`` does without ``--force``.
    fit_check: bool = True


def _model(spec: SegmentSpec) -> tuple[Any, Any]:
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.settings import load_settings

    def build() -> tuple[Any, Any]:
        reg = ModelRegistry.from_settings(load_settings())
        return reg.get(spec.model_id), reg

    entry, reg = cached(("segmentation-model", spec.model_id), build)
    if dict(entry.audit_fields()) != spec.model_fields:
        raise MedPrivError("this worker's segmentation model bundle differs from the driver's",
                           hint="install the same model bundles on every node")
    return entry, reg


def segment_study(spec: SegmentSpec) -> PartResult:
    """Segment one study into a temporary folder in ``spec.folder``; never raises (see :class:`PartResult`)."""
    import shutil

    from dataclasses import replace

    from medpriv_desktop.core.app import Context, segment_study as segment_study_job
    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.logging import frames_only

    tmp = None
    try:
        prepare_process()
        entry, reg = _model(spec)
        tmp = tempfile.mkdtemp(prefix=f".{part_name(spec.index, '')}.", suffix=".tmp", dir=spec.folder)
        # core.app reads the study once for the body-region check and the segmentation, and records the entry
        options = replace(spec.options, check_fit=spec.fit_check)
        res = run_job(segment_study_job(Context.build(registry=reg), Path(spec.study), entry, output=Path(tmp),
                                        options=options))
        counts = {"structures found": len(res.segmentation.labelmap.present_values()),
                  "tiles": res.segmentation.n_tiles}
        return PartResult(spec.index, tmp, rows_done=1, counts=counts, peak_rss_mb=peak_rss_mb(), pid=os.getpid())
    except Exception as exc:  # noqa: BLE001 - one study fails alone; a message may hold a value, frames do not
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        reason = exc.reason if isinstance(exc, MedPrivError) else frames_only(exc.__traceback__, type(exc))
        return PartResult(spec.index, None, failure=reason, pid=os.getpid())


def study_table_name(shard: tuple[int, int] | None) -> str:
    """``studies.csv``, or ``studies.shard-K-of-N.csv`` (shards of a job array write at the same time)."""
    return STUDY_SUMMARY if shard is None else f"studies.shard-{shard[0]}-of-{shard[1]}.csv"


def write_study_table(folder: Path, name: str, studies: list[Path], indices: list[int],
                      failed: dict[int, str]) -> Path:
    """The study summary: one row per study of this run or shard: number, part folder, keyed reference of its path
    (the name is PHI; IT can recompute the reference), status, structures found, tiles, seconds, reason."""
    from medpriv_desktop.core.fileio import atomic_open
    from medpriv_desktop.core.logging import path_ref

    table = folder / name
    with atomic_open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["study", "part", "study_ref", "status", "structures_found", "tiles", "seconds", "reason"])
        for i in indices:
            summary = folder / part_name(i, "") / "summary.json"
            row: list[Any] = [i + 1, part_name(i, ""), path_ref(studies[i])]
            if summary.is_file():
                s = json.loads(summary.read_text(encoding="utf-8"))
                row += ["done", s.get("structures_found"), s.get("tiles"),
                        round(sum((s.get("timings_s") or {}).values()), 2), ""]
            else:
                row += ["failed" if i in failed else "not done", "", "", "", failed.get(i, "")]
            w.writerow(row)
    return table
