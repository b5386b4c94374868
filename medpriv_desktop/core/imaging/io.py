"""Reading any study into a :class:`Volume` and writing volumes / label maps, all in RAS+ (see :mod:`.volume`).

Readers: a DICOM series from a folder (:mod:`.dicom`), NIfTI (.nii, .nii.gz) through nibabel, NRRD and MHA/MHD
through the project's own :mod:`.itk_formats` (ITK's LPS+ converted to RAS+ here; the app does not ship SimpleITK).
Every failure becomes one :class:`InputError` naming the file.
Writers are atomic (temporary file, then rename).

A NIfTI or NRRD file does not say what modality it holds; :func:`guess_modality` looks at the intensities (CT holds
air at about -1000 HU) and records ``meta["modality_guessed"] = True``; callers can override it.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_path
from medpriv_desktop.core.imaging.dicom import (MultipleSeriesError, SeriesInfo, _is_dicom_file, choose_series,
                                                dicomdir_series, list_dicom_series, read_dicom_series_job)
from medpriv_desktop.core.imaging.safe_read import UnsafeFileError
from medpriv_desktop.core.imaging.volume import LPS_TO_RAS, GeometryError, LabelMap, Volume
from medpriv_desktop.core.jobs import Job, Progress

__all__ = ["read_volume", "read_volume_job", "read_labelmap", "list_dicom_series", "write_labelmap", "write_volume",
           "SeriesInfo", "MultipleSeriesError", "guess_modality", "max_voxels", "VOLUME_SUFFIXES"]

NIFTI_SUFFIXES = (".nii", ".nii.gz")
ITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")
VOLUME_SUFFIXES = NIFTI_SUFFIXES + ITK_SUFFIXES
_GEOMETRY_HINT = "the header's voxel sizes or orientation must be fixed"
#: Default largest volume accepted (voxels); about 1 GB of int16 and the float32 copies the pipeline makes.
DEFAULT_MAX_VOXELS = 600 * 1024 * 1024


def max_voxels() -> int:
    """Largest volume (voxels) the readers accept: ``MEDPRIV_MAX_VOXELS`` or the default, capped by free memory."""
    env = os.environ.get("MEDPRIV_MAX_VOXELS")
    limit = int(env) if env and env.isdigit() else DEFAULT_MAX_VOXELS
    try:
        import psutil

        # The pipeline holds the int16 input, a float32 working copy and small outputs: ~8 bytes a voxel at peak.
        limit = min(limit, int(psutil.virtual_memory().available // 8))
    except Exception:  # psutil missing or unusual platform: keep the configured limit
        pass
    return limit


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def guess_modality(array: np.ndarray) -> str:
    """'CT' when the intensities look like Hounsfield units (air near -1000), else 'MR'."""
    sample = array.ravel()[:: max(1, array.size // 200_000)]
    lo = float(np.percentile(sample, 1))
    return "CT" if -1100 <= lo <= -500 else "MR"


def _check_shape(shape: tuple[int, ...], path: Path) -> tuple[int, int, int]:
    dims = [int(d) for d in shape]
    while len(dims) > 3 and dims[-1] == 1:
        dims.pop()
    if len(dims) > 3:
        raise InputError(f"4D image ({' x '.join(map(str, dims))}); a single 3D volume is needed", path=path,
                         hint="split the series into 3D volumes (one per time point or channel)")
    if len(dims) < 3 or min(dims) < 2:
        raise InputError(f"2D image ({' x '.join(map(str, dims))}); a 3D volume is needed", path=path)
    if math.prod(dims) > max_voxels():  # Python integers: 2^32 x 2^32 does not wrap round to a small number
        raise InputError(f"volume too large for this machine's memory: {' x '.join(map(str, dims))} voxels",
                         path=path, hint="crop or downsample it, or raise MEDPRIV_MAX_VOXELS on a larger machine")
    return dims[0], dims[1], dims[2]


def _read_nifti(path: Path) -> Volume:
    import nibabel as nib

    try:
        img = nib.load(str(path))
    except MemoryError:
        raise  # "too large for this machine's memory", not "damaged" (see read_volume_job)
    except Exception as exc:
        raise InputError(f"not a readable NIfTI file ({type(exc).__name__})", path=path) from None
    _check_shape(img.shape, path)
    if _nifti_voxel_sizes_missing(path, img):
        raise InputError("the image geometry is invalid: a voxel size is zero, infinite or undefined", path=path,
                         hint=_GEOMETRY_HINT)
    try:
        data = np.asanyarray(img.dataobj)
    except MemoryError:
        raise
    except Exception as exc:
        raise InputError(f"the NIfTI data is truncated or damaged ({type(exc).__name__})", path=path) from None
    data = data.reshape(data.shape[:3])
    if data.dtype.kind == "f" or data.dtype.itemsize > 2 or data.dtype == np.uint16:
        data = _compact(data)
    try:
        return Volume.from_affine(data, img.affine, meta={"source_format": "nifti", "source_path": str(path)})
    except GeometryError as exc:
        raise InputError(f"the image geometry is invalid: {exc}", path=path,
                         hint=_GEOMETRY_HINT) from None


def _nifti_voxel_sizes_missing(path: Path, img) -> bool:
    """True when the affine comes from ``pixdim`` (no sform) and a spatial pixdim is zero, NaN or infinite.

    nibabel silently replaces a zero pixdim by 1 when it loads the header, so the raw header is read again here
    (its fixed size only, from the start of the file) to refuse such a file instead of guessing 1 mm.
    """
    header = img.header
    if int(header.get("sform_code", 0)) > 0:
        return False  # the sform alone gives the geometry; pixdim is not used
    size = int(getattr(type(header), "sizeof_hdr", 0))
    if not size:
        return False
    try:
        if _suffix(path) == ".nii.gz":
            import gzip

            with gzip.open(path, "rb") as fh:
                raw = fh.read(size)
        else:
            with open(path, "rb") as fh:
                raw = fh.read(size)
        raw_header = type(header)(binaryblock=raw, check=False)
        pixdim = np.asarray(raw_header["pixdim"][1:4], float)
    except Exception:  # the header read fine a moment ago; any doubt here is left to the main reader
        return False
    return bool(np.any(~np.isfinite(pixdim)) or np.any(pixdim == 0))


def _compact(data: np.ndarray) -> np.ndarray:
    """Integer-valued data in int16 when it fits (halves memory for CTs saved as float or int32)."""
    if data.dtype.kind in "iu" and data.size:
        lo, hi = data.min(), data.max()
        if lo >= -32768 and hi <= 32767:
            return data.astype(np.int16, copy=False)
        return data.astype(np.float32)
    if data.dtype.kind == "f":
        return data.astype(np.float32, copy=False)
    return data


def _read_itk(path: Path) -> Volume:
    from medpriv_desktop.core.imaging import itk_formats

    try:
        header = itk_formats.read_header(path)
    except UnsafeFileError as exc:
        raise InputError(f"cannot be read: {exc}", path=path) from None
    except OSError:
        raise InputError("cannot read the file", path=path) from None
    except itk_formats.ItkGeometryError as exc:
        raise InputError(f"the image geometry is invalid: {exc}", path=path,
                         hint=_GEOMETRY_HINT) from None
    except itk_formats.ItkHeaderError as exc:
        raise InputError(f"not a readable image file (header damaged or unknown format: {exc})", path=path) from None
    if header.components > 1:
        raise InputError(f"image has {header.components} components per voxel (colour, vector or 4D); a scalar 3D "
                         "volume is needed", path=path)
    dims = _check_shape(header.dims, path)
    try:
        img = itk_formats.read_data(header)
    except UnsafeFileError as exc:
        raise InputError(f"refused to read the header's data file: {exc}", path=path,
                         hint="a detached header may only name regular files in its own folder") from None
    except (itk_formats.ItkDataError, OSError) as exc:
        raise InputError(f"the image data is truncated or damaged ({exc})", path=path) from None
    img.array = img.array.reshape(dims)  # trailing singleton axes dropped by _check_shape
    try:
        return volume_from_itk(img, {"source_format": _suffix(path).lstrip("."), "source_path": str(path)})
    except GeometryError as exc:
        raise InputError(f"the image geometry is invalid: {exc}", path=path,
                         hint=_GEOMETRY_HINT) from None


def volume_from_itk(img, meta: dict | None = None) -> Volume:
    """Convert an :class:`~.itk_formats.ItkImage` (LPS+, array [i, j, k]) into a RAS+ :class:`Volume`."""
    direction = LPS_TO_RAS @ np.asarray(img.direction, float).reshape(3, 3)
    origin = LPS_TO_RAS @ np.asarray(img.origin, float)
    return Volume(_compact(img.array), img.spacing, tuple(origin), direction, "OT", dict(meta or {}))


def volume_to_itk(volume: Volume):
    """Convert a :class:`Volume` to an :class:`~.itk_formats.ItkImage` (LPS+ geometry)."""
    from medpriv_desktop.core.imaging.itk_formats import ItkImage

    return ItkImage(volume.array, volume.spacing, LPS_TO_RAS @ np.asarray(volume.origin), LPS_TO_RAS @ volume.direction)


def volume_to_sitk(volume: Volume):
    """Convert a :class:`Volume` to a SimpleITK image (LPS+ geometry); for interoperability and tests only."""
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(np.ascontiguousarray(np.transpose(volume.array, (2, 1, 0))))
    img.SetSpacing(volume.spacing)
    img.SetOrigin(tuple(LPS_TO_RAS @ np.asarray(volume.origin)))
    img.SetDirection(tuple((LPS_TO_RAS @ volume.direction).ravel()))
    return img


def read_volume(path: str | Path, series_uid: str | None = None, modality: str | None = None) -> Volume:
    """Read a DICOM series folder, a DICOM file's series, or a NIfTI/NRRD/MHA/MHD file into a RAS+ Volume.

    A folder with several DICOM series raises :class:`MultipleSeriesError` (its ``series`` lists them) unless
    ``series_uid`` picks one. ``modality`` overrides what the file says or what :func:`guess_modality` guesses.
    """
    from medpriv_desktop.core.jobs import run_job

    return run_job(read_volume_job(path, series_uid, modality))


def read_volume_job(path: str | Path, series_uid: str | None = None, modality: str | None = None) -> Job[Volume]:
    """:func:`read_volume` as a job (Progress per few DICOM slices; cancellable), for the GUI and the pipeline.

    Only regular files are opened (a FIFO or a device given as input is refused, never waited on); a DICOMDIR
    reads the images it references inside its own folder. Running out of memory while reading becomes one
    :class:`InputError` naming the input.
    """
    path = Path(path)
    try:
        vol = yield from _read_any(path, series_uid)
    except MemoryError:
        raise InputError("the image is too large for this machine's memory", path=path,
                         hint="crop or downsample it, or use a machine with more memory") from None
    if modality is not None:
        vol.modality = modality.upper()
    elif vol.modality not in ("CT", "MR"):
        vol.modality = guess_modality(vol.array)
        vol.meta["modality_guessed"] = True
    vol.meta.setdefault("warnings", [])
    return vol


def _read_any(path: Path, series_uid: str | None) -> Job[Volume]:
    """Dispatch on what ``path`` is: a folder, a DICOMDIR, a NIfTI/NRRD/MetaImage file or one DICOM file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError("no such file or folder", path=path) from None
    except (OSError, ValueError):
        raise InputError("cannot access the file", path=path) from None
    if stat.S_ISDIR(mode):
        series = list_dicom_series(path)
        if not series:
            files = sorted(p for p in path.iterdir() if p.is_file() and _suffix(p) in VOLUME_SUFFIXES)
            if len(files) == 1:
                return (yield from _read_any(files[0], None))
        info = choose_series(path, series, series_uid)
        return (yield from read_dicom_series_job(path, info, max_voxels()))
    if not stat.S_ISREG(mode):
        raise InputError("not a regular file (a FIFO, device or socket cannot be read as an image)", path=path)
    yield Progress(None, "reading")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", path=path)
    suffix = _suffix(path)
    if suffix in NIFTI_SUFFIXES:
        return _read_nifti(path)
    if suffix in ITK_SUFFIXES:
        return _read_itk(path)
    if path.name.upper() == "DICOMDIR":
        info = choose_series(path, dicomdir_series(path), series_uid)
        return (yield from read_dicom_series_job(path, info, max_voxels()))
    if suffix == ".dcm" or _is_dicom_file(path):
        # One DICOM file stands for its series: read the series it belongs to from its folder.
        from medpriv_desktop.core.imaging.dicom import _series_key, read_header

        try:
            key = _series_key(read_header(path))
        except MemoryError:
            raise
        except Exception:
            raise InputError("DICOM file is damaged or truncated", path=path) from None
        series = [s for s in list_dicom_series(path.parent) if s.uid == key]
        info = choose_series(path.parent, series, None)
        if len(info.files) == 1:
            raise InputError("a single 2D DICOM image; a 3D volume is needed", path=path,
                             hint="open the folder holding the whole series")
        return (yield from read_dicom_series_job(path.parent, info, max_voxels()))
    raise InputError(f"unsupported file type '{suffix or path.name}'", path=path,
                     hint="open a DICOM folder or a .nii, .nii.gz, .nrrd, .mha or .mhd file")


def write_volume(volume: Volume, path: str | Path) -> Path:
    """Write a volume or label map (.nii, .nii.gz, .nrrd, .mha, .mhd with geometry) atomically; return the path."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix in NIFTI_SUFFIXES:
        import nibabel as nib

        img = nib.Nifti1Image(volume.array, volume.affine)
        # Both qform and sform say "scanner anatomical" so every reader agrees on the geometry.
        img.set_qform(volume.affine, code=1)
        img.set_sform(volume.affine, code=1)
        if isinstance(volume, LabelMap):
            img.header.set_intent("label")
        with atomic_path(path) as tmp:
            nib.save(img, str(tmp))
    elif suffix in (".nrrd", ".mha", ".mhd"):
        from medpriv_desktop.core.imaging.itk_formats import write_image

        # Atomic inside: a .mhd writes its .zraw first and the header last.
        write_image(path, volume_to_itk(volume))
    else:
        raise InputError(f"cannot write '{suffix}' files", path=path, hint="use .nii.gz, .nii, .nrrd or .mha")
    return path


def write_labelmap(labelmap: LabelMap, path: str | Path) -> Path:
    """Write a label map (uint8 when its values fit, else uint16) atomically in the given format."""
    arr = labelmap.array
    target = np.uint8 if arr.size == 0 or int(arr.max()) < 256 else np.uint16
    return write_volume(labelmap.with_array(arr.astype(target, copy=False)), path)


def read_labelmap(path: str | Path, labels: dict[int, str] | None = None) -> LabelMap:
    """Read a label map file (integer voxels) into a :class:`LabelMap`; ``labels`` names its values."""
    vol = read_volume(path, modality="OT")
    arr = vol.array
    if arr.dtype.kind == "f":
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise InputError("not a label map: the voxels are not whole numbers", path=path)
        arr = arr.astype(np.int32)
    if arr.size and arr.min() < 0:
        raise InputError("not a label map: negative voxel values", path=path)
    arr = arr.astype(np.uint8 if arr.size == 0 or arr.max() < 256 else np.uint16)
    vol.meta.pop("modality_guessed", None)
    return LabelMap(arr, vol.spacing, vol.origin, vol.direction, "OT", vol.meta, dict(labels or {}))
