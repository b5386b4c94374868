"""De-identified exports of a segmentation: DICOM SEG, label map, statistics, meshes, with pseudonymous names.

A DICOM SEG copies the patient and study modules of its source images (highdicom does that by design) and
references them by UID. :class:`ExportDeidentifier` de-identifies the source datasets *in memory* with the same
session as ``medpriv deid-dicom`` (same key, profile, pseudonyms, date offset and UID mapping), so the SEG carries the
de-identified patient and study and references exactly the UIDs ``deid-dicom`` gives that series: a SEG exported
with ``--deidentify`` from the original overlays the de-identified copy. The SEG's own dates (creation, content: the
day of the export) are shifted by the patient's offset like every other date, its own UIDs (highdicom's random ones)
are remapped into the ``2.25.`` form, and it is marked de-identified with the profile's codes.

File names are pseudonymous (``series-<hash>`` of the de-identified Series Instance UID, or ``image-<keyed hash>``
for a file input) and nothing written holds the source path: label maps carry geometry only (NIfTI ``descrip`` and
``aux_file`` empty, NRRD/MHA headers without comments), statistics name structures and the model only, meshes are
geometry and structure names only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medpriv_desktop.core.dicom_deid.instance import mark_deidentified, rebuild_file_meta, source_identity
from medpriv_desktop.core.dicom_deid.profile import Profile
from medpriv_desktop.core.dicom_deid.session import DeidSession
from medpriv_desktop.core.dicom_deid.uids import is_class_uid, looks_remapped
from medpriv_desktop.core.jobs import Job, Progress

#: Type 2 attributes of the Patient and General Study modules a SEG copies from its sources (added empty if absent).
_TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                 "ReferringPhysicianName", "StudyID", "AccessionNumber")
#: Dates of a derived object that are its own (the export's day), shifted like the patient's other dates.
_OWN_DATES = ("InstanceCreationDate", "ContentDate", "SeriesDate")


def _content_mac(key: bytes, path: Path) -> str:
    """The same keyed content hash ``deid-dicom`` uses for a file (a stand-in for a blank SOP Instance UID)."""
    from medpriv_desktop.core.resume import RunManifest

    return RunManifest(Path(path), "content", key, Path(path)).mac_file(Path(path))


class ExportDeidentifier:
    """De-identifies what an export copies from its source series and names exports pseudonymously."""

    def __init__(self, profile: Profile | None = None, key: bytes | None = None, session: DeidSession | None = None,
                 stem: str | None = None) -> None:
        self.session = session or DeidSession(profile, key)
        self.stem = stem or "export"
        self.patient: str | None = None

    @classmethod
    def for_volume(cls, meta: dict[str, Any], path: Path | None = None, profile: Profile | None = None,
                   key: bytes | None = None) -> ExportDeidentifier:
        """For a volume's (or label map's) ``meta``: a DICOM series by its first file, any other input by its path."""
        self = cls(profile, key)
        files = meta.get("dicom_files") or []
        if meta.get("source_format") == "dicom" and files:
            from medpriv_desktop.core.imaging.dicom_series import read_header

            ident = source_identity(read_header(Path(files[0])), _content_mac(self.session.key, Path(files[0])))
            self.stem = self.session.export_stem(ident)
        else:
            where = str(path if path is not None else meta.get("source_path", "image"))
            mac = hmac.new(self.session.key, f"export-stem|{where}".encode("utf-8", "surrogateescape"),
                           hashlib.sha256).hexdigest()
            self.stem = f"image-{mac[:10]}"
        return self

    def sources(self, datasets: list[Any], files: list[Path]) -> list[Any]:
        """De-identify the source datasets of a SEG in memory (``files`` are where they were read from)."""
        for ds, f in zip(datasets, files):
            ident = source_identity(ds, _content_mac(self.session.key, Path(f)))
            self.patient = self.session.deidentify(ds, ident)
            for keyword in _TYPE2_COPIED:  # a SEG copies these; present but empty is what the IOD allows
                if keyword not in ds:
                    setattr(ds, keyword, "")
        return datasets

    def derived(self, ds: Any) -> Any:
        """Finish a derived object (a SEG) made from de-identified sources: its own dates, UIDs, markers, meta."""
        from medpriv_desktop.core.dicom_deid.actions import clean_element

        ctx = self.session.context(self.patient or "")
        for keyword in _OWN_DATES:
            elem = ds.data_element(keyword) if keyword in ds else None
            if elem is None or not elem.value:
                continue
            if self.session.profile.shifts_dates:
                clean_element(elem, ctx)
            else:
                elem.value = "19000101"
        self._own_uids(ds)
        self._own_attributes(ds)
        mark_deidentified(ds, self.session.profile)
        rebuild_file_meta(ds)
        return ds

    def _own_attributes(self, ds: Any, top: bool = True) -> None:
        """The profile on what the exporter wrote itself (its equipment, contributions): X removed, a non-empty Z or
        D attribute given the VR's dummy (a SEG's Type 1 equipment attributes must stay present)."""
        from medpriv_desktop.core.dicom_deid.actions import MARKERS, PATIENT_ID, PATIENT_NAME, planned_action
        from medpriv_desktop.core.dicom_deid.profile import dummy_for

        for elem in list(ds):
            tag = int(elem.tag)
            if elem.tag.is_private or elem.VR in ("UI", "DA", "DT", "TM") or tag in (PATIENT_NAME, PATIENT_ID) \
                    or (top and tag in MARKERS):
                continue
            if elem.VR == "SQ":
                for item in elem.value or []:
                    self._own_attributes(item, top=False)
                continue
            action = planned_action(tag, elem.VR, self.session.profile)
            if action == "X":
                del ds[elem.tag]
            elif action in ("Z", "D") and elem.value not in (None, "", b"") and dummy_for(elem.VR) is not None:
                elem.value = dummy_for(elem.VR)

    def _own_uids(self, ds: Any) -> None:
        """Remap the UIDs the exporter made itself (every instance UID not yet in the remapped form)."""
        for elem in ds.iterall():
            if elem.VR != "UI" or not elem.value:
                continue
            values = list(elem.value) if type(elem.value).__name__ == "MultiValue" else [elem.value]
            keep = [is_class_uid(elem.keyword or "", str(v)) or looks_remapped(str(v)) for v in values]
            new = [v if k else self.session.uids(str(v)) for v, k in zip(values, keep)]
            elem.value = new if len(new) != 1 else new[0]


def export_deidentified_job(labelmap: Any, volume: Any, card: Any, outdir: Path,
                            mesh_writer: Callable[[Any, Path], list[Path]] | None = None,
                            profile: Profile | None = None) -> Job[list[Path]]:
    """Write a de-identified DICOM SEG (DICOM input), a NIfTI label map, statistics and (with ``mesh_writer``)
    meshes into ``outdir`` under pseudonymous names; returns the written paths."""
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.imaging.export import export_dicom_seg, export_labelmap
    from medpriv_desktop.core.imaging.stats import structure_stats, write_stats

    outdir = Path(outdir)
    yield Progress(0.05, "de-identifying the headers")
    deid = ExportDeidentifier.for_volume(labelmap.meta, profile=profile)
    written: list[Path] = []
    yield Progress(0.2, "writing the label map")
    written += export_labelmap(labelmap, outdir, f"{deid.stem}_seg", ("nii.gz",))
    if labelmap.meta.get("source_format") == "dicom" and card is not None:
        yield Progress(0.4, "writing the DICOM SEG")
        try:
            written.append(export_dicom_seg(labelmap, card, outdir / f"{deid.stem}_seg.dcm", deidentify=deid))
        except InputError:
            pass  # an empty segmentation or a source a SEG cannot reference: the other exports still stand
    yield Progress(0.6, "statistics")
    stats = structure_stats(labelmap, volume)
    csv_path, json_path = outdir / f"{deid.stem}_stats.csv", outdir / f"{deid.stem}_stats.json"
    write_stats(stats, csv_path, json_path, {"model_id": card.id if card is not None else None, "deidentified": True})
    written += [csv_path, json_path]
    if mesh_writer is not None:
        yield Progress(0.7, "meshing structures")
        written += mesh_writer(labelmap, outdir / f"{deid.stem}_meshes")
    yield Progress(1.0, "done")
    return written
