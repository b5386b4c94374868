"""Batch de-identification jobs: a folder of ``.txt`` notes, or one text column of a CSV file.

Both are generator jobs (``core/jobs.py``): they yield progress, can be stopped between notes, and resume: in folder
mode a note whose output already exists is skipped (outputs are written atomically, so an existing output is always
complete); in CSV mode finished rows go to ``OUTPUT.partial`` (flushed row by row) and a rerun continues after the last
complete row, then renames it to the output. A bad note (empty, binary, not UTF-8, too large) is reported by file name
and reason, the others go on. The summary holds counts only, never text.
"""

from __future__ import annotations

import collections
import csv
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.operators import OPERATORS, apply_operator
from medpriv_desktop.core.notes.reading import DEFAULT_MAX_BYTES, decode_note, read_note

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

    def as_audit_fields(self) -> dict[str, Any]:
        """Counts for the audit log (no paths, no text)."""
        return {"operator": self.operator, "model_id": self.model_id, "notes_done": self.done,
                "notes_already_done": self.already_done, "notes_failed": len(self.failed),
                "counts": dict(sorted(self.counts.items()))}


class PatientResolver:
    """Which patient a note belongs to: a regex on the file name (first group, or the whole match), a mapping CSV
    (columns ``file`` and ``patient``), or one shared pseudo-patient ``*`` when neither is given."""

    def __init__(self, spec: str | None = None) -> None:
        self.pattern: re.Pattern | None = None
        self.mapping: dict[str, str] | None = None
        if spec and spec.lower().endswith(".csv") and Path(spec).is_file():
            self.mapping = self._load_mapping(Path(spec))
        elif spec:
            try:
                self.pattern = re.compile(spec)
            except re.error as exc:
                raise InputError(f"--patient-id is neither a mapping CSV nor a valid pattern ({exc.msg})") from None

    @staticmethod
    def _load_mapping(path: Path) -> dict[str, str]:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read patient mapping ({type(exc).__name__})", path=path) from None
        if not rows or not {"file", "patient"} <= set(rows[0]):
            raise InputError("patient mapping needs the columns 'file' and 'patient'", path=path)
        return {r["file"]: r["patient"] for r in rows}

    def __call__(self, name: str) -> str:
        if self.mapping is not None:
            return self.mapping.get(name, self.mapping.get(Path(name).stem, "*"))
        if self.pattern is not None:
            m = self.pattern.search(name)
            if m:
                return m.group(1) if m.groups() else m.group(0)
        return "*"


def _make_surrogator(operator: str) -> Any:
    if operator != "surrogate":
        return None
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes.surrogates import Surrogator

    return Surrogator(load_key("deid"))


def deidentify_folder(input_dir: Path, output_dir: Path, engine_factory: Callable[[], Any], operator: str = "tag",
                      patient_id: str | None = None, encoding: str | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> Job[DeidSummary]:
    """De-identify every ``*.txt`` in ``input_dir`` into ``output_dir`` (same file names); resumable."""
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if operator not in OPERATORS:
        raise InputError(f"unknown operator '{operator}'", hint=f"choose one of {', '.join(OPERATORS)}")
    if not input_dir.is_dir():
        raise InputError("input folder does not exist or is not a folder", path=input_dir)
    if output_dir.resolve() == input_dir.resolve():
        raise InputError("output folder must differ from the input folder", path=output_dir,
                         hint="de-identified notes would overwrite the originals")
    files = sorted(p for p in input_dir.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
    if not files:
        raise InputError("no .txt notes in the input folder", path=input_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    # A killed run can leave its temporary file (".name.XXXX.part.txt", never a finished output) behind.
    for stale in output_dir.glob(".*.part*"):
        stale.unlink(missing_ok=True)
    resolver = PatientResolver(patient_id)
    todo = [f for f in files if not (output_dir / f.name).exists()]
    yield Progress(0.0, f"loading engine ({len(todo)} of {len(files)} notes to do)")
    engine = engine_factory()
    summary = DeidSummary(operator, getattr(engine, "model_id", None), already_done=len(files) - len(todo))
    surrogator = _make_surrogator(operator)
    for i, f in enumerate(todo):
        yield Progress(i / max(len(todo), 1), f"note {i + 1}/{len(todo)}")
        try:
            text = read_note(f, encoding, max_bytes)
        except InputError as exc:
            summary.failed.append((str(f), exc.reason))
            log.warning("note skipped: %s", exc.message)
            continue
        spans = engine.analyze(text)
        out = apply_operator(operator, text, spans, surrogator, resolver(f.name))
        atomic_write_text(output_dir / f.name, out)
        summary.done += 1
        summary.counts.update(s.tag for s in spans)
    yield Progress(1.0, "done")
    return summary


def _csv_reader(path: Path, encoding: str | None) -> tuple[list[str], list[list[str]]]:
    data = path.read_bytes() if path.is_file() else None
    if data is None:
        raise InputError("CSV file does not exist", path=path)
    text = decode_note(data, path, encoding)
    if not text.strip():
        raise InputError("empty CSV file", path=path)
    try:
        rows = list(csv.reader(text.splitlines(keepends=True), strict=True))
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", path=path, hint="check quotes and separators") from None
    header, body = rows[0], rows[1:]
    for n, r in enumerate(body, start=2):
        if r and len(r) != len(header):
            raise InputError(f"malformed CSV: row {n} has {len(r)} fields, the header has {len(header)}", path=path)
    return header, [r for r in body if r]


def deidentify_csv(input_csv: Path, output_csv: Path, engine_factory: Callable[[], Any], text_column: str,
                   id_column: str | None = None, operator: str = "tag", encoding: str | None = None) -> Job[DeidSummary]:
    """De-identify one column of a CSV; other columns pass through unchanged; resumable via ``OUTPUT.partial``."""
    input_csv, output_csv = Path(input_csv), Path(output_csv)
    if operator not in OPERATORS:
        raise InputError(f"unknown operator '{operator}'", hint=f"choose one of {', '.join(OPERATORS)}")
    if output_csv.exists():
        raise InputError("output CSV already exists", path=output_csv, hint="remove it or choose another name")
    header, rows = _csv_reader(input_csv, encoding)
    for col in [text_column] + ([id_column] if id_column else []):
        if col not in header:
            raise InputError(f"no column '{col}'", path=input_csv, hint=f"columns: {', '.join(header)}")
    ti = header.index(text_column)
    ii = header.index(id_column) if id_column else None
    partial = output_csv.with_name(output_csv.name + ".partial")
    done_rows = 0
    if partial.exists():
        with open(partial, newline="", encoding="utf-8") as fh:
            prev = list(csv.reader(fh))
        done_rows = max(0, len(prev) - 1)
    yield Progress(0.0, f"loading engine ({len(rows) - done_rows} of {len(rows)} rows to do)")
    engine = engine_factory()
    summary = DeidSummary(operator, getattr(engine, "model_id", None), already_done=done_rows)
    surrogator = _make_surrogator(operator)
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if done_rows == 0:
            fh.truncate(0)
            w.writerow(header)
        for n, row in enumerate(rows[done_rows:], start=done_rows):
            yield Progress(n / max(len(rows), 1), f"row {n + 1}/{len(rows)}")
            text = row[ti]
            spans = engine.analyze(text)
            patient = row[ii] if ii is not None else "*"
            row = list(row)
            row[ti] = apply_operator(operator, text, spans, surrogator, patient)
            w.writerow(row)
            fh.flush()
            summary.done += 1
            summary.counts.update(s.tag for s in spans)
        os.fsync(fh.fileno())
    os.replace(partial, output_csv)
    yield Progress(1.0, "done")
    return summary
