"""Finding the unlabelled scans of a site folder, and choosing one DICOM series per study.

A scan is a volume file (NIfTI, NRRD, MHA/MHD) anywhere under the folder, or one DICOM series. DICOM files are grouped
by series (headers only) and the series by StudyInstanceUID, so a folder may hold one study per subfolder or many
studies mixed together. Of each study's series exactly one is used, by this rule (:func:`series_rank`):

1. a modality the teacher's card accepts, in the card's order (a CT+MR card prefers CT);
2. axial (slice normal within about 25 degrees of the patient's head-foot axis) before sagittal or coronal;
3. more slices first (the longest coverage of the body);
4. thinner slices first (SliceThickness, else the distance between the first two slice positions);
5. the smallest series UID, so the choice never depends on the order files were listed.

Scan ids are 12 hex digits of a keyed hash (the site's audit key) of the path relative to the folder and the series
UID: file names are PHI, so neither the run's files nor its report name them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.dicom_series import SeriesInfo, list_dicom_series, read_header
from medpriv_desktop.core.imaging.io import VOLUME_SUFFIXES
from medpriv_desktop.core.imaging.safe_read import UnsafeFileError, confined_path
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.jobs import Job

log = logging.getLogger(__name__)

#: |cos| between the slice normal and the head-foot axis above which a series counts as axial (about 25 degrees).
AXIAL_COS = 0.9


@dataclass
class ScanRef:
    """One unlabelled scan: a volume file, or one DICOM series (``series`` set)."""

    scan_id: str
    path: Path
    series: SeriesInfo | None = None

    def read(self) -> Job[Volume]:
        """Read the scan into a RAS+ :class:`Volume` with the app's readers (a job)."""
        from medpriv_desktop.core.imaging.io import guess_modality, max_voxels, read_volume_job

        if self.series is None:
            return (yield from read_volume_job(self.path))
        from medpriv_desktop.core.imaging.dicom import read_dicom_series_job

        vol = yield from read_dicom_series_job(self.path, self.series, max_voxels())
        if vol.modality not in ("CT", "MR"):
            vol.modality = guess_modality(vol.array)
            vol.meta["modality_guessed"] = True
        return vol


def _site_key() -> bytes | None:
    try:
        from medpriv_desktop.core import keys

        return keys.load_key("audit")
    except Exception:  # no key folder here: an unkeyed hash still keeps names out of the run
        return None


def scan_id(root: Path, path: Path, series_uid: str = "") -> str:
    """A stable id of a scan: keyed hash of its path relative to ``root`` and its series UID."""
    rel = path.relative_to(root).as_posix() if path != root else "."
    data = f"medpriv-scan|{rel}|{series_uid}".encode("utf-8", "surrogateescape")
    key = _site_key()
    digest = hmac.new(key, data, hashlib.sha256).hexdigest() if key else hashlib.sha256(data).hexdigest()
    return "scan-" + digest[:12]


def _series_facts(info: SeriesInfo) -> tuple[str, float, float]:
    """Study UID, |cos| of the slice normal with the head-foot axis, slice thickness (mm) from the headers."""
    first = read_header(info.files[0])
    study = str(getattr(first, "StudyInstanceUID", "") or "") or "no-study"
    try:
        iop = np.asarray([float(v) for v in first.ImageOrientationPatient], float)
        normal = np.cross(iop[:3], iop[3:])
        axial = abs(normal[2]) / max(np.linalg.norm(normal), 1e-9)
    except (AttributeError, TypeError, ValueError):
        axial = 0.0
    thick = None
    try:
        thick = float(first.SliceThickness)
    except (AttributeError, TypeError, ValueError):
        pass
    if not thick and len(info.files) > 1:
        try:
            second = read_header(info.files[1])
            a = np.asarray([float(v) for v in first.ImagePositionPatient])
            b = np.asarray([float(v) for v in second.ImagePositionPatient])
            thick = float(np.linalg.norm(a - b))
        except (AttributeError, TypeError, ValueError):
            thick = None
    return study, float(axial), float(thick) if thick else float("inf")


def series_rank(info: SeriesInfo, axial_cos: float, thickness: float, modalities: list[str]) -> tuple:
    """Sort key of the series rule in the module docstring (smaller is preferred)."""
    mod = modalities.index(info.modality) if info.modality in modalities else len(modalities)
    return (mod, 0 if axial_cos >= AXIAL_COS else 1, -info.n_slices, thickness, info.uid)


def choose_study_series(series: list[SeriesInfo], modalities: list[str]) -> dict[str, SeriesInfo]:
    """For every study among ``series``: the one series the rule picks (studies with no usable modality dropped)."""
    studies: dict[str, list[tuple[tuple, SeriesInfo]]] = {}
    for info in series:
        if info.n_slices < 2:
            continue  # a single image is not a volume
        try:
            study, axial, thick = _series_facts(info)
        except Exception:  # a header that cannot be read again: the series is skipped, the run goes on
            continue
        studies.setdefault(study, []).append((series_rank(info, axial, thick, modalities), info))
    chosen = {}
    for study, ranked in studies.items():
        ranked.sort(key=lambda r: r[0])
        if ranked[0][1].modality in modalities:
            chosen[study] = ranked[0][1]
    return chosen


def find_scans(folder: str | Path, modalities: list[str]) -> list[ScanRef]:
    """Every scan under ``folder`` (volume files and one series per DICOM study), sorted by id."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("the unlabelled-scan folder does not exist or is not a folder", path=root)
    scans: list[ScanRef] = []
    for p in sorted(root.rglob("*")):
        name = p.name.lower()
        if p.is_file() and any(name.endswith(s) for s in VOLUME_SUFFIXES):
            try:
                confined_path(p, root)  # as for DICOM: a link leading out of the folder is not followed
            except UnsafeFileError:
                continue
            scans.append(ScanRef(scan_id(root, p), p))
    for info in choose_study_series(list_dicom_series(root), modalities).values():
        scans.append(ScanRef(scan_id(root, root, info.uid), root, info))
    if not scans:
        raise InputError("no scans found: the folder holds no DICOM series and no .nii/.nii.gz/.nrrd/.mha file",
                         path=root, hint="point --unlabelled at a folder of unlabelled CT or MR studies")
    log.info("found %d unlabelled scans", len(scans))  # a count: names are PHI
    return sorted(scans, key=lambda s: s.scan_id)


def split_holdout(scans: list[ScanRef], holdout: int | None, seed: int) -> tuple[list[ScanRef], list[ScanRef]]:
    """(distillation scans, held-back scans): ``holdout`` scans (default 20 %, at least 1) drawn with ``seed``.

    With a single scan nothing can be held back; it is used for distillation and the evaluation is skipped.
    """
    n = len(scans)
    k = max(1, int(round(0.2 * n))) if holdout is None else int(holdout)
    k = min(k, n - 1)
    order = np.random.default_rng(seed).permutation(n)
    held = {int(i) for i in order[:k]}
    return [s for i, s in enumerate(scans) if i not in held], [s for i, s in enumerate(scans) if i in held]
