"""``medpriv deid-dicom IN_DIR -o OUT_DIR``: de-identify DICOM studies by DICOM PS3.15 Annex E; ``--verify OUT_DIR``.

The profile is implemented from the standard's Table E.1-1, written as data in ``core/dicom_deid/table.py``, not on
the ``deid`` package (pydicom/deid): that package's recipes do not carry the standard's option columns, it has no way
to share keys, pseudonyms and date offsets with the notes de-identifier, and it would bring matplotlib into the
frozen app. See ``core/dicom_deid/__init__.py`` for what is done and what is not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import add_parser, add_restart, drive, prepare_outputs, probability

EPILOG = """\
profiles (DICOM PS3.15 Annex E, Table E.1-1, 2024 edition):
  basic                 the Basic Application Level Confidentiality Profile: identifying attributes removed, emptied
                        or replaced by dummies, dates and times too, every private tag removed
  retain-dates-shifted  (default) basic + Retain Longitudinal Temporal Information with Modified Dates (every date
                        moved by the patient's keyed offset, the one 'medpriv deid' uses) + Retain Safe Private
  research              retain-dates-shifted + Retain Patient Characteristics (sex, age capped at 090Y, size,
                        weight, smoking, pregnancy)
Always: PatientName and PatientID become keyed pseudonyms (the name as the notes' surrogates write it for that
patient), every instance UID is remapped to 2.25.<keyed number> (the same on every run with the same key), pixel data
is untouched. Instances whose pixels may show text (BurnedInAnnotation YES, secondary captures, ultrasound,
encapsulated documents, dose reports, photographs) are not written unless --quarantine or --allow-burned-in.
Pixels are not inspected: text burned into an ordinary image, and faces a head scan lets one render, are not removed.
"""


def register(sub: Any) -> None:
    """Add the ``deid-dicom`` command."""
    p = add_parser(sub, "deid-dicom", "de-identify DICOM studies (PS3.15 Annex E profile), or verify an output",
                   epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, nargs="?", help="folder of DICOM files (searched recursively)")
    p.add_argument("-o", "--output", type=Path, help="output folder (patient/study/series folders, a report)")
    p.add_argument("--profile", default="retain-dates-shifted", choices=["basic", "retain-dates-shifted", "research"],
                   help="the profile and its options (default: retain-dates-shifted; see below)")
    p.add_argument("--patient-id", metavar="MAPPING.csv", type=Path,
                   help="CSV with columns patient_id (the DICOM PatientID) and patient (the patient key the notes "
                        "used); default: the PatientID is the patient")
    p.add_argument("--clean-descriptors", action="store_true",
                   help="descriptions and comments through the notes de-identifier (PHI tagged) instead of removed")
    p.add_argument("--rules-only", action="store_true", help="with --clean-descriptors: rule recognizers only")
    p.add_argument("--model", help="with --clean-descriptors: id of the phi-ner model (default: the installed one)")
    p.add_argument("--threshold", type=probability, default=0.0, help="with --clean-descriptors: minimum score")
    p.add_argument("--retain-device-identity", action="store_true", help="keep station name, serial numbers...")
    p.add_argument("--retain-institution-identity", action="store_true", help="keep institution name and address")
    p.add_argument("--quarantine", action="store_true",
                   help="write instances that may show burned-in text, de-identified, into OUT_DIR-quarantine")
    p.add_argument("--allow-burned-in", action="store_true",
                   help="write instances that may show burned-in text with the others (listed in the report)")
    p.add_argument("--verify", type=Path, metavar="OUT_DIR",
                   help="check a de-identified folder instead: exit 1 when anything the profile removes is left")
    p.add_argument("--source", type=Path, metavar="IN_DIR",
                   help="with --verify: the input folder, to find source UIDs, dates and values left")
    add_restart(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.errors import InputError

    if args.verify is not None:
        if args.input is not None or args.output is not None:
            raise InputError("--verify takes the folder to check and no IN_DIR or -o",
                             hint="medpriv deid-dicom --verify OUT_DIR [--source IN_DIR]")
        return _verify(args)
    if args.source is not None:
        raise InputError("--source goes with --verify")
    if args.input is None or args.output is None:
        raise InputError("give IN_DIR and -o OUT_DIR (or --verify OUT_DIR)")
    if args.quarantine and args.allow_burned_in:
        raise InputError("--quarantine and --allow-burned-in exclude each other",
                         hint="--quarantine keeps those instances apart; --allow-burned-in writes them with the rest")
    if not args.input.is_dir():  # before the output folder is made: a typo must not leave an empty folder
        raise InputError("input folder does not exist or is not a folder", path=args.input)
    return _deidentify(args)


def _deidentify(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.dicom_deid.batch import DicomDeidOptions, deidentify_dicom_folder
    from medpriv_desktop.core.dicom_deid.outputs import quarantine_dir
    from medpriv_desktop.core.dicom_deid.profile import Profile

    profile = Profile.named(args.profile, clean_descriptors=args.clean_descriptors,
                            retain_device=args.retain_device_identity,
                            retain_institution=args.retain_institution_identity)
    folders = [("-o", args.output)] + ([("quarantine", quarantine_dir(args.output))] if args.quarantine else [])
    prepare_outputs([args.input, args.patient_id], folders=folders)
    options = DicomDeidOptions(profile, args.patient_id, args.quarantine, args.allow_burned_in)
    job = deidentify_dicom_folder(args.input, args.output, options, lambda: _cleaner(args), restart=args.restart)
    summary = drive(job, args)
    AuditLog().record("dicom.deid", **summary.as_audit_fields())
    report = summary.report()["counts"]
    print(f"de-identified {summary.written + summary.already_done} of {summary.files} files "
          f"({summary.already_done} already done); profile {profile.name} ({', '.join(profile.codes)})")
    print(f"  patients {report['patients']}, studies {report['studies']}, series {report['series']}; "
          f"patients from {summary.patient_source}, {summary.unplaced} unplaced (each its own patient per study)")
    print(f"  held back for burned-in text: {report['refused']} refused, {report['quarantined']} quarantined, "
          f"{report['burned_in_allowed']} written (--allow-burned-in); reasons in deid_report.json")
    if summary.skipped:
        print(f"  {summary.skipped} DICOMDIR skipped (a media index; not copied)")
    for path, reason in summary.failed:
        print(f"error: {path}: {reason}", file=sys.stderr)
    return 1 if summary.failed else 0


def _cleaner(args: argparse.Namespace) -> Any:
    """The descriptor cleaner: the notes engine with the tag operator."""
    from medpriv_desktop.commands.deid import _keep_torch_out
    from medpriv_desktop.core.dicom_deid.descriptors import DescriptorCleaner
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
    from medpriv_desktop.core.settings import load_settings

    _keep_torch_out()
    cfg = EngineConfig(threshold=args.threshold, use_model=not args.rules_only, model_id=args.model,
                       site_models_dir=load_settings().site_models_dir)
    return DescriptorCleaner(DeidEngine(cfg))


def _verify(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.dicom_deid.verify import verify_folder

    result = drive(verify_folder(args.verify, args.source), args)
    paired = f", {result.paired} compared with their source" if args.source is not None else ""
    if result.ok:
        print(f"verified {result.files} DICOM files{paired}: nothing left that the profile removes")
        return 0
    print(f"verified {result.files} DICOM files{paired}: problems found")
    for line in result.lines():
        print(f"  {line}")
    return 1
