"""Batch de-identification jobs: a folder of ``.txt`` notes, or one text column of a CSV file.

Both are generator jobs (``core/jobs.py``): they yield progress, can be stopped between notes, and resume under a run
manifest (``core/resume.py``) that holds keyed hashes of the inputs, the options that change outputs (operator,
encoding, patient mapping, columns, PHI model and version, threshold) and, in folder mode, every finished output.
Folder mode skips a note only when the manifest vouches for its output's bytes, and refuses an output folder that holds
files the run did not write (a raw copy of a note must never pass for a de-identified one). CSV mode appends finished
rows to ``OUTPUT.partial`` (flushed row by row); a rerun cuts that file back to its last complete record, continues,
then renames it to the output. Another input or other options are refused with one sentence (``--restart`` starts
over). A bad note (empty, binary, not UTF-8, too large) is reported by file name and reason, the others go on. The
summary holds counts only, never text; the log names files by keyed hash only.

Patients (they matter to the surrogate and date-shift operators: one set of surrogates and one date shift per
patient). Folder mode takes the patient from ``patient_id`` (a regex on the file name, or a mapping CSV), CSV mode
from ``id_column``. Without one, **each note is its own patient**: nothing links two notes, and a date recovered in
one note tells nothing about the others. ``one_patient`` puts every note under one pseudo-patient (a folder of one
patient's notes: intervals between notes hold, but one known date undoes the shift of every note). A note the
pattern or mapping does not place (or a row with an empty id) is its own patient too, and is counted. The summary and
the audit entry say how many distinct patients a run's notes spanned (a count, never an id).
"""

from __future__ import annotations

import collections
import csv
import io
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from medpriv_desktop.core.csv_safety import SafeCsvWriter, describe_columns, neutralise_cell
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_write_bytes, naming
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.logging import path_ref
from medpriv_desktop.core.outputs import Output, check_paths
from medpriv_desktop.core.notes.operators import OperatorOptions, apply_operator
from medpriv_desktop.core.resume import (FOLDER_MANIFEST, RESTART_HINT, RunManifest, cut_partial_csv,
                                         file_manifest_path, refuse_unknown)
from medpriv_desktop.core.text.reading import MAX_TEXT_BYTES, decode_text, read_text

log = logging.getLogger(__name__)


@dataclass
class DeidSummary:
    """What a batch did: counts per category (tag names), files or rows done, skipped and failed (path + reason)."""

    operator: str
    model_id: str | None = None
    done: int = 0
    already_done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    counts: collections.Counter = field(default_factory=collections.Counter)
    #: The detector's audit identity: PHI model (id, version, manifest hash, root) when the engine gives one, and the
    #: sha256 of the site recognizers file (``site_recognizers_hash``, None without one).
    model_fields: dict[str, Any] = field(default_factory=dict)
    #: Where patients came from (:data:`PATIENT_SOURCES`), how many distinct ones the run's notes span, and how many
    #: notes the pattern, mapping or id column did not place (each its own patient). Counts, never ids.
    patient_source: str = "per-note"
    patients: int = 0
    unplaced: int = 0
    keep_year: bool = False
    #: Tags replaced in each note this run did (file name, or the 0-based index of a non-empty CSV row as a string),
    #: for a window that lists the notes; counts only, and never part of the audit entry.
    per_note: dict[str, collections.Counter] = field(default_factory=dict)

    def as_audit_fields(self) -> dict[str, Any]:
        """Counts for the audit log (no paths, no text)."""
        return {"operator": self.operator, "model_id": self.model_id, **self.model_fields, "notes_done": self.done,
                "notes_already_done": self.already_done, "notes_failed": len(self.failed),
                "counts": dict(sorted(self.counts.items())), "keep_year": self.keep_year,
                # the audit log takes no free strings here: the source is the one key set to true
                "patient_source": {self.patient_source: True}, "patients": self.patients,
                "all_one_patient": self.all_one_patient, "notes_unplaced": self.unplaced,
                # the shape a reviewed note's entry has (the window): nobody reviewed a batch, every span unreviewed
                "reviewed": {"accepted": 0, "rejected": 0, "added": 0, "unreviewed": int(sum(self.counts.values()))}}

    @property
    def all_one_patient(self) -> bool:
        """True when the run put more than one note, and all of them, under one patient."""
        return self.patients == 1 and self.done + self.already_done + len(self.failed) > 1

    def patient_line(self) -> str:
        """One sentence on how the notes were put under patients (counts only), for the summary a person reads."""
        n = self.done + self.already_done + len(self.failed)
        source = PATIENT_SOURCES.get(self.patient_source, self.patient_source)
        if self.all_one_patient:
            return (f"all {n} notes were treated as ONE patient ({source}): they share one date shift and one set of "
                    "surrogates")
        line = f"{self.patients} patient{'s' if self.patients != 1 else ''} ({source})"
        if self.unplaced:
            line += f"; {self.unplaced} note{'s' if self.unplaced != 1 else ''} matched no patient, each its own"
        return line


#: Where a run's patients come from, as the summary words it.
PATIENT_SOURCES = {"per-note": "each note its own patient", "pattern": "from the file-name pattern",
                   "mapping": "from the mapping file", "id-column": "from the id column",
                   "one-patient": "--one-patient"}
#: The pseudo-patient every note shares under ``one_patient``.
ONE_PATIENT = "*"


def own_patient(kind: str, name: str) -> str:
    """The patient of a note that is its own patient (``kind`` "note" or "row"); no real id can take this value."""
    return f"\x00{kind}:{name}"


class PatientResolver:
    """Which patient a note (by file name) belongs to: a regex on the file name (first group, or the whole match), a
    mapping CSV (columns ``file`` and ``patient``), one shared pseudo-patient with ``one_patient``, or else the note
    itself. A name the pattern or mapping does not place is its own patient and is remembered in :attr:`unplaced`."""

    def __init__(self, spec: str | None = None, one_patient: bool = False) -> None:
        self.pattern: re.Pattern | None = None
        self.mapping: dict[str, str] | None = None
        self.one_patient = one_patient
        self.unplaced: set[str] = set()
        if spec and one_patient:
            raise InputError("--one-patient and --patient-id exclude each other",
                             hint="--one-patient puts every note under one patient; --patient-id says which")
        if spec and spec.lower().endswith(".csv") and Path(spec).is_file():
            self.mapping = self._load_mapping(Path(spec))
        elif spec:
            try:
                self.pattern = re.compile(spec)
            except re.error as exc:
                raise InputError(f"--patient-id is neither a mapping CSV nor a valid pattern ({exc.msg})") from None

    @property
    def source(self) -> str:
        """Where patients come from (a key of :data:`PATIENT_SOURCES`)."""
        if self.one_patient:
            return "one-patient"
        return "mapping" if self.mapping is not None else "pattern" if self.pattern is not None else "per-note"

    @staticmethod
    def _load_mapping(path: Path) -> dict[str, str]:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read patient mapping ({type(exc).__name__})", path=path) from None
        if not rows or not {"file", "patient"} <= set(rows[0]):
            raise InputError("patient mapping needs the columns 'file' and 'patient'", path=path)
        return {r["file"]: r["patient"] for r in rows if r.get("patient")}

    def __call__(self, name: str) -> str:
        if self.one_patient:
            return ONE_PATIENT
        found: str | None = None
        if self.mapping is not None:
            found = self.mapping.get(name, self.mapping.get(Path(name).stem))
        elif self.pattern is not None:
            m = self.pattern.search(name)
            if m:
                found = m.group(1) if m.groups() else m.group(0)
        else:
            return own_patient("note", name)
        if not found:  # never the shared pseudo-patient: a silent "*" would link unrelated notes
            self.unplaced.add(name)
            return own_patient("note", name)
        return found


def _row_patient(row: list[str], index: int | None, n: int, one_patient: bool) -> tuple[str, bool]:
    """CSV mode: the patient of row ``n`` (its id cell, or the row itself) and whether an empty id cell left it
    unplaced."""
    if one_patient:
        return ONE_PATIENT, False
    if index is None:
        return own_patient("row", str(n)), False
    value = row[index].strip()
    return (value, False) if value else (own_patient("row", str(n)), True)


def _make_surrogator(options: OperatorOptions) -> Any:
    if not options.keyed:
        return None
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes.surrogates import Surrogator

    return Surrogator(load_key("deid"))


def _model_ref(engine: Any) -> dict[str, Any]:
    """What identifies the detector for resuming: PHI model id and version (None for rules only) and threshold."""
    fields = getattr(engine, "model_fields", None) or {}
    if fields.get("model_manifest"):  # the bundle's manifest hash tells every file of it apart, not only its version
        config = getattr(engine, "config", None)
        return {"model": [fields.get("model_id"), fields.get("model_version"), fields["model_manifest"]],
                "threshold": getattr(config, "threshold", None)}
    model_id = getattr(engine, "model_id", None)
    version = getattr(engine, "model_version", None)
    if model_id and version is None:
        try:
            from medpriv_desktop.core.models.registry import ModelRegistry
            from medpriv_desktop.core.settings import load_settings

            models = getattr(engine, "models", None)  # the registry the engine loaded from (the Context's)
            version = (models if models is not None else ModelRegistry.from_settings(load_settings())).get(
                model_id).card.version
        except Exception:  # noqa: BLE001 - the id alone still tells models apart; a lookup failure must not stop here
            version = None
    config = getattr(engine, "config", None)
    return {"model": [model_id, version], "threshold": getattr(config, "threshold", None)}


def _detector_fields(engine: Any) -> dict[str, Any]:
    """The PHI model's audit fields plus the site recognizers file's sha256 (None when the site has none)."""
    return {**(getattr(engine, "model_fields", None) or {}),
            "site_recognizers_hash": getattr(engine, "site_recognizers_hash", None)}


def _detector_ref(engine: Any) -> dict[str, Any]:
    """:func:`_model_ref` plus the site recognizers file's sha256 (None without one): outputs of a changed, added or
    removed site file must not mix with the old ones."""
    return {**_model_ref(engine), "site recognizers file": getattr(engine, "site_recognizers_hash", None)}


def _patient_option(patient_id: str | None, manifest: RunManifest, one_patient: bool = False) -> Any:
    """How patients are chosen, as it affects outputs: a mapping file by its content, a pattern as written."""
    if one_patient:
        return {"one_patient": True}
    if patient_id and patient_id.lower().endswith(".csv") and Path(patient_id).is_file():
        return {"mapping": manifest.mac_file(Path(patient_id))}
    return {"pattern": patient_id} if patient_id else {"per_note": True}


def _dates_option(options: OperatorOptions) -> Any:
    """The year rule as it affects outputs (the reference year matters only when years are kept)."""
    return {"keep_year": options.keep_year, "reference_year": options.reference_year if options.keep_year else None}


#: Notes analysed per step of a folder run: the tagger batches their windows together; Cancel waits at most one
#: step (about a quarter of a second at 50 notes/s).
NOTES_PER_STEP = 16


def deidentify_folder(input_dir: Path, output_dir: Path, engine_factory: Callable[[], Any],
                      operator: str | OperatorOptions = "tag", patient_id: str | None = None,
                      encoding: str | None = None, max_bytes: int = MAX_TEXT_BYTES, restart: bool = False, *,
                      one_patient: bool = False) -> Job[DeidSummary]:
    """De-identify every ``*.txt`` in ``input_dir`` into ``output_dir`` (same file names); resumable.

    ``operator`` is a name or an :class:`OperatorOptions` (with ``keep_year``); patients come from ``patient_id`` or
    ``one_patient``, else each note is its own (module docstring). A run manifest (``core/resume.py``) in
    ``output_dir`` records the inputs, the options and every finished output; a rerun skips exactly the outputs it
    vouches for, refuses other inputs or options, and refuses a folder that holds files it did not write.
    ``restart`` deletes what an earlier run wrote (only that) and starts over.
    """
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    options = operator if isinstance(operator, OperatorOptions) else OperatorOptions(operator)
    resolver = PatientResolver(patient_id, one_patient)  # a bad pattern or mapping fails before any output
    if not input_dir.is_dir():
        raise InputError("input folder does not exist or is not a folder", path=input_dir)
    check_paths([input_dir], [Output(output_dir, folder=True)])  # the command checked too; other callers may not
    files = sorted(p for p in input_dir.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
    if not files:
        raise InputError("no .txt notes in the input folder", path=input_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    # A killed run can leave its temporary file (".name.XXXX.part.txt", never a finished output) behind.
    for stale in output_dir.glob(".*.part*"):
        stale.unlink(missing_ok=True)
    manifest = RunManifest.open(output_dir / FOLDER_MANIFEST, "notes.deid.folder", where=output_dir)
    if restart:
        manifest.discard(output_dir)
    manifest.expect(inputs={f.name: manifest.mac_file(f) for f in files},
                    options={"operator": options.name, "encoding": encoding,
                             "patient_id": _patient_option(patient_id, manifest, one_patient),
                             "--keep-year setting": _dates_option(options)})
    state = manifest.scan_folder(output_dir)
    refuse_unknown(state, output_dir)
    patients = {f.name: resolver(f.name) for f in files}
    todo = [f for f in files if f.name not in state.done]
    yield Progress(0.0, f"loading engine ({len(todo)} of {len(files)} notes to do)")
    engine = engine_factory()
    manifest.expect(options=_detector_ref(engine))
    manifest.begin()
    summary = DeidSummary(options.name, getattr(engine, "model_id", None), already_done=len(files) - len(todo),
                          model_fields=_detector_fields(engine),
                          patient_source=resolver.source, patients=len(set(patients.values())),
                          unplaced=len(resolver.unplaced), keep_year=options.keep_year)
    surrogator = _make_surrogator(options)
    analyze_many = getattr(engine, "analyze_many", None) or (lambda texts: [engine.analyze(t) for t in texts])
    for g in range(0, len(todo), NOTES_PER_STEP):
        group = todo[g: g + NOTES_PER_STEP]
        yield Progress(g / max(len(todo), 1), f"notes {g + 1}-{g + len(group)} of {len(todo)}")
        texts: dict[Path, str] = {}
        for f in group:
            try:
                texts[f] = read_text(f, encoding, max_bytes)
            except InputError as exc:
                summary.failed.append((str(f), exc.reason))
                log.warning("note skipped: %s: %s", path_ref(f), exc.reason)
        for f, spans in zip(texts, analyze_many(list(texts.values()))):
            data = apply_operator(options, texts[f], spans, surrogator, patients[f.name]).encode("utf-8")
            manifest.record_output(f.name, data)  # before the rename: a kill in between only redoes this note
            atomic_write_bytes(output_dir / f.name, data)
            summary.done += 1
            summary.per_note[f.name] = collections.Counter(s.tag for s in spans)
            summary.counts.update(summary.per_note[f.name])
    yield Progress(1.0, "done")
    return summary


def _csv_reader(path: Path, encoding: str | None) -> tuple[list[str], list[list[str]]]:
    data = path.read_bytes() if path.is_file() else None
    if data is None:
        raise InputError("CSV file does not exist", path=path)
    text = decode_text(data, path, encoding)
    if not text.strip():
        raise InputError("empty CSV file", path=path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error:
        # csv's own message may quote the separator it met; the record number is enough and holds no text
        raise InputError(f"malformed CSV near line {reader.line_num} (an unclosed quote or a stray character)",
                         path=path, hint="check quotes and separators") from None
    header, body = rows[0], rows[1:]
    for n, r in enumerate(body, start=2):
        if r and len(r) != len(header):
            raise InputError(f"malformed CSV: row {n} has {len(r)} fields, the header has {len(header)}", path=path)
    return header, [r for r in body if r]


def deidentify_csv(input_csv: Path, output_csv: Path, engine_factory: Callable[[], Any], text_column: str,
                   id_column: str | None = None, operator: str | OperatorOptions = "tag",
                   encoding: str | None = None, restart: bool = False, *,
                   one_patient: bool = False) -> Job[DeidSummary]:
    """De-identify one column of a CSV; other columns pass through (cells neutralised against formula injection,
    ``core/csv_safety.py``); resumable via ``OUTPUT.partial`` and a run manifest ``OUTPUT.manifest.jsonl``.

    The patient of a row is its ``id_column`` cell; without one (or ``one_patient``) each row is its own patient.
    On resume the part file is cut back to its last complete record (a disk-full or a kill may leave half a row),
    and a part file without this run's manifest, or a rerun with another input or options, is refused.
    """
    input_csv, output_csv = Path(input_csv), Path(output_csv)
    options = operator if isinstance(operator, OperatorOptions) else OperatorOptions(operator)
    if one_patient and id_column:
        raise InputError("--one-patient and --id-column exclude each other",
                         hint="--one-patient puts every row under one patient; --id-column says which")
    if output_csv.exists():
        raise InputError("output CSV already exists", path=output_csv, hint="remove it or choose another name")
    header, rows = _csv_reader(input_csv, encoding)
    for col in [text_column] + ([id_column] if id_column else []):
        if col not in header:
            raise InputError(f"no column '{col}'", path=input_csv, hint=describe_columns(header))
    ti = header.index(text_column)
    ii = header.index(id_column) if id_column else None
    partial = output_csv.with_name(output_csv.name + ".partial")
    check_paths([input_csv], [Output(output_csv), Output(partial), Output(file_manifest_path(output_csv))])
    manifest = RunManifest.open(file_manifest_path(output_csv), "notes.deid.csv", where=output_csv)
    if restart:
        manifest.discard()
        partial.unlink(missing_ok=True)
    if partial.exists() and not manifest.started:
        raise InputError("a part file of this name exists but this run did not write it", path=partial,
                         hint="remove it, choose another output name, or add --restart")
    manifest.expect(inputs={"input": manifest.mac_file(input_csv)},
                    options={"operator": options.name, "encoding": encoding, "text_column": text_column,
                             "id_column": id_column, "one_patient": one_patient,
                             "--keep-year setting": _dates_option(options)})
    out_header = [neutralise_cell(c) for c in header]
    done_rows = cut_partial_csv(partial, out_header) if partial.exists() else 0
    if done_rows > len(rows):
        raise InputError("the part file holds more rows than the input", path=partial, hint=RESTART_HINT)
    yield Progress(0.0, f"loading engine ({len(rows) - done_rows} of {len(rows)} rows to do)")
    engine = engine_factory()
    manifest.expect(options=_detector_ref(engine))
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    manifest.begin()
    placed = [_row_patient(r, ii, n, one_patient) for n, r in enumerate(rows)]
    source = "one-patient" if one_patient else "id-column" if ii is not None else "per-note"
    summary = DeidSummary(options.name, getattr(engine, "model_id", None), already_done=done_rows,
                          model_fields=_detector_fields(engine), patient_source=source,
                          patients=len({p for p, _ in placed}), unplaced=sum(u for _, u in placed),
                          keep_year=options.keep_year)
    surrogator = _make_surrogator(options)
    try:
        with open(partial, "a", newline="", encoding="utf-8") as fh:
            w = SafeCsvWriter(fh)
            if fh.tell() == 0:
                w.writerow(header)
            for n, row in enumerate(rows[done_rows:], start=done_rows):
                yield Progress(n / max(len(rows), 1), f"row {n + 1}/{len(rows)}")
                text = row[ti]
                spans = engine.analyze(text)
                row = list(row)
                row[ti] = apply_operator(options, text, spans, surrogator, placed[n][0])
                w.writerow(row)
                fh.flush()
                summary.done += 1
                summary.per_note[str(n)] = collections.Counter(s.tag for s in spans)
                summary.counts.update(summary.per_note[str(n)])
            os.fsync(fh.fileno())
    except OSError as exc:  # a buffered write loses the file name; the message should name the part file
        if exc.filename is None:
            raise naming(exc, partial) from exc
        raise
    os.replace(partial, output_csv)
    manifest.finish()
    yield Progress(1.0, "done")
    return summary
