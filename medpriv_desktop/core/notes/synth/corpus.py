"""Source notes with gold PHI spans for the assessment: the PhysioNet deid format, or JSON lines.

PhysioNet deid: ``id.text`` holds records ``START_OF_RECORD=pid||||nid||||`` + body + ``||||END_OF_RECORD``; and
``id-phi.phrase`` one span a line, ``pid nid start end TYPE text`` (offsets into the body). JSON lines: one object a
line with ``id``, ``text`` and ``phi`` = ``[[start, end, CATEGORY], ...]`` (project category names).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.notes.spans import CATEGORIES
from medpriv_desktop.core.notes.synth.privacy import PHYSIONET_CATEGORIES

_RECORD = re.compile(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", re.S)


@dataclass
class SourceNote:
    """One source note and its gold PHI spans ``(start, end, category)``."""

    id: str
    text: str
    spans: list[tuple[int, int, str]]


def read_physionet(folder: str | Path, limit: int | None = None) -> list[SourceNote]:
    """Notes of a PhysioNet deid folder (``id.text`` + ``id-phi.phrase``)."""
    folder = Path(folder)
    text_file, phrase_file = folder / "id.text", folder / "id-phi.phrase"
    for f in (text_file, phrase_file):
        if not f.is_file():
            raise InputError("PhysioNet deid file missing", path=f, hint="expected id.text and id-phi.phrase")
    recs = _RECORD.findall(text_file.read_text(encoding="latin-1"))
    if not recs:
        raise InputError("no START_OF_RECORD ... END_OF_RECORD records found", path=text_file)
    spans: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for ln in phrase_file.read_text(encoding="latin-1").splitlines():
        f = ln.split(None, 5)
        if len(f) >= 5 and f[0].isdigit():
            cat = PHYSIONET_CATEGORIES.get(f[4])
            if cat is not None:
                spans.setdefault((int(f[0]), int(f[1])), []).append((int(f[2]), int(f[3]), cat))
    notes = [SourceNote(f"p{int(p):04d}_n{int(n):04d}", body, sorted(spans.get((int(p), int(n)), [])))
             for p, n, body in recs]
    notes.sort(key=lambda s: s.id)
    return notes[:limit] if limit else notes


def read_jsonl(path: str | Path, limit: int | None = None) -> list[SourceNote]:
    """Notes of a JSON-lines file (see the module docstring)."""
    path = Path(path)
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read JSON lines ({type(exc).__name__})", path=path) from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            spans = [(int(s), int(e), str(c)) for s, e, c in row.get("phi", [])]
            note = SourceNote(str(row.get("id", i)), str(row["text"]), spans)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise InputError(f"line {i} is not an object with text and phi", path=path) from None
        bad = [c for _, _, c in spans if c not in CATEGORIES]
        if bad:
            raise InputError(f"line {i}: unknown PHI category", path=path, hint=f"use one of {sorted(CATEGORIES)}")
        out.append(note)
    if not out:
        raise InputError("no notes in file", path=path)
    return out[:limit] if limit else out


def read_corpus(path: str | Path, limit: int | None = None) -> list[SourceNote]:
    """A PhysioNet deid folder or a ``.jsonl`` file."""
    p = Path(path)
    if p.is_dir():
        return read_physionet(p, limit)
    if p.is_file() and p.suffix == ".jsonl":
        return read_jsonl(p, limit)
    raise InputError("not a PhysioNet deid folder or a .jsonl file", path=p)
