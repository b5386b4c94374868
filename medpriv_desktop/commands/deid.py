"""``medpriv deid INPUT -o OUTPUT``: de-identify a folder of .txt notes (or a CSV column) offline.

``medpriv deid IN_DIR -o OUT_DIR`` writes one output per input ``.txt`` with the same name, tags by default.
A summary with counts per category (no text) goes to stdout and to the audit log. ``--help`` states what HIPAA Safe
Harbor asks, what the tool detects and what it does not (:data:`SAFE_HARBOR`).
"""

from __future__ import annotations

import argparse
import textwrap
import sys
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import (add_parser, add_restart, add_scaleout_arguments, drive, positive_float,
                                              positive_int, prepare_outputs, probability)

#: The 18 HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)(i)) and what ``medpriv deid`` does about each.
SAFE_HARBOR: tuple[tuple[str, str, str], ...] = (
    ("A", "names", "detected: patients, clinicians, relatives"),
    ("B", "geographic subdivisions smaller than a state", "detected: streets, cities, ZIP codes (all five digits), "
          "hospitals, wards, other places"),
    ("C", "dates (except year); ages over 89", "detected: numeric and written dates, years, holidays; ages 90-129 "
          "written in digits with a unit ('97 yo') or after 'age'. Not detected: ages in words or decades "
          "('in her nineties')"),
    ("D", "telephone numbers", "detected"),
    ("E", "fax numbers", "detected"),
    ("F", "email addresses", "detected"),
    ("G", "social security numbers", "detected"),
    ("H", "medical record numbers", "detected after a cue word (MRN, unit no...) or as a run of 7+ digits"),
    ("I", "health plan beneficiary numbers", "partly: after insurance, policy, Medicare or Medicaid cue words, or "
          "as a run of 7+ digits"),
    ("J", "account numbers", "detected after a cue word, or as a run of 7+ digits"),
    ("K", "certificate and license numbers", "detected after a cue word (license, DEA, NPI...)"),
    ("L", "vehicle identifiers, licence plates", "NOT detected (only as a run of 7+ digits)"),
    ("M", "device identifiers and serial numbers", "detected after a cue word (serial, S/N, lot, device id...)"),
    ("N", "web URLs", "detected"),
    ("O", "IP addresses", "detected"),
    ("P", "biometric identifiers (finger and voice prints)", "NOT covered (not text)"),
    ("Q", "full-face photographs and comparable images", "NOT covered: deid reads text only; images, and CT/MR of the "
          "head from which a face can be rendered, are not de-identified"),
    ("R", "any other unique identifying number, characteristic or code", "partly: numbers after an ID cue word and "
          "long digit runs; characteristics (a rare condition, an occupation, an event in the news) NOT detected"),
)


def safe_harbor_text() -> str:
    """The ``--help`` epilog: the Safe Harbor identifiers, what is covered, what the operators do, and the review."""
    rows = "\n".join(textwrap.fill(f"({k}) {what}: {how}", 116, initial_indent="  ", subsequent_indent="      ")
                     for k, what, how in SAFE_HARBOR)
    return (
        "HIPAA Safe Harbor (45 CFR 164.514(b)(2)) and this tool:\n" + rows + "\n\n"
        "Operators: tag and mask replace every detected span (an age over 89 becomes [AGE] or **); a date loses every\n"
        "element, or with --keep-year every element but a year within the last 89 years (an older year may be the\n"
        "birth year of someone over 89; a two-digit year stays only if its 19xx reading is that recent). surrogate\n"
        "writes keyed fake values and '90+' for an age over 89 (younger ages stay); date-shift tags all but dates.\n"
        "Both move every date, year included, by the patient's offset (from the site's deid key, never 0), so the\n"
        "intervals between one patient's dates hold; a year alone moves by 0 or 1 year. Shifted dates and fake\n"
        "names are pseudonyms, not removal: for a Safe Harbor release use tag or mask.\n\n"
        "Patients (surrogate, date-shift): --patient-id or --id-column say which notes share a patient; without them\n"
        "each note is its own patient; --one-patient puts all notes under one (one date shift for all of them).\n\n"
        "What the detector misses stays in the output: no detector finds every identifier. Review the output before\n"
        "release; Safe Harbor also requires that you have no actual knowledge that what remains could identify a\n"
        "person.")


def register(sub: Any) -> None:
    """Add the ``deid`` command."""
    p = add_parser(sub, "deid", "remove PHI from clinical notes (folder of .txt files or a CSV column)",
                   epilog=safe_harbor_text(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, help="folder of .txt notes, or a CSV file with --csv")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (or CSV file with --csv)")
    p.add_argument("--operator", choices=["tag", "mask", "surrogate", "date-shift"], default=None,
                   help="tag: [NAME], [DATE]...; mask: ****; surrogate: keyed fake values, consistent per patient; "
                        "date-shift: dates moved by the patient's keyed offset, tags for the rest (default: the "
                        "deid_operator setting, tag unless changed in Preferences)")
    p.add_argument("--keep-year", action="store_true",
                   help="tag and mask: keep the year of a date when it lies within the last 89 years "
                        "('[DATE] 2019'); default: the whole date is replaced")
    p.add_argument("--csv", action="store_true", help="input is a CSV file; de-identify one column")
    p.add_argument("--text-column", help="CSV column holding the note text")
    p.add_argument("--id-column", help="CSV column naming the patient (consistent surrogates per patient)")
    p.add_argument("--patient-id", metavar="PATTERN|MAPPING.csv",
                   help="folder mode: regex on the file name (first group = patient) or a CSV with file,patient; "
                        "a note it does not place is its own patient (default: each note is its own patient)")
    p.add_argument("--one-patient", action="store_true",
                   help="all notes (rows) belong to one patient: one date shift and one set of surrogates")
    p.add_argument("--encoding", help="decode notes with this encoding instead of UTF-8 (e.g. cp1252)")
    p.add_argument("--max-size", type=positive_float, default=16.0, help="largest note in MB (default 16)")
    p.add_argument("--rules-only", action="store_true", help="do not use the PHI model, only the rule recognizers")
    p.add_argument("--model", help="id of the phi-ner model to use (default: the installed one)")
    p.add_argument("--threshold", type=probability, default=None,
                   help="minimum score of a PHI finding, 0-1 (default: the deid_threshold setting, 0 unless changed)")
    p.add_argument("--patient-column", help="table mode: column naming the patient (--id-column is then the note id)")
    p.add_argument("--keep-columns", metavar="A,B",
                   help="table mode: columns written unchanged (id and patient columns become keyed pseudonyms "
                        "unless listed here)")
    add_scaleout_arguments(p)
    add_restart(p)
    p.set_defaults(handler=_run)


def scaleout_requested(args: argparse.Namespace) -> bool:
    """True when a scale-out option is given or the input is a Parquet table; then :mod:`medpriv_desktop.scaleout`
    (imported only here) runs the command."""
    return bool(args.cluster or args.shard or getattr(args, "patient_column", None)
                or getattr(args, "keep_columns", None) or Path(args.input).suffix.lower() == ".parquet")


def _keep_torch_out() -> None:
    """:func:`medpriv_desktop.core.app.notes.keep_torch_out` (kept under this name for ``scaleout/`` and the
    other notes commands)."""
    from medpriv_desktop.core.app.notes import keep_torch_out

    keep_torch_out()


def _run(args: argparse.Namespace) -> int:
    _keep_torch_out()
    from medpriv_desktop.core.app import Context, DeidRequest, deid_engine_config, deidentify_notes
    from medpriv_desktop.core.errors import InputError

    ctx = Context.build()
    request = DeidRequest(args.input, args.output, args.operator, args.threshold, args.keep_year, csv=args.csv,
                          text_column=args.text_column, id_column=args.id_column, patient_id=args.patient_id,
                          one_patient=args.one_patient, encoding=args.encoding,
                          max_bytes=int(args.max_size * 1024 * 1024), restart=args.restart,
                          use_model=not args.rules_only, model_id=args.model)
    options = request.operator_options(ctx)  # a bad combination fails before any output
    if args.one_patient and (args.patient_id or args.id_column):
        which = "--patient-id" if args.patient_id else "--id-column"
        raise InputError(f"--one-patient and {which} exclude each other",
                         hint=f"--one-patient puts every note under one patient; {which} says which")
    if scaleout_requested(args):
        from medpriv_desktop.scaleout.commands import run_deid_table

        return run_deid_table(args, options, deid_engine_config(ctx, use_model=request.use_model,
                                                                model_id=request.model_id,
                                                                threshold=request.threshold))
    mapping = Path(args.patient_id) if args.patient_id and Path(args.patient_id).is_file() else None
    if args.csv:
        if not args.text_column:
            raise InputError("--csv needs --text-column", hint="name the column that holds the note text")
        if args.patient_id:
            raise InputError("--patient-id is for a folder of notes",
                             hint="in CSV mode name the patient column with --id-column")
        from medpriv_desktop.core.resume import file_manifest_path

        if not args.input.is_file():
            raise InputError("CSV file does not exist", path=args.input)

        side = args.output.with_name(args.output.name + ".partial")
        prepare_outputs([args.input, mapping], files=[("-o", args.output), ("-o (its part file)", side),
                                                      ("-o (its run manifest)", file_manifest_path(args.output))])
    else:
        if args.text_column or args.id_column:
            raise InputError("--text-column/--id-column need --csv")
        if not args.input.is_dir():  # before the output folder is made: a typo must not leave an empty folder
            raise InputError("input folder does not exist or is not a folder", path=args.input,
                             hint="pass --csv for a CSV file")
        prepare_outputs([args.input, mapping], folders=[("-o", args.output)])
    # the use case writes the audit entry (notes.deid) the window writes for the same work
    summary = drive(deidentify_notes(ctx, request), args)
    years = " (years kept)" if summary.keep_year else ""
    print(f"de-identified {summary.done} notes ({summary.already_done} already done, {len(summary.failed)} failed); "
          f"operator {summary.operator}{years}; model {summary.model_id or 'rules only'}")
    if options.keyed:
        print(f"  patients: {summary.patient_line()}")
    for cat, n in sorted(summary.counts.items()):
        print(f"  {cat:10s} {n}")
    for path, reason in summary.failed:
        print(f"error: {path}: {reason}", file=sys.stderr)
    return 1 if summary.failed else 0
