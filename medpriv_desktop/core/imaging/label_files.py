"""Reading a segmentation onto an open study: a label map file (NIfTI, NRRD, MHA) or a DICOM SEG.

Writing both is :mod:`.export`; reading lives here beside it so the window, the CLI and a headless caller load a
saved segmentation the same way. Names and colours come from the ``<stem>_labels.json`` the exports write, else a
TotalSegmentator-style ``class_map.json`` beside the file; a DICOM SEG brings its own segment labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.volume import LabelMap, Volume
from medpriv_desktop.core.jobs import Job, Progress

_LABEL_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd")


def is_dicom_seg(path: Path) -> bool:
    """True when ``path`` is a DICOM file of modality SEG (header only; anything unreadable is not)."""
    if not Path(path).is_file():
        return False
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # noqa: BLE001 - any unreadable file is simply not a SEG
        return False
    return str(getattr(ds, "Modality", "")) == "SEG"


def labels_sidecar(path: Path) -> tuple[dict[int, str], dict[int, tuple[int, int, int]]]:
    """Names and colours from ``<stem>_labels.json`` beside a label map (as the exports write it)."""
    name = Path(path).name
    for suf in _LABEL_SUFFIXES:
        if name.lower().endswith(suf):
            name = name[: -len(suf)]
            break
    side = Path(path).with_name(f"{name}_labels.json")
    if not side.is_file():
        return {}, {}
    try:
        table = json.loads(side.read_text(encoding="utf-8"))
        names = {int(k): str(v["name"]) for k, v in table.items()}
        colors = {int(k): tuple(v["color"]) for k, v in table.items() if len(v.get("color") or ()) == 3}
        return names, colors  # type: ignore[return-value]
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}, {}


def class_map_names(folder: Path, modality: str) -> dict[int, str]:
    """Names from a TotalSegmentator-style ``class_map.json`` in ``folder`` (``total`` / ``total_mr``)."""
    f = Path(folder) / "class_map.json"
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
    except Exception:  # noqa: BLE001 - highdicom raises many types for a bad file; the user needs one message
        raise InputError("DICOM SEG is damaged or not supported", path=path) from None
    uids = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files]
    numbers = [int(d.SegmentNumber) for d in seg.SegmentSequence]
    try:
        frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=numbers,
                                                   combine_segments=True, relabel=False,
                                                   ignore_spatial_locations=True, assert_missing_frames_are_empty=True)
    except Exception:  # noqa: BLE001 - a SEG of another series fails in several ways inside highdicom
        raise InputError("the DICOM SEG does not reference this study's images", path=path,
                         hint="open the DICOM series the SEG was made from first") from None
    arr = np.ascontiguousarray(np.transpose(np.asarray(frames), (2, 1, 0))).astype(np.uint16)
    if arr.shape != volume.shape:
        raise InputError("the DICOM SEG's frames do not match the study's grid", path=path)
    names = {int(d.SegmentNumber): str(d.SegmentLabel) for d in seg.SegmentSequence}
    return LabelMap.like(volume, arr, names)


def read_segmentation_onto(path: Path, volume: Volume) -> Job[LabelMap]:
    """Read a label map file or a DICOM SEG onto the open study ``volume`` (its grid, orientation and modality).

    A label map whose position in space differs from the study's by more than 1 mm is still shown voxel by voxel,
    with a warning in ``meta["warnings"]``; a different grid is refused.
    """
    from medpriv_desktop.core.imaging.io import read_labelmap

    path = Path(path)
    yield Progress(None, f"reading {path.name}")
    if is_dicom_seg(path):
        return read_dicom_seg_onto(path, volume)
    names, colors = labels_sidecar(path)
    if not names:
        names = class_map_names(path.parent, volume.modality)
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
