"""Exports of a segmentation: label map files in the input's geometry, DICOM SEG, and a colour table.

- NIfTI (.nii.gz) and NRRD (.nrrd) through :func:`io.write_labelmap` (atomic, RAS+ converted where needed);
- DICOM SEG (highdicom, BINARY segments, one per structure present) when the input was a DICOM series: the SEG
  references the source images frame by frame, so a PACS viewer overlays it on the original series. Structures are
  coded as "Anatomical Structure" with the label name as segment label; algorithm = the model id and version.
- ``labels.json``: value -> name and colour, so any viewer can show the label map with the model's colours.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from medpriv_desktop import __version__
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_path, atomic_write_text
from medpriv_desktop.core.imaging.io import write_labelmap
from medpriv_desktop.core.imaging.volume import LabelMap
from medpriv_desktop.core.models.card import ModelCard

log = logging.getLogger(__name__)
LABELMAP_FORMATS = {"nii.gz": ".nii.gz", "nii": ".nii", "nrrd": ".nrrd", "mha": ".mha"}


def export_labelmap(labelmap: LabelMap, outdir: Path, stem: str, formats: tuple[str, ...] = ("nii.gz", "nrrd")
                    ) -> list[Path]:
    """Write the label map in each format (``stem`` + extension) plus ``<stem>_labels.json``; return the paths."""
    outdir = Path(outdir)
    paths = []
    for fmt in formats:
        if fmt not in LABELMAP_FORMATS:
            raise InputError(f"unknown label map format '{fmt}'", hint=f"choose from {', '.join(LABELMAP_FORMATS)}")
        paths.append(write_labelmap(labelmap, outdir / f"{stem}{LABELMAP_FORMATS[fmt]}"))
    table = {str(v): {"name": n, "color": list(labelmap.colors.get(v, ()))} for v, n in sorted(labelmap.labels.items())}
    lab_json = outdir / f"{stem}_labels.json"
    atomic_write_text(lab_json, json.dumps(table, indent=1) + "\n")
    paths.append(lab_json)
    return paths


def _rgb_to_cielab(rgb: tuple[int, int, int]):
    import highdicom as hd

    return hd.color.CIELabColor.from_rgb(*rgb) if hasattr(hd.color.CIELabColor, "from_rgb") else None


def _fill_sop_class(ds) -> None:
    """A blank or missing SOPClassUID taken from the file meta (see :func:`.dicom.sop_class`), in memory only: the
    SEG must name the class of every image it references."""
    from medpriv_desktop.core.imaging.dicom_series import sop_class

    cls = sop_class(ds)
    if cls and not str(getattr(ds, "SOPClassUID", "") or "").strip():
        ds.SOPClassUID = cls


def export_dicom_seg(labelmap: LabelMap, card: ModelCard, path: Path, deidentify=None) -> Path:
    """Write a DICOM SEG referencing the source series of ``labelmap`` (which must come from a DICOM read).

    With ``deidentify`` (a :class:`~medpriv_desktop.core.dicom_deid.exports.ExportDeidentifier`) the sources are
    de-identified in memory first, so the SEG carries their de-identified patient and study and references their
    de-identified UIDs; the SEG itself is then finished (own dates, UIDs, markers) by the same object.

    Raises :class:`InputError` when the input was not DICOM, when the label map is not on the source grid, or when
    the source images lack the UIDs a SEG must reference.
    """
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    files = labelmap.meta.get("dicom_files")
    if labelmap.meta.get("source_format") != "dicom" or not files:
        raise InputError("DICOM SEG needs a DICOM input series", path=path)
    if len(files) != labelmap.shape[2]:
        raise InputError("label map is not on the grid of its DICOM series", path=path)
    sources = [pydicom.dcmread(f, stop_before_pixels=False) for f in files]
    for ds in sources:
        _fill_sop_class(ds)
    if deidentify is not None:
        sources = deidentify.sources(sources, files)
    missing = [t for t in ("SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
               if not str(getattr(sources[0], t, "") or "").strip()]
    if missing:
        raise InputError(f"the source DICOM lacks {', '.join(missing)} (anonymised?); a DICOM SEG cannot reference "
                         "it", path=Path(files[0]).parent, hint="use the NIfTI/NRRD label map instead")
    present = labelmap.present_values()
    if not present:
        raise InputError("the segmentation is empty; no DICOM SEG written", path=path)
    # Segment numbers must run 1..n: map present label values onto them.
    seg_number = {v: i + 1 for i, v in enumerate(present)}
    lut = np.zeros(int(labelmap.array.max()) + 1, np.uint16)
    for v, s in seg_number.items():
        lut[v] = s
    # Our array is [column, row, slice]; highdicom wants [frame, row, column] in the order of ``sources``.
    frames = np.ascontiguousarray(np.transpose(lut[labelmap.array], (2, 1, 0)))
    algo = hd.AlgorithmIdentificationSequence(name=card.id[:64], version=card.version,
                                              family=codes.cid7162.ArtificialIntelligence)
    descriptions = []
    for v in present:
        name = labelmap.labels.get(v, f"label_{v}")
        kw = {}
        color = labelmap.colors.get(v)
        if color:
            lab = _rgb_to_cielab(tuple(color))
            if lab is not None:
                kw["display_color"] = lab
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=seg_number[v], segment_label=name[:64], segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.AnatomicalStructure, algorithm_type="AUTOMATIC",
            algorithm_identification=algo, **kw))
    try:
        seg = hd.seg.Segmentation(
            source_images=sources, pixel_array=frames, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=900,
            sop_instance_uid=hd.UID(), instance_number=1, manufacturer="MedPriv Desktop",
            manufacturer_model_name=card.id[:64], software_versions=__version__, device_serial_number="0",
            content_label="SEGMENTATION", content_description=f"{card.title}"[:64], omit_empty_frames=True)
    except Exception as exc:  # noqa: BLE001 - highdicom raises many kinds; the SEG is an optional extra output
        # highdicom refuses source images whose attributes a SEG cannot reference (an unknown SOP class, a
        # missing module...): the label map files are the result; the SEG is reported as not made.
        raise InputError(f"the source DICOM cannot be referenced by a DICOM SEG ({type(exc).__name__})",
                         path=Path(files[0]).parent, hint="use the NIfTI/NRRD label map instead") from None
    if deidentify is not None:
        seg = deidentify.derived(seg)
    with atomic_path(path) as tmp:
        seg.save_as(str(tmp))
    return path
