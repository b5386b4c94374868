"""Readers for real data in the nnU-Net raw / Medical Segmentation Decathlon layout.

A dataset folder holds ``dataset.json`` plus ``imagesTr/`` (``case_0000.nii.gz``: case id + 4-digit channel) and
``labelsTr/`` (``case.nii.gz``); MSD's older ``dataset.json`` lists ``training: [{image, label}]`` and names the
labels ``{"0": "background", "1": "liver"}``, nnU-Net v2's names them ``{"background": 0, "liver": 1}`` and gives
``channel_names``. Both are read. Cases come back in RAS+ array order at their own spacing; the label names are
mapped onto the model's label set by name (our name or any of its TotalSegmentator names), unknown ones to 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from training.seg.labels import SEG_LABELS


@dataclass
class Case:
    """One case: image (float32, RAS+), optional label map (uint8, our label values), spacing (mm), modality."""

    case_id: str
    image: np.ndarray
    labels: np.ndarray | None
    spacing: tuple[float, float, float]
    modality: str


def _modality(meta: dict) -> str:
    names = meta.get("channel_names") or meta.get("modality") or {"0": "CT"}
    first = str(next(iter(names.values()))).upper()
    return "CT" if "CT" in first else "MR"


def _label_names(meta: dict) -> dict[int, str]:
    raw = meta.get("labels", {})
    out: dict[int, str] = {}
    for k, v in raw.items():
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit() and not k.isdigit()):
            out[int(v)] = k  # nnU-Net v2: name -> value
        elif isinstance(v, list):  # nnU-Net v2 region labels: skip (not one voxel value)
            continue
        else:
            out[int(k)] = str(v)
    return out


def label_lookup(names: dict[int, str]) -> np.ndarray:
    """Lookup table dataset value -> our segmentation value (0 for structures the model does not know)."""
    lut = np.zeros(max(list(names) + [0]) + 1, np.uint8)
    for value, name in names.items():
        key = name.strip().lower().replace(" ", "_")
        for lb in SEG_LABELS:
            if key == lb.name or key in lb.totalseg:
                lut[value] = lb.value
    return lut


def load_nifti_ras(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Array in RAS+ order (nibabel's closest canonical) and its voxel size."""
    import nibabel as nib

    try:
        img = nib.as_closest_canonical(nib.load(str(path)))
        arr = np.asarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for a bad file
        raise InputError(f"cannot read NIfTI ({exc.__class__.__name__})", path=path) from None
    if arr.ndim == 4:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise InputError(f"expected a 3D image, got {arr.ndim} dimensions", path=path)
    return arr, tuple(float(z) for z in img.header.get_zooms()[:3])


def iter_msd_cases(root: str | Path, with_labels: bool = True) -> Iterator[Case]:
    """Yield the training cases of an MSD / nnU-Net raw dataset folder (labels None when ``with_labels`` is False)."""
    root = Path(root)
    meta_path = root / "dataset.json"
    if not meta_path.is_file():
        raise InputError("not an nnU-Net raw / MSD dataset: dataset.json missing", path=root)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError("dataset.json is not valid JSON", path=meta_path) from None
    modality = _modality(meta)
    lut = label_lookup(_label_names(meta))
    ext = meta.get("file_ending", ".nii.gz")
    pairs: list[tuple[str, Path, Path | None]] = []
    if meta.get("training") and isinstance(meta["training"][0], dict):
        for item in meta["training"]:
            img = root / item["image"].lstrip("./")
            if not img.exists():  # MSD lists imagesTr/x.nii.gz while nnU-Net stores x_0000.nii.gz
                img = img.with_name(img.name.replace(ext, f"_0000{ext}"))
            lab = root / item["label"].lstrip("./") if item.get("label") else None
            pairs.append((img.name.replace(ext, "").removesuffix("_0000"), img, lab))
    else:
        for img in sorted((root / "imagesTr").glob(f"*_0000{ext}")):
            cid = img.name[: -len(f"_0000{ext}")]
            pairs.append((cid, img, root / "labelsTr" / f"{cid}{ext}"))
    if not pairs:
        raise InputError("no training cases found in imagesTr", path=root)
    for cid, img_path, lab_path in pairs:
        image, spacing = load_nifti_ras(img_path)
        labels = None
        if with_labels and lab_path is not None and lab_path.exists():
            raw, _ = load_nifti_ras(lab_path)
            raw = np.clip(raw.astype(np.int64), 0, len(lut) - 1)
            labels = lut[raw]
        yield Case(cid, image.astype(np.float32), labels, spacing, modality)
