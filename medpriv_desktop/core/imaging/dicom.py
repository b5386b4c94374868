"""DICOM series: reading one series (found by :mod:`.dicom_series`) into a :class:`Volume`.

Geometry is built from the headers themselves (ImagePositionPatient / ImageOrientationPatient, LPS+) and converted to
RAS+ (see :mod:`.volume`). Slices are sorted along the slice normal. A gantry tilt (the slice-to-slice step is not
along the normal) and uneven slice spacing are detected and reported in ``meta["warnings"]``; the grid keeps the
normal as its k axis and the mean spacing along it, as ITK does. Compressed transfer syntaxes (JPEG 2000, JPEG-LS,
RLE...) are decoded by pydicom's pixel handlers (pylibjpeg).

Finding the series (folders, DICOMDIR, confinement) is :mod:`.dicom_series`, whose public names are re-exported here.
Every slice's Rows x Columns x frames x samples is checked against the voxel limit from its header before any pixel
is read, and every file is read capped at its size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
# Discovery lives in its own module; these names are part of this module's API (io, the GUI and tests use them).
from medpriv_desktop.core.imaging.dicom_series import (  # noqa: F401
    MultipleSeriesError, SeriesInfo, _int_tag, _is_dicom_file, _series_key, choose_series, dicomdir_series,
    list_dicom_series, read_header, sop_class)
from medpriv_desktop.core.imaging.safe_read import open_capped
from medpriv_desktop.core.imaging.volume import LPS_TO_RAS, GeometryError, Volume
from medpriv_desktop.core.jobs import Job, Progress

#: Relative spread of slice spacings above which the series is reported as unevenly spaced.
UNEVEN_SPACING_TOLERANCE = 0.01
#: Gantry tilt (degrees) above which the series is reported as tilted.
TILT_TOLERANCE_DEG = 0.05


def _patient(ds) -> dict[str, str]:
    return {"name": str(getattr(ds, "PatientName", "") or ""), "id": str(getattr(ds, "PatientID", "") or "")}


def read_dicom_series(folder: Path, info: SeriesInfo, max_voxels: int) -> Volume:
    """Read one series into a RAS+ :class:`Volume` (HU for CT after rescale slope/intercept)."""
    from medpriv_desktop.core.jobs import run_job

    return run_job(read_dicom_series_job(folder, info, max_voxels))


def read_dicom_series_job(folder: Path, info: SeriesInfo, max_voxels: int) -> Job[Volume]:
    """:func:`read_dicom_series` as a job: a Progress every few slices, cancellable between them.

    Everything that decides the size of the result (Rows, Columns, frames, samples, bits of every slice) is checked
    from the headers against ``max_voxels`` before the first pixel is read.
    """
    import pydicom

    headers = []
    for p in info.files:
        try:
            headers.append((read_header(p), p))
        except MemoryError:
            raise
        except Exception:
            raise InputError("DICOM file is damaged or truncated", path=p) from None
    first = headers[0][0]
    rows, cols = _check_slice_sizes(headers, max_voxels)
    if len(headers) == 1:
        raise InputError("the series has a single 2D image; a 3D volume is needed", path=headers[0][1])
    row_dir, col_dir, normal = _orientation(headers, folder)
    positions = np.array([_numbers(h, "ImagePositionPatient", 3, p) for h, p in headers])
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    headers = [headers[i] for i in order]
    positions, along = positions[order], along[order]
    steps = np.diff(along)
    if np.any(steps < 1e-4):
        raise InputError("the series holds two images at the same position (duplicate or 4D series)", path=folder,
                         hint="a 4D/multi-phase series must be split into one series per phase")
    n = len(headers)
    if rows * cols * n > max_voxels:
        raise InputError(f"volume too large: {cols}x{rows}x{n} voxels exceeds the limit of {max_voxels:,}",
                         path=folder, hint="raise MEDPRIV_MAX_VOXELS if this machine has the memory")
    warnings: list[str] = list(info.warnings)
    if not sop_class(first):
        warnings.append("the images carry no SOP Class UID (anonymised?); they were read as images from their pixel "
                        "and geometry tags")
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
    ps = _numbers(first, "PixelSpacing", 2, headers[0][1]) if "PixelSpacing" in first else [1.0, 1.0]
    # PixelSpacing is (between rows, between columns): i (column index) uses the second value.
    spacing = (ps[1], ps[0], mean_step)
    rescale = [_rescale(h, p) for h, p in headers]
    integral = all(float(a).is_integer() and float(b).is_integer() for a, b in rescale)
    arr = np.empty((cols, rows, n), dtype=np.int16 if integral else np.float32)
    for k, (h, p) in enumerate(headers):
        if k % 8 == 0:
            yield Progress(k / n, f"reading slice {k + 1}/{n}")
        try:
            with open_capped(p) as fh:
                pix = pydicom.dcmread(fh).pixel_array
        except MemoryError:
            raise
        except Exception as exc:
            raise InputError(f"cannot decode the pixels of a slice ({type(exc).__name__})", path=p,
                             hint="the file is damaged, truncated or uses an unsupported compression") from None
        if pix.shape != (rows, cols):
            raise InputError("slice is not a single-channel 2D image of the series' size (colour or multi-frame)",
                             path=p)
        slope, inter = rescale[k]
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
    try:
        return Volume(arr, spacing, tuple(origin), LPS_TO_RAS @ direction_lps, modality, meta)
    except GeometryError as exc:
        raise InputError(f"the series geometry is invalid: {exc}", path=folder) from None


def _numbers(ds, name: str, n: int, path: Path) -> list[float]:
    """The first ``n`` values of a numeric multi-valued tag, all finite; else one InputError naming the file."""
    try:
        values = [float(v) for v in list(getattr(ds, name))[:n]]
    except (AttributeError, TypeError, ValueError):
        values = []
    if len(values) != n or not all(np.isfinite(values)):
        raise InputError(f"the DICOM tag {name} is missing or not {n} finite numbers", path=path)
    return values


def _rescale(ds, path: Path) -> tuple[float, float]:
    """RescaleSlope and RescaleIntercept (1 and 0 when absent), finite; else one InputError naming the file."""
    try:
        slope = float(getattr(ds, "RescaleSlope", 1) or 1)
        inter = float(getattr(ds, "RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        slope = inter = float("nan")
    if not (np.isfinite(slope) and np.isfinite(inter)):
        raise InputError("the DICOM rescale slope or intercept is not a finite number", path=path)
    return slope, inter


def _check_slice_sizes(headers: list, max_voxels: int) -> tuple[int, int]:
    """(Rows, Columns) shared by every slice, each slice checked from its header before any pixel is decoded."""
    first, first_path = headers[0]
    rows, cols = _int_tag(first, "Rows"), _int_tag(first, "Columns")
    for h, p in headers:
        r, c = _int_tag(h, "Rows"), _int_tag(h, "Columns")
        frames, samples = _int_tag(h, "NumberOfFrames", 1), _int_tag(h, "SamplesPerPixel", 1)
        bits = _int_tag(h, "BitsAllocated", 16)
        if not all(isinstance(v, int) and v >= 1 for v in (r, c, frames, samples, bits)) or bits > 64:
            raise InputError("the DICOM image size tags (Rows, Columns, frames, samples, bits) are missing or "
                             "invalid", path=p)
        if r * c * frames * samples > max_voxels:
            raise InputError(f"a slice of {c}x{r} pixels x {frames} frames x {samples} samples exceeds the limit of "
                             f"{max_voxels:,} voxels", path=p, hint="raise MEDPRIV_MAX_VOXELS if this machine has "
                             "the memory")
        if frames > 1:
            raise InputError("multi-frame (enhanced) DICOM is not supported yet", path=p,
                             hint="export the series as one file per slice")
        if samples != 1:
            raise InputError("slice is not a single-channel image (colour)", path=p)
        if (r, c) != (rows, cols):
            raise InputError("slices of the series have different sizes", path=p)
    return rows, cols


def _orientation(headers: list, folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit row, column and slice-normal directions (LPS), the same for every slice; one InputError otherwise."""
    first, first_path = headers[0]
    if "ImageOrientationPatient" not in first or any("ImagePositionPatient" not in h for h, _ in headers):
        raise InputError("DICOM images lack position/orientation tags; cannot build a 3D volume", path=folder)
    iop = np.array(_numbers(first, "ImageOrientationPatient", 6, first_path))
    for h, p in headers:
        if not np.allclose(_numbers(h, "ImageOrientationPatient", 6, p), iop, atol=1e-3):
            raise InputError("slices of the series have different orientations", path=p)
    row_dir, col_dir = iop[:3], iop[3:6]
    normal = np.cross(row_dir, col_dir)
    if min(np.linalg.norm(row_dir), np.linalg.norm(col_dir), np.linalg.norm(normal)) < 1e-3:
        raise InputError("the DICOM image orientation is degenerate (a zero or repeated direction)", path=first_path)
    # Unit vectors: exported orientations are often rounded, and the grid must stay a rotation.
    return (row_dir / np.linalg.norm(row_dir), col_dir / np.linalg.norm(col_dir), normal / np.linalg.norm(normal))
