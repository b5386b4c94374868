"""CSV cells the app writes and CSV headers it quotes back: no formula injection, no note text in messages.

**Formula injection.** A spreadsheet opens a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, tab or carriage return) as a formula, so a note or an id column carrying ``=HYPERLINK(...)`` would run
when a colleague opens the output. Every CSV writer of the app goes through :func:`neutralise_cell` (or
:class:`SafeCsvWriter`), which follows OWASP's CSV-injection rule: such a cell gets a single quote in front
(``=1+1`` is written as ``'=1+1``). The rule is applied to every cell, so a de-identified note that legitimately
starts with ``-`` (``- pt stable``) is written as ``'- pt stable``; a reader that wants the original text strips one
leading ``'`` from cells whose next character is one of the trigger characters (:func:`restore_cell`). Numbers the
app writes itself (0/1 decisions, probabilities) never start with a trigger character.

**Headers in messages.** When a named column is missing, the message lists the columns only when the first row
looks like a header (a few short names); a file without a header has a note in its first row, and that must not be
printed (:func:`describe_columns`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO, Any

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: A column name longer than this, or a header with more columns, is not quoted back in a message.
MAX_NAME_CHARS = 32
MAX_NAME_WORDS = 4
MAX_NAMED_COLUMNS = 50


def neutralise_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text starting with ``= + - @``, tab or CR (OWASP); else unchanged.

    Integers and floats the app computes pass through as they are (a negative number would be quoted only when
    it is given as text).
    """
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """Undo :func:`neutralise_cell` for one cell read back from a CSV the app wrote."""
    if value.startswith("'") and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


class SafeCsvWriter:
    """A ``csv.writer`` whose rows are neutralised cell by cell (see the module docstring)."""

    def __init__(self, fh: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(fh, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row, every text cell neutralised."""
        return self._writer.writerow([neutralise_cell(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write several rows (each through :meth:`writerow`)."""
        for row in rows:
            self.writerow(row)


def looks_like_header(names: Sequence[str]) -> bool:
    """True when every name is short (a few words, one line) and there are not too many: a header, not a row of text.

    A file without a header whose first row is all short cells still passes; the limits make that a row of ids
    and codes rather than a sentence of a note.
    """
    if not names or len(names) > MAX_NAMED_COLUMNS:
        return False
    return all(len(n) <= MAX_NAME_CHARS and len(n.split()) <= MAX_NAME_WORDS and n.isprintable() for n in names)


def describe_columns(names: Sequence[str]) -> str:
    """A hint that lists the columns, or only counts them when the first row does not look like a header."""
    if looks_like_header(names):
        return "columns: " + ", ".join(names)
    return f"the first row has {len(names)} columns and does not look like a header (is the header missing?)"
