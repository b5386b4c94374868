"""DICOM discovery: which series a folder or a DICOMDIR holds, from the headers only (no pixel data is read).

Confinement and bounds: only regular files are opened (a FIFO in a study folder is skipped, never waited on); links
that lead outside the folder being read are not followed (counted in the series' warnings); a DICOMDIR is read
through its records, and a record naming a file outside the DICOMDIR's folder refuses the whole DICOMDIR. Reads are
capped at each file's size (a damaged length field cannot make pydicom allocate gigabytes). Logs hold counts, never
file names (they are PHI). :mod:`.dicom` reads a chosen series into a volume and re-exports these names.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.safe_read import UnsafeFileError, confined_path, open_capped, open_regular

log = logging.getLogger(__name__)

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
    #: Facts about how the files were found (e.g. links not followed); copied into the volume's warnings.
    warnings: list[str] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """One line for a person choosing a series."""
        num = f"#{self.series_number} " if self.series_number is not None else ""
        return (f"{self.uid}  {num}{self.modality} {self.n_slices} images {self.rows}x{self.columns}  "
                f"{self.description or '(no description)'}")


def _is_dicom_file(path: Path) -> bool:
    try:
        with open_regular(path) as fh:
            head = fh.read(132)
    except (OSError, UnsafeFileError):
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


#: Every element the readers look at: decoded when the header is read, so a damaged value fails there, once.
_USED_KEYWORDS = ("SOPClassUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SeriesNumber", "SeriesDescription",
                  "Modality", "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "BitsAllocated",
                  "ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing", "RescaleSlope",
                  "RescaleIntercept", "PatientName", "PatientID", "StudyInstanceUID", "SOPInstanceUID")


def read_header(path: Path):
    """A DICOM file's header (no pixel data), read capped at the file's size, with every element the readers use
    decoded now (a bad VR or value raises here, not later at an attribute access). Raises what pydicom raises."""
    import pydicom

    with open_capped(path) as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
    for keyword in _USED_KEYWORDS:
        ds.get(keyword)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        meta.get("MediaStorageSOPClassUID")
        meta.get("TransferSyntaxUID")
    return ds


def sop_class(ds) -> str:
    """The SOP Class UID, taken from the file meta (MediaStorageSOPClassUID, the same class by the standard) when
    the dataset's own is blank or missing, as anonymisers leave it; "" when neither says."""
    own = str(getattr(ds, "SOPClassUID", "") or "").strip()
    if own:
        return own
    return str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "") or "").strip()


def _int_tag(ds, name: str, default: int | None = None) -> int | None:
    """An integer tag's value, ``default`` when absent or blank, None when it is not a whole number."""
    value = getattr(ds, name, None)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _series_key(ds) -> str:
    uid = str(getattr(ds, "SeriesInstanceUID", "") or "").strip()
    if uid:
        return uid
    # Anonymised exports sometimes blank the UID: group by what still tells series apart and say so in the key.
    parts = [str(getattr(ds, k, "")) for k in ("FrameOfReferenceUID", "SeriesNumber", "SeriesDescription",
                                                 "Modality", "Rows", "Columns")]
    try:
        parts.append(",".join(f"{float(v):.4f}" for v in getattr(ds, "ImageOrientationPatient", []) or []))
    except (TypeError, ValueError):
        parts.append("?")  # a damaged orientation is reported when the series is read, not here
    return "nouid-" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def _walk_files(folder: Path) -> tuple[list[Path], int]:
    """Candidate files under ``folder`` (recursively, links to folders not followed), and how many links were
    skipped because they lead outside ``folder``."""
    files, outside = [], 0
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            p = Path(root) / name
            if name in _SKIP_NAMES:
                continue
            if p.is_symlink():
                try:
                    confined_path(p, folder)
                except UnsafeFileError:
                    outside += 1
                    continue
            files.append(p)
    return files, outside


def _group_series(files: list[Path]) -> list[SeriesInfo]:
    """Group DICOM image files into series, largest first; other files (not DICOM, damaged, non-image) skipped."""
    groups: dict[str, SeriesInfo] = {}
    unreadable = 0
    for p in files:
        if not _is_dicom_file(p):  # also False for FIFOs, devices and folders: nothing blocks
            continue
        try:
            ds = read_header(p)
        except MemoryError:
            raise
        except Exception:  # a damaged file among good ones is skipped, not fatal
            unreadable += 1
            continue
        if "PixelData" not in ds and not hasattr(ds, "Rows"):
            continue  # SR, presentation states and other non-image objects
        key = _series_key(ds)
        info = groups.get(key)
        if info is None:
            num = _int_tag(ds, "SeriesNumber")
            info = groups[key] = SeriesInfo(
                uid=key, description=str(getattr(ds, "SeriesDescription", "") or ""),
                modality=str(getattr(ds, "Modality", "OT") or "OT"), n_slices=0,
                rows=_int_tag(ds, "Rows", 0) or 0, columns=_int_tag(ds, "Columns", 0) or 0, series_number=num)
        info.files.append(p)
        info.n_slices += max(_int_tag(ds, "NumberOfFrames", 1) or 1, 1)
    if unreadable:
        log.warning("skipped %d unreadable DICOM files", unreadable)  # a count: file names are PHI
    return sorted(groups.values(), key=lambda s: (-s.n_slices, s.uid))


def list_dicom_series(folder: str | Path) -> list[SeriesInfo]:
    """Every image series in ``folder`` (searched recursively), largest first. Files that are not DICOM are ignored.

    Links that lead outside ``folder`` are not followed; their number is in each series' ``warnings``.
    """
    folder = Path(folder)
    files, outside = _walk_files(folder)
    series = _group_series(files)
    if outside:
        log.warning("did not follow %d links leading outside the study folder", outside)
        for s in series:
            s.warnings.append(f"{outside} link(s) in the folder lead outside it and were not followed")
    return series


def dicomdir_series(dicomdir: str | Path) -> list[SeriesInfo]:
    """The image series a DICOMDIR references, each file confined to the DICOMDIR's folder.

    A record whose ReferencedFileID leaves the folder (``..``, an absolute name, a link leading out) refuses the
    whole DICOMDIR with one :class:`InputError`: such a DICOMDIR was made to read something else.
    """
    import pydicom

    dicomdir = Path(dicomdir)
    try:
        with open_capped(dicomdir) as fh:
            ds = pydicom.dcmread(fh, stop_before_pixels=True)
        records = list(ds.get("DirectoryRecordSequence") or [])
    except MemoryError:
        raise
    except Exception:
        raise InputError("the DICOMDIR is damaged or not a DICOMDIR", path=dicomdir) from None
    root = dicomdir.parent
    files: dict[Path, None] = {}
    missing = 0
    for rec in records:
        try:
            file_id = rec.get("ReferencedFileID")
        except Exception:
            raise InputError("the DICOMDIR is damaged or not a DICOMDIR", path=dicomdir) from None
        parts = _file_id_parts(file_id, dicomdir)
        if not parts:
            continue
        target = root.joinpath(*parts)
        if not target.exists() and root.joinpath(*(p.lower() for p in parts)).exists():
            target = root.joinpath(*(p.lower() for p in parts))  # media written on a case-insensitive system
        if not target.exists():
            missing += 1
            continue
        try:
            confined_path(target, root)
        except UnsafeFileError:
            raise InputError("the DICOMDIR refers to a file outside its folder", path=dicomdir,
                             hint="open the folder of images instead") from None
        files[target] = None
    if missing:
        log.warning("%d files referenced by a DICOMDIR are missing", missing)
    series = _group_series(list(files))
    if not series:
        raise InputError("the DICOMDIR references no readable DICOM images", path=dicomdir,
                         hint="open the folder of images instead")
    return series


def _file_id_parts(element, dicomdir: Path) -> list[str]:
    """The path components of a ReferencedFileID; a component that could leave the folder is refused."""
    if element is None:
        return []
    value = element.value if hasattr(element, "value") else element
    parts = [value] if isinstance(value, (str, bytes)) else list(value or [])
    parts = [p.decode("latin-1") if isinstance(p, bytes) else str(p) for p in parts]
    for p in parts:
        if p.strip() in ("", ".", "..") or any(c in p for c in "/\\:\0"):
            raise InputError("the DICOMDIR refers to a file outside its folder", path=dicomdir,
                             hint="open the folder of images instead")
    return [p.strip() for p in parts]


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
