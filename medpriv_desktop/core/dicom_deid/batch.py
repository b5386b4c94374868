"""``deid-dicom`` as a job: every DICOM file of a folder (recursively) de-identified into an output folder; resumable.

Layout: ``OUT/patient-<keyed>/study-<hash>/series-<hash>/<hash>.dcm`` (:mod:`.session`), plus ``OUT/deid_report.json``
(counts and reasons, new UIDs of held-back instances, never a source value or path). Instances the burned-in screen
(:mod:`.burned_in`) holds back are not written (refused), or with ``quarantine`` written de-identified into
``OUT-quarantine/`` beside the output (never inside it, so releasing ``OUT`` never releases them); ``allow_burned_in``
writes them like any other and lists them in the report.

Resuming works like the notes batch (``core/resume.py``): a run manifest in ``OUT`` holds keyed hashes of the inputs,
the options that change outputs (profile, patient mapping, burned-in policy, descriptor cleaner) and of every
finished output, written before the output is renamed into place. A rerun skips exactly the outputs whose bytes the
manifest vouches for, refuses other inputs or options, and refuses an output folder holding files it did not write;
``restart`` deletes what an earlier run wrote (only that). Every output is a pure function of the input, the options
and the key, so an interrupted and resumed run gives the same bytes as an uninterrupted one.

Files that are not DICOM, damaged, or images without pixel data are reported one by one (path for the user, a keyed
reference in the log) and the others go on; a DICOMDIR (a media index full of names) is skipped, not copied.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.dicom_deid.burned_in import burned_in_reason
from medpriv_desktop.core.dicom_deid.instance import source_identity
from medpriv_desktop.core.dicom_deid.outputs import (QUARANTINE_PREFIX, quarantine_dir, remove_vouched,
                                                     scan_outputs, walk_inputs)
from medpriv_desktop.core.dicom_deid.patients import PatientMap
from medpriv_desktop.core.dicom_deid.profile import Profile
from medpriv_desktop.core.dicom_deid.session import DeidSession
from medpriv_desktop.core.dicom_deid.table import TABLE_SOURCE
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_write_bytes
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.logging import path_ref
from medpriv_desktop.core.outputs import Output, check_paths
from medpriv_desktop.core.resume import FOLDER_MANIFEST, RunManifest, refuse_unknown

log = logging.getLogger(__name__)
REPORT_NAME = "deid_report.json"
REPORT_FORMAT = "medpriv-dicom-deid-report/1"
JOB = "dicom.deid.folder"


@dataclass
class DicomDeidOptions:
    """What changes the outputs of a run besides the inputs and the key."""

    profile: Profile = field(default_factory=Profile)
    patient_mapping: Path | None = None
    quarantine: bool = False
    allow_burned_in: bool = False


@dataclass
class DicomDeidSummary:
    """What a run did: counts, held-back instances by new UID and reason, failures (path + reason, for the user)."""

    profile: Profile
    files: int = 0
    written: int = 0
    already_done: int = 0
    held: list[dict[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    patients: set[str] = field(default_factory=set, repr=False)
    studies: set[str] = field(default_factory=set, repr=False)
    series: set[str] = field(default_factory=set, repr=False)
    unplaced: int = 0
    patient_source: str = "patient-id"
    actions: collections.Counter = field(default_factory=collections.Counter)

    def count(self, outcome: str) -> int:
        """How many instances were held back with ``outcome`` (refused, quarantined, allowed)."""
        return sum(1 for h in self.held if h["outcome"] == outcome)

    def as_audit_fields(self) -> dict[str, Any]:
        """Counts for the audit log: no paths, no values, no UIDs."""
        return {"method": self.profile.name, "options": {c: True for c in self.profile.codes},
                "files": self.files, "written": self.written, "already_done": self.already_done,
                "refused": self.count("refused"), "quarantined": self.count("quarantined"),
                "burned_in_allowed": self.count("allowed"), "failed": len(self.failed), "skipped": self.skipped,
                "patients": len(self.patients), "studies": len(self.studies), "series": len(self.series),
                "unplaced": self.unplaced, "patient_source": {self.patient_source: True}}

    def report(self) -> dict[str, Any]:
        """The report written into the output folder: the same for an interrupted-and-resumed run as for one go."""
        reasons = collections.Counter(h["reason"] for h in self.held)
        fail_reasons = collections.Counter(r for _, r in self.failed)
        return {"format": REPORT_FORMAT, "table": TABLE_SOURCE, "profile": self.profile.name,
                "options": self.profile.codes, "method": self.profile.method_text(),
                "counts": {"files": self.files, "written": self.written + self.already_done,
                           "refused": self.count("refused"), "quarantined": self.count("quarantined"),
                           "burned_in_allowed": self.count("allowed"), "failed": len(self.failed),
                           "skipped_dicomdir": self.skipped, "patients": len(self.patients),
                           "studies": len(self.studies), "series": len(self.series), "unplaced": self.unplaced},
                "held_back_reasons": dict(sorted(reasons.items())),
                "held_back": sorted(self.held, key=lambda h: (h["outcome"], h["series"], h["instance"])),
                "failed_reasons": dict(sorted(fail_reasons.items()))}


def _read(path: Path) -> Any:
    """The whole dataset of a DICOM file, or :class:`InputError` with one reason (the caller names the file)."""
    import pydicom

    from medpriv_desktop.core.imaging.dicom_series import _is_dicom_file
    from medpriv_desktop.core.imaging.safe_read import open_capped

    if not _is_dicom_file(path):
        raise InputError("not a DICOM file (no DICM marker after the 128-byte preamble)", path=path)
    try:
        with warnings.catch_warnings():  # pydicom's warnings may quote values of the file
            warnings.simplefilter("ignore")
            with open_capped(path) as fh:
                ds = pydicom.dcmread(fh)
            short = _short_value(ds)
            for elem in ds.iterall():  # decode every value now: a damaged one fails here, with this file's name
                _ = elem.value
    except MemoryError:
        raise
    except Exception:
        short = True
    if short:
        raise InputError("the DICOM file is damaged or truncated", path=path)
    return ds


def _short_value(ds: Any) -> bool:
    """True when a top-level element holds fewer bytes than its length says (pydicom stops silently at the end of a
    truncated file)."""
    for raw in ds._dict.values():
        length, value = getattr(raw, "length", None), getattr(raw, "value", None)
        if isinstance(value, bytes) and length is not None and length != 0xFFFFFFFF and len(value) < length:
            return True
    return False


def _missing_pixels(ds: Any) -> bool:
    """True for an image (it has Rows, or its SOP class is an image storage class) that holds no pixel data."""
    from pydicom.uid import UID

    from medpriv_desktop.core.imaging.dicom_series import sop_class

    has_pixels = any(t in ds for t in (0x7FE00010, 0x7FE00008, 0x7FE00009))
    cls = sop_class(ds)
    image_class = bool(cls) and "Image Storage" in (UID(cls).name or "")
    return ("Rows" in ds or image_class) and not has_pixels


def _manifest_options(options: DicomDeidOptions, manifest: RunManifest) -> dict[str, Any]:
    mapping = options.patient_mapping
    return {"profile": [options.profile.name, sorted(options.profile.columns)],
            "patient mapping": manifest.mac_file(mapping) if mapping is not None else None,
            "burned-in policy": {"quarantine": options.quarantine, "allow": options.allow_burned_in}}


def deidentify_dicom_folder(input_dir: Path, output_dir: Path, options: DicomDeidOptions | None = None,
                            cleaner_factory: Callable[[], Any] | None = None, restart: bool = False,
                            key: bytes | None = None) -> Job[DicomDeidSummary]:
    """De-identify every DICOM file under ``input_dir`` into ``output_dir`` (module docstring); resumable.

    ``cleaner_factory`` makes the descriptor cleaner (a callable text -> text with a ``ref`` dict naming the detector)
    when the profile cleans descriptors; it is called once, after the inputs and options are checked.
    """
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    options = options or DicomDeidOptions()
    if not input_dir.is_dir():
        raise InputError("input folder does not exist or is not a folder", path=input_dir)
    patients = PatientMap(options.patient_mapping)  # a bad mapping fails before any output
    qdir = quarantine_dir(output_dir) if options.quarantine else None
    check_paths([input_dir, options.patient_mapping],
                [Output(output_dir, folder=True)] + ([Output(qdir, folder=True, option="quarantine")] if qdir else []))
    files = walk_inputs(input_dir)
    if not files:
        raise InputError("no files in the input folder", path=input_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if key is None:
        from medpriv_desktop.core.keys import load_key

        key = load_key("deid")
    manifest = RunManifest.open(output_dir / FOLDER_MANIFEST, JOB, where=output_dir, key=key)
    if restart:
        remove_vouched(manifest, output_dir, qdir)
        manifest.discard()
    macs = {rel: manifest.mac_file(p) for rel, p in files}
    manifest.expect(inputs=macs, options=_manifest_options(options, manifest))
    state = scan_outputs(manifest, output_dir, qdir)
    refuse_unknown(state, output_dir)
    cleaner = None
    if options.profile.clean_descriptors:
        yield Progress(0.0, "loading the descriptor cleaner")
        if cleaner_factory is None:
            raise InputError("cleaning descriptors needs the notes de-identifier, and none was given")
        cleaner = cleaner_factory()
        manifest.expect(options={"descriptor cleaner": getattr(cleaner, "ref", None)})
    manifest.begin()
    session = DeidSession(options.profile, key=key, patients=patients, clean_text=cleaner)
    summary = DicomDeidSummary(options.profile, files=len(files), patient_source=patients.source)
    names: set[str] = set()
    for i, (rel, path) in enumerate(files):
        yield Progress(i / len(files), f"file {i + 1}/{len(files)}")
        if path.name.upper() == "DICOMDIR":
            summary.skipped += 1
            continue
        with warnings.catch_warnings():  # pydicom's warnings may quote values of the file
            warnings.simplefilter("ignore")
            try:
                ds = _read(path)
                if _missing_pixels(ds):
                    raise InputError("the DICOM image holds no pixel data", path=path)
            except InputError as exc:
                summary.failed.append((str(path), exc.reason))
                log.warning("DICOM file not de-identified: %s: %s", path_ref(path), exc.reason)
                continue
            _one(ds, rel, path, macs[rel], session, options, summary, manifest, state.done, names, output_dir, qdir)
    summary.unplaced = len(patients.unplaced)
    summary.actions.update(session.counts)
    data = (json.dumps(summary.report(), indent=1, sort_keys=True) + "\n").encode("utf-8")
    manifest.record_output(REPORT_NAME, data)
    atomic_write_bytes(output_dir / REPORT_NAME, data)
    yield Progress(1.0, "done")
    return summary


def _one(ds: Any, rel: str, path: Path, mac: str, session: DeidSession, options: DicomDeidOptions,
         summary: DicomDeidSummary, manifest: RunManifest, done: set[str], names: set[str], output_dir: Path,
         qdir: Path | None) -> None:
    """Screen, de-identify and write one instance (or hold it back / count it as done)."""
    ident = source_identity(ds, mac)
    patient = session.patient(ident)
    name = session.output_name(ident, patient)
    if name in names:
        summary.failed.append((str(path), "another file of the input has the same SOP Instance UID"))
        return
    names.add(name)
    new_series, new_instance = session.uids(ident.series), session.uids(ident.instance)
    reason = burned_in_reason(ds)
    outcome = None
    if reason is not None:
        outcome = "allowed" if options.allow_burned_in else "quarantined" if qdir is not None else "refused"
        summary.held.append({"outcome": outcome, "reason": reason, "series": new_series, "instance": new_instance})
        if outcome == "refused":
            return
    summary.patients.add(patient)
    summary.studies.add(session.uids(ident.study))
    summary.series.add(new_series)
    target_name = (QUARANTINE_PREFIX + name) if outcome == "quarantined" else name
    if target_name in done:
        summary.already_done += 1
        return
    session.deidentify(ds, ident, patient)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    target = (qdir if outcome == "quarantined" else output_dir) / Path(*name.split("/"))
    manifest.record_output(target_name, data)  # before the rename: a kill in between only redoes this file
    os.makedirs(target.parent, exist_ok=True)
    atomic_write_bytes(target, data)
    summary.written += 1
