"""``deid-dicom --verify OUT_DIR [--source IN_DIR]``: find anything left that the profile says must go.

Each DICOM file under the folder is checked against the profile it records (DeidentificationMethodCodeSequence),
every element in every item of every sequence:

* ``PatientIdentityRemoved`` must be YES and the method code sequence present;
* an attribute whose action is X must be absent; Z or D empty or the dummy value of its VR (Z allows a dummy);
* no curve or overlay group, no private element outside the safe list (or any, without Retain Safe Private);
* every UID that names an instance must have the form the remapping makes (``2.25.`` + at most 39 digits).

With ``source`` (the input folder; needs the site's ``deid`` key, never created here) each source instance is paired
with its output through the keyed UID mapping, and these are also problems: any source UID left anywhere in the
output; a date (DA, DT) equal to its source value at the same place when the profile shifts dates; and any
identifying source value (names, IDs, addresses, institution, station... every text the profile removes, empties or
replaces, descriptions excepted) found in any text element of the output.

The result is one line per problem class with the number of files and the attribute keywords (private tags as
``(gggg,eeee)``), never a value. Files that are not DICOM (the run's report and manifest aside) are a problem too.
"""

from __future__ import annotations

import collections
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.dicom_deid.actions import MARKERS, PATIENT_ID, PATIENT_NAME, TEXT_VRS, planned_action
from medpriv_desktop.core.dicom_deid.profile import Profile, dummy_for
from medpriv_desktop.core.dicom_deid.safe_private import is_safe
from medpriv_desktop.core.dicom_deid.table import is_curve_or_overlay, row_for
from medpriv_desktop.core.dicom_deid.uids import UidMapper, is_class_uid, looks_remapped
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress

IGNORED_NAMES = frozenset({"deid_report.json", ".medpriv-run.jsonl"})
_ID_VRS = TEXT_VRS | {"PN", "AE"}


@dataclass
class VerifyResult:
    """Problems by class: the files and the attribute keywords involved (never values)."""

    files: int = 0
    paired: int = 0
    files_by_class: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    keywords_by_class: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))

    def add(self, problem: str, file: str, keyword: str) -> None:
        """Note one problem of ``problem``'s class in ``file`` at attribute ``keyword``."""
        self.files_by_class[problem].add(file)
        if keyword:
            self.keywords_by_class[problem].add(keyword)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.files_by_class

    def lines(self, max_keywords: int = 12) -> list[str]:
        """One line per problem class: the class, how many files, which attributes."""
        out = []
        for problem in sorted(self.files_by_class):
            kws = sorted(self.keywords_by_class.get(problem, ()))
            more = f", +{len(kws) - max_keywords} more" if len(kws) > max_keywords else ""
            names = f" ({', '.join(kws[:max_keywords])}{more})" if kws else ""
            out.append(f"{problem}: {len(self.files_by_class[problem])} files{names}")
        return out


def _keyword(elem: Any) -> str:
    return elem.keyword or f"({elem.tag.group:04X},{elem.tag.element:04X})"


def _values(elem: Any) -> list[str]:
    value = elem.value
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    if isinstance(value, bytes):
        return []
    return [str(value)]


def _empty(elem: Any) -> bool:
    value = elem.value
    return value is None or value == "" or value == b"" or (isinstance(value, (list, tuple)) and len(value) == 0) \
        or (type(value).__name__ in ("MultiValue", "Sequence") and len(value) == 0)


def _read(path: Path) -> Any:
    import pydicom

    from medpriv_desktop.core.imaging.safe_read import open_capped

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_capped(path) as fh:
            return pydicom.dcmread(fh, stop_before_pixels=True)


def profile_of(ds: Any) -> Profile | None:
    """The profile a de-identified dataset records (None when it records none)."""
    seq = ds.get("DeidentificationMethodCodeSequence")
    codes = [str(item.get("CodeValue", "")) for item in (seq or [])]
    return Profile.from_codes(codes) if "113100" in codes else None


def check_dataset(ds: Any, profile: Profile, name: str, result: VerifyResult, top: bool = True) -> None:
    """Record every problem of ``ds`` (recursively) under ``profile``."""
    for elem in ds:
        tag = int(elem.tag)
        kw = _keyword(elem)
        if elem.tag.is_private:
            if 0x10 <= elem.tag.element <= 0xFF:
                continue
            if not (profile.safe_private and is_safe(ds, elem.tag, elem)):
                result.add("private tag outside the safe list", name, kw)
            continue
        if is_curve_or_overlay(tag):
            result.add("curve or overlay data present", name, kw)
            continue
        if (top and tag in MARKERS) or tag in (PATIENT_NAME, PATIENT_ID):
            continue
        action = planned_action(tag, elem.VR, profile)
        if action == "X":
            result.add("attribute the profile removes is present", name, kw)
            continue
        not_dummy = elem.VR not in ("SQ", "UI") and not _empty(elem) and any(
            v != str(dummy_for(elem.VR)) for v in _values(elem))
        if action == "Z" and (not_dummy or (elem.VR == "SQ" and not _empty(elem))):
            result.add("attribute the profile empties holds a value", name, kw)
            continue
        if action == "D" and not_dummy:
            result.add("attribute the profile replaces by a dummy holds another value", name, kw)
            continue
        if elem.VR == "UI":
            if any(v and not is_class_uid(elem.keyword or "", v) and not looks_remapped(v) for v in _values(elem)):
                result.add("UID not remapped", name, kw)
        elif elem.VR == "SQ":
            for item in elem.value or []:
                check_dataset(item, profile, name, result, top=False)


def _walk(ds: Any, path: tuple = ()):
    """(path, element) for every element, recursively; the path is (tag, item index, tag, ...)."""
    for elem in ds:
        here = path + (int(elem.tag),)
        yield here, elem
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from _walk(item, here + (i,))


def _source_values(ds: Any, profile: Profile) -> tuple[set[str], set[str], dict[tuple, str]]:
    """From a source dataset: identifying text values, instance UIDs, and dates by path."""
    texts: set[str] = set()
    uids: set[str] = set()
    dates: dict[tuple, str] = {}
    for path, elem in _walk(ds):
        tag = int(elem.tag)
        if elem.VR == "UI":
            uids |= {v.strip() for v in _values(elem) if v.strip() and not is_class_uid(elem.keyword or "", v)}
        elif elem.VR in ("DA", "DT"):
            for v in _values(elem):
                if v.strip():
                    dates[path] = v.strip()
        elif elem.VR in _ID_VRS and not elem.tag.is_private:
            row = row_for(tag)
            identifying = tag in (PATIENT_NAME, PATIENT_ID) or (
                planned_action(tag, elem.VR, profile) in ("X", "Z", "D") and not (row is not None and row.descriptor))
            if identifying:
                for v in _values(elem):
                    parts = v.split("^") if elem.VR == "PN" else [v]
                    texts |= {p.strip() for p in parts if len(p.strip()) >= 3}
    return texts, uids, dates


def _compare(src: Any, out: Any, profile: Profile, name: str, result: VerifyResult) -> None:
    texts, uids, dates = _source_values(src, profile)
    for path, elem in _walk(out):
        vals = _values(elem)
        if elem.VR == "UI":
            if any(v.strip() in uids for v in vals):
                result.add("original UID left", name, _keyword(elem))
        elif elem.VR in ("DA", "DT"):
            if profile.shifts_dates and path in dates and any(v.strip() == dates[path] for v in vals):
                result.add("date not shifted", name, _keyword(elem))
        elif elem.VR in _ID_VRS:
            for v in vals:
                if any(v == t or (len(t) >= 6 and t in v) for t in texts):
                    result.add("identifying value from the source left", name, _keyword(elem))
                    break


def _check_file(rel: str, p: Path, result: VerifyResult) -> tuple[str, Any, Profile] | None:
    """Check one output file; (its SOP Instance UID, dataset, profile) when it is DICOM."""
    from medpriv_desktop.core.imaging.dicom_series import _is_dicom_file

    if not _is_dicom_file(p):
        result.add("file that is not DICOM", rel, "")
        return None
    try:
        ds = _read(p)
    except Exception:  # noqa: BLE001 - a damaged output is a finding, not a crash
        result.add("DICOM file that cannot be read", rel, "")
        return None
    result.files += 1
    profile = profile_of(ds)
    if profile is None or str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        result.add("not marked de-identified (PatientIdentityRemoved, method codes)", rel, "")
        profile = profile or Profile("basic", frozenset())
    check_dataset(ds, profile, rel, result)
    return str(ds.get("SOPInstanceUID", "")), ds, profile


def verify_folder(folder: Path, source: Path | None = None, key: bytes | None = None) -> Job[VerifyResult]:
    """Check every DICOM file under ``folder`` (see the module docstring); a job with progress per file."""
    from medpriv_desktop.core.dicom_deid.outputs import walk_inputs

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("the folder to verify does not exist or is not a folder", path=folder)
    files = [(rel, p) for rel, p in walk_inputs(folder) if p.name not in IGNORED_NAMES]
    result = VerifyResult()
    outputs: dict[str, Any] = {}
    for i, (rel, p) in enumerate(files):
        yield Progress(i / max(len(files), 1) * (0.5 if source else 1.0), f"checking file {i + 1}/{len(files)}")
        with warnings.catch_warnings():  # pydicom's warnings may quote values of the file
            warnings.simplefilter("ignore")
            found = _check_file(rel, p, result)
        if found is not None and source is not None:
            outputs[found[0]] = (rel, found[1], found[2])
    if source is not None:
        yield from _check_sources(Path(source), outputs, result, key)
    yield Progress(1.0, "done")
    return result


def _check_sources(source: Path, outputs: dict[str, Any], result: VerifyResult, key: bytes | None) -> Job[None]:
    from medpriv_desktop.core.dicom_deid.instance import source_identity
    from medpriv_desktop.core.dicom_deid.outputs import walk_inputs
    from medpriv_desktop.core.imaging.dicom_series import _is_dicom_file
    from medpriv_desktop.core.resume import RunManifest

    if not source.is_dir():
        raise InputError("the source folder does not exist or is not a folder", path=source)
    if key is None:
        from medpriv_desktop.core.keys import existing_key

        key = existing_key("deid")
        if key is None:
            raise InputError("checking against the source needs the deid key that made the output, and there is none",
                             hint="run on the machine (or with the MEDPRIV_KEY_DIR) that de-identified it")
    uids = UidMapper(key)
    macs = RunManifest(source / ".unused", "verify", key, source)
    files = walk_inputs(source)
    for i, (_rel, p) in enumerate(files):
        yield Progress(0.5 + 0.5 * i / max(len(files), 1), f"comparing with source {i + 1}/{len(files)}")
        if not _is_dicom_file(p):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                src = _read(p)
            except Exception:  # noqa: BLE001 - a damaged source file was not de-identified either
                continue
            found = outputs.get(uids(source_identity(src, macs.mac_file(p)).instance))
            if found is None:
                continue
            name, out, profile = found
            result.paired += 1
            _compare(src, out, profile, name, result)
