"""Text loading shared by the Notes and Reports workspaces: read a note/report or a CSV header with clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

from medpriv_desktop.core.errors import InputError

MAX_TEXT_BYTES = 10 * 1024 * 1024


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file; binary, non-UTF-8, empty or huge files give one clear :class:`InputError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=path) from None
    if size == 0:
        raise InputError("file is empty", path=path)
    if size > MAX_TEXT_BYTES:
        raise InputError(f"file is {size / 1e6:.1f} MB; the window opens notes up to 10 MB", path=path,
                         hint="use the command line (medpriv deid) for batch work")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise InputError("file looks binary, not text", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        enc = "latin-1 / Windows-1252" if all(b >= 0x20 or b in (9, 10, 13) for b in data[:4096]) else "unknown"
        raise InputError(f"file is not UTF-8 (looks like {enc})", path=path,
                         hint="re-save it as UTF-8") from None


def csv_columns(path: Path) -> list[str]:
    """Header of a CSV file (one clear error when it cannot be read)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except UnicodeDecodeError:
        raise InputError("CSV is not UTF-8 text", path=path, hint="save it as UTF-8") from None
    except (OSError, csv.Error) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"cannot read CSV ({why})", path=path) from None


def guess_text_column(columns: list[str]) -> str | None:
    """The likeliest text column of a notes/reports CSV."""
    for want in ("text", "note", "note_text", "report", "report_text", "findings"):
        for c in columns:
            if c.lower() == want:
                return c
    return columns[-1] if columns else None
