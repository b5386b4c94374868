"""``synthesize_notes``: the batch job behind ``medpriv synth`` (progress, cancellation, resume).

Input is a ``.txt`` note or a folder of them. For each note one ``<stem>.txt`` is written atomically into the output
folder, and a line is appended to ``manifest.jsonl`` there (file name, counts, status; never text). Running the same
command again skips notes whose output the run manifest (``.medpriv-run.jsonl``, ``core/resume.py``) vouches for, so
an interrupted batch resumes; files in the output folder that no run of this batch wrote are refused. The settings of
a batch are kept in ``synth_settings.json``; a second run with other settings or other input notes into the same
folder is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_write_bytes, atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.synth.engines.base import METHODS, SynthEngine
from medpriv_desktop.core.notes.synth.keywords import KeywordGate, PhiDetector
from medpriv_desktop.core.notes.synth.methods import SOURCE_MODES, prepare_request
from medpriv_desktop.core.outputs import Output, check_paths
from medpriv_desktop.core.resume import FOLDER_MANIFEST, RunManifest, refuse_unknown
from medpriv_desktop.core.text.reading import read_text

MANIFEST = "manifest.jsonl"
SETTINGS = "synth_settings.json"


@dataclass
class SynthSettings:
    """What decides the output of a batch (kept beside the outputs to make resuming safe)."""

    method: str = "keyword"
    engine: str = "template"
    source_mode: str = "tagged"
    seed: int = 0
    max_keywords: int = 20
    max_new_tokens: int = 200
    note_type: str | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown method '{self.method}'", hint=f"choose one of {', '.join(METHODS)}")
        if self.source_mode not in SOURCE_MODES:
            raise InputError(f"unknown source mode '{self.source_mode}'", hint=f"choose one of {SOURCE_MODES}")


@dataclass
class SynthSummary:
    """Counts of a batch run."""

    written: int = 0
    skipped_done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def list_notes(input_path: Path) -> list[Path]:
    """The ``.txt`` notes of a file or folder (sorted)."""
    p = Path(input_path)
    if p.is_file():
        return [p]
    if p.is_dir():
        notes = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() == ".txt")
        if not notes:
            raise InputError("folder holds no .txt notes", path=p)
        return notes
    raise InputError("no such file or folder", path=p)


def _append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one JSON line to ``manifest.jsonl``, first cutting a torn last line a killed run may have left."""
    if path.is_file():
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, sort_keys=True) + "\n")


def _check_settings(out_dir: Path, settings: SynthSettings, engine: SynthEngine) -> dict[str, Any]:
    wanted = {**asdict(settings), **engine.describe()}
    f = out_dir / SETTINGS
    if f.is_file():
        try:
            old = json.loads(f.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(f"{SETTINGS} in the output folder is damaged", path=out_dir,
                             hint="use a new output folder, or add --restart") from None
        if old != json.loads(json.dumps(wanted)):
            raise InputError("output folder holds a batch made with other settings", path=out_dir,
                             hint="use a new output folder, or the same settings to resume")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(f, json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    return wanted


def synthesize_notes(input_path: str | Path, out_dir: str | Path, engine: SynthEngine, detector: PhiDetector | None,
                     settings: SynthSettings | None = None, gate: KeywordGate | None = None,
                     restart: bool = False) -> Job[SynthSummary]:
    """Generate one synthetic note per input note (see the module docstring).

    A run manifest (``core/resume.py``) vouches for finished outputs: a rerun skips only those, refuses other inputs,
    and refuses an output folder holding files it did not write. ``restart`` removes what an earlier run wrote (and
    only that) and starts over.
    """
    settings = settings or SynthSettings()
    notes = list_notes(Path(input_path))
    out = Path(out_dir)
    check_paths([Path(input_path), *notes], [Output(out, folder=True)])  # the command checked; other callers may not
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".*.part*"):  # temporary files of a killed run, never a finished output
        stale.unlink(missing_ok=True)
    run = RunManifest.open(out / FOLDER_MANIFEST, "notes.synth", where=out)
    if restart:
        run.discard(out)
        for name in (MANIFEST, SETTINGS):
            (out / name).unlink(missing_ok=True)
    state = run.scan_folder(out, ignore=(MANIFEST, SETTINGS))
    refuse_unknown(state, out)
    wanted = _check_settings(out, settings, engine)
    run.expect(inputs={p.name: run.mac_file(p) for p in notes}, options={"settings": wanted})
    run.begin()
    gate = gate or KeywordGate(detector)
    summary = SynthSummary()
    n = len(notes)
    for i, path in enumerate(notes):
        yield Progress(i / n, f"note {i + 1}/{n}")
        target = out / f"{path.stem}.txt"
        if target.name in state.done:
            summary.skipped_done += 1
            continue
        try:
            text = read_text(path)  # the app's one reader: same rules as de-identification and reports
            prep = prepare_request(text, settings.method, detector, source_mode=settings.source_mode,
                                   seed=settings.seed + i, note_type=settings.note_type,
                                   max_keywords=settings.max_keywords, max_new_tokens=settings.max_new_tokens,
                                   gate=gate)
            note = engine.generate(prep.request)
        except InputError as exc:
            summary.failed.append((str(path), exc.reason))
            continue
        data = note.encode("utf-8")
        run.record_output(target.name, data)  # before the rename: a kill in between only redoes this note
        atomic_write_bytes(target, data)
        row: dict[str, Any] = {"input": path.name, "output": target.name, "status": "ok",
                               "note_type": prep.request.note_type, **prep.counts}
        _append_row(out / MANIFEST, row)
        summary.written += 1
        for k, v in prep.counts.items():
            summary.counts[k] = summary.counts.get(k, 0) + v
    yield Progress(1.0, "done")
    return summary
