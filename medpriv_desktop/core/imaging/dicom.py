"""DICOM series: discovery (one folder may hold several series) and reading one series into a :class:`Volume`.

Geometry is built from the headers themselves (ImagePositionPatient / ImageOrientationPatient, LPS+) and converted to
RAS+ (see :mod:`.volume`). Slices are sorted along the slice normal. A gantry tilt (the slice-to-slice step is not
along the normal) and uneven slice spacing are detected and reported in ``meta["warnings"]``; the grid keeps the
normal as its k axis and the mean spacing along it, as ITK does. Compressed transfer syntaxes (JPEG 2000, JPEG-LS,
RLE...) are decoded by pydicom's pixel handlers (pylibjpeg).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.volume import LPS_TO_RAS, Volume
from medpriv_desktop.core.jobs import Job, Progress

log = logging.getLogger(__name__)

#: Relative spread of slice spacings above which the series is reported as unevenly spaced.
UNEVEN_SPACING_TOLERANCE = 0.01
#: Gantry tilt (degrees) above which the series is reported as tilted.
TILT_TOLERANCE_DEG = 0.05
_SKIP_NAMES = {"DICOMDIR"}


@dataclass
class SeriesInfo:
    """One DICOM series found in a folder. ``repr`` holds no patient data (uid, description, modality, counts only)."""

    uid: str
    description: str
    modality: str
    n_slices: int
    rows: int
    columns: int
    series_number: int | None = None
    files: list[Path] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """One line for a person choosing a series."""
        num = f"#{self.series_number} " if self.series_number is not None else ""
        return (f"{self.uid}  {num}{self.modality} {self.n_slices} images {self.rows}x{self.columns}  "
                f"{self.description or '(no description)'}")


def _is_dicom_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _series_key(ds) -> str:
    uid = str(getattr(ds, "SeriesInstanceUID", "") or "").strip()
    if uid:
        return uid
    # Anonymised exports sometimes blank the UID: group by what still tells series apart and say so in the key.
    parts = [str(getattr(ds, k, "")) for k in ("FrameOfReferenceUID", "SeriesNumber", "SeriesDescription",
                                                 "Modality", "Rows", "Columns")]
    parts.append(",".join(f"{float(v):.4f}" for v in getattr(ds, "ImageOrientationPatient", []) or []))
    return "nouid-" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def list_dicom_series(folder: str | Path) -> list[SeriesInfo]:
    """Every image series in ``folder`` (searched recursively), largest first. Files that are not DICOM are ignored."""
    import pydicom

    folder = Path(folder)
    groups: dict[str, SeriesInfo] = {}
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            p = Path(root) / name
            if name in _SKIP_NAMES or not _is_dicom_file(p):
                continue
            try:
                ds = pydicom.dcmread(p, stop_before_pixels=True)
            except Exception:  # a damaged file among good ones is skipped, not fatal
                log.warning("skipping unreadable DICOM file %s", p)
                continue
            if "PixelData" not in ds and not hasattr(ds, "Rows"):
                continue  # SR, presentation states and other non-image objects
            key = _series_key(ds)
            info = groups.get(key)
            if info is None:
                num = getattr(ds, "SeriesNumber", None)
                info = groups[key] = SeriesInfo(
                    uid=key, description=str(getattr(ds, "SeriesDescription", "") or ""),
                    modality=str(getattr(ds, "Modality", "OT") or "OT"), n_slices=0,
                    rows=int(getattr(ds, "Rows", 0) or 0), columns=int(getattr(ds, "Columns", 0) or 0),
                    series_number=int(num) if num not in (None, "") else None)
            info.files.append(p)
            info.n_slices += int(getattr(ds, "NumberOfFrames", 1) or 1)
    return sorted(groups.values(), key=lambda s: (-s.n_slices, s.uid))


def choose_series(folder: Path, series: list[SeriesInfo], series_uid: str | None) -> SeriesInfo:
    """Pick the requested series, or the only one; raise :class:`MultipleSeriesError` when the caller must choose."""
    if not series:
        raise InputError("no DICOM images or volume files found in this folder", path=folder,
                         hint="choose a folder holding a DICOM series, or a .nii/.nii.gz/.nrrd/.mha file")
    if series_uid is not None:
        for s in series:
            if s.uid == series_uid:
                return s
        raise InputError(f"no series with UID {series_uid} in this folder", path=folder,
                         hint="run without --series to list the series")
    if len(series) > 1:
        raise MultipleSeriesError(folder, series)
    return series[0]


class MultipleSeriesError(InputError):
    """The folder holds several series; ``series`` lists them so the caller can ask which one."""

    def __init__(self, folder: Path, series: list[SeriesInfo]) -> None:
        self.series = series
        super().__init__(f"the folder holds {len(series)} DICOM series; choose one", path=folder,
                         hint="pass --series UID (see the list above)")


def _patient(ds) -> dict[str, str]:
    return {"name": str(getattr(ds, "PatientName", "") or ""), "id": str(getattr(ds, "PatientID", "") or "")}


def read_dicom_series(folder: Path, info: SeriesInfo, max_voxels: int) -> Volume:
    """Read one series into a RAS+ :class:`Volume` (HU for CT after rescale slope/intercept)."""
    from medpriv_desktop.core.jobs import run_job

    return run_job(read_dicom_series_job(folder, info, max_voxels))


def read_dicom_series_job(folder: Path, info: SeriesInfo, max_voxels: int) -> Job[Volume]:
    """:func:`read_dicom_series` as a job: a Progress every few slices, cancellable between them."""
    import pydicom

    headers = []
    for p in info.files:
        try:
            headers.append((pydicom.dcmread(p, stop_before_pixels=True), p))
        except Exception:
            raise InputError("DICOM file is damaged or truncated", path=p) from None
    first = headers[0][0]
    frames = int(getattr(first, "NumberOfFrames", 1) or 1)
    if frames > 1 or len(headers) == 1:
        if frames > 1:
            raise InputError("multi-frame (enhanced) DICOM is not supported yet", path=headers[0][1],
                             hint="export the series as one file per slice")
        raise InputError("the series has a single 2D image; a 3D volume is needed", path=headers[0][1])
    iop = getattr(first, "ImageOrientationPatient", None)
    if iop is None or any(getattr(h, "ImagePositionPatient", None) is None for h, _ in headers):
        raise InputError("DICOM images lack position/orientation tags; cannot build a 3D volume", path=folder)
    row_dir = np.array([float(v) for v in iop[:3]])
    col_dir = np.array([float(v) for v in iop[3:6]])
    normal = np.cross(row_dir, col_dir)
    for h, p in headers:
        if not np.allclose([float(v) for v in h.ImageOrientationPatient], iop, atol=1e-3):
            raise InputError("slices of the series have different orientations", path=p)
        if (int(h.Rows), int(h.Columns)) != (int(first.Rows), int(first.Columns)):
            raise InputError("slices of the series have different sizes", path=p)
    positions = np.array([[float(v) for v in h.ImagePositionPatient] for h, _ in headers])
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    headers = [headers[i] for i in order]
    positions, along = positions[order], along[order]
    steps = np.diff(along)
    if np.any(steps < 1e-4):
        raise InputError("the series holds two images at the same position (duplicate or 4D series)", path=folder,
                         hint="a 4D/multi-phase series must be split into one series per phase")
    n = len(headers)
    rows, cols = int(first.Rows), int(first.Columns)
    if rows * cols * n > max_voxels:
        raise InputError(f"volume too large: {cols}x{rows}x{n} voxels exceeds the limit of {max_voxels:,}",
                         path=folder, hint="raise MEDPRIV_MAX_VOXELS if this machine has the memory")
    warnings: list[str] = []
    mean_step = float(along[-1] - along[0]) / (n - 1)
    if (steps.max() - steps.min()) > UNEVEN_SPACING_TOLERANCE * mean_step:
        warnings.append(f"uneven slice spacing: {steps.min():.3f} to {steps.max():.3f} mm (mean {mean_step:.3f} mm "
                        "used; distances along the slice axis may be off)")
    step_vec = (positions[-1] - positions[0]) / (n - 1)
    cosang = float(np.clip(abs(step_vec @ normal) / max(np.linalg.norm(step_vec), 1e-9), -1, 1))
    tilt = float(np.degrees(np.arccos(cosang)))
    if tilt > TILT_TOLERANCE_DEG:
        warnings.append(f"gantry tilt of {tilt:.2f} degrees detected: slices are sheared; the volume is shown on "
                        "an untilted grid, so positions may be off by up to a few mm")
    ps = [float(v) for v in getattr(first, "PixelSpacing", [1.0, 1.0])]
    # PixelSpacing is (between rows, between columns): i (column index) uses the second value.
    spacing = (ps[1], ps[0], mean_step)
    arr = None
    for k, (h, p) in enumerate(headers):
        if k % 8 == 0:
            yield Progress(k / n, f"reading slice {k + 1}/{n}")
        try:
            ds = pydicom.dcmread(p)
            pix = ds.pixel_array
        except Exception as exc:
            raise InputError(f"cannot decode the pixels of a slice ({type(exc).__name__})", path=p,
                             hint="the file is damaged, truncated or uses an unsupported compression") from None
        if pix.ndim != 2:
            raise InputError("slice is not a single-channel 2D image (colour or multi-frame)", path=p)
        slope = float(getattr(ds, "RescaleSlope", 1) or 1)
        inter = float(getattr(ds, "RescaleIntercept", 0) or 0)
        if arr is None:
            integral = float(slope).is_integer() and float(inter).is_integer()
            arr = np.empty((cols, rows, n), dtype=np.int16 if integral else np.float32)
        vals = pix.astype(np.float32) * slope + inter if (slope != 1 or inter != 0) else pix
        if arr.dtype == np.int16:
            vals = np.clip(vals, -32768, 32767)
        arr[:, :, k] = np.asarray(vals).T  # pixel_array is [row, column]; our i is the column index
    direction_lps = np.stack([row_dir, col_dir, normal], axis=1)
    origin = LPS_TO_RAS @ positions[0]
    meta = {
        "source_format": "dicom", "source_path": str(folder), "series_uid": info.uid,
        "series_description": info.description, "dicom_files": [str(p) for _, p in headers],
        "warnings": warnings, "gantry_tilt_deg": round(tilt, 3),
        "slice_spacing_range_mm": (float(steps.min()), float(steps.max())),
        "transfer_syntax": str(getattr(getattr(first, "file_meta", None), "TransferSyntaxUID", "")),
        "patient": _patient(first),
    }
    modality = str(getattr(first, "Modality", "OT") or "OT")
    modality = modality if modality in ("CT", "MR") else "OT"
    return Volume(arr, spacing, tuple(origin), LPS_TO_RAS @ direction_lps, modality, meta)
