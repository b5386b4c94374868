"""The one text reader of the app: notes, synthesis sources, reports and the GUI panes all read text here.

One rule set, so a file accepted by one workspace is never refused by another:

* UTF-8 is the default; a UTF-8 byte order mark is dropped; a UTF-16/UTF-32 byte order mark decodes as such.
* Any other encoding is refused, never guessed silently (a wrong guess turns names into mojibake that no
  recognizer finds): the message names the likeliest encoding (:func:`guess_encoding`) so the user can re-save the
  file or pass it explicitly (``encoding=``, ``--encoding`` on the command line).
* Binary content (NUL bytes outside UTF-16, or many control characters) is refused.
* One size limit for one document, :data:`MAX_TEXT_BYTES`; tables (CSV) have no whole-file limit, their callers
  bound each cell.
* An empty or blank document is refused.

Every refusal is one :class:`InputError` naming the file and the problem, never quoting its content.
The CSV helpers (:func:`csv_header`, :func:`guess_text_columns`) live here too: one header reader and one guesser of
the text column(s) for the Notes and Reports workspaces and the command line.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from medpriv_desktop.core.errors import InputError

#: The largest single document (a note, a report) any reader accepts unless its caller raises the limit explicitly
#: (``medpriv deid --max-size``). 16 MiB is about 4,000 pages of text: anything larger is a wrong file.
MAX_TEXT_BYTES = 16 * 1024 * 1024

#: How much of a CSV is read to find its header (a header longer than this is not a header).
HEADER_BYTES = 1024 * 1024

#: Column names that hold a whole note or report, in order of preference (compared case-insensitively).
WHOLE_TEXT_COLUMNS = ("text", "note", "note_text", "report", "report_text")
#: Column names that hold sections of one report, joined in this order when a CSV has no whole-text column.
SECTION_COLUMNS = ("findings", "impression")


def _human(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def guess_encoding(data: bytes) -> str:
    """A best guess at the encoding of bytes that are not UTF-8 (for the message; never used to decode)."""
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        return "utf-32"
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = data[:4096]
    if sample and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    if sample and sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be"
    if any(0x80 <= b <= 0x9F for b in sample):
        return "cp1252"
    return "latin-1"


def looks_binary(data: bytes) -> bool:
    """True for content that is not text (NUL bytes outside UTF-16/32, or more than 5% control characters)."""
    sample = data[:8192]
    if not sample:
        return False
    if b"\x00" in sample and not guess_encoding(sample).startswith(("utf-16", "utf-32")):
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) * 0.05


def decode_text(data: bytes, path: Path | str, encoding: str | None = None) -> str:
    """Text of a file's bytes by the rules of this module; :class:`InputError` for binary or undecodable bytes."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"cannot decode as {encoding} ({type(exc).__name__})", path=path) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif data[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) or data[:2] in (codecs.BOM_UTF16_LE,
                                                                                codecs.BOM_UTF16_BE):
        wide = "utf-32" if data[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) else "utf-16"
        try:
            text = data.decode(wide)
        except UnicodeDecodeError:
            raise InputError(f"starts with a {wide.upper()} byte order mark but is not valid {wide.upper()}",
                             path=path, hint="re-save it as UTF-8") from None
        # a BOM in front of binary bytes decodes to control characters: refuse it like any binary file
        if sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\f\r") > len(text[:4096]) * 0.05:
            raise InputError("binary file, not text", path=path, hint="only plain-text files can be read")
        return text
    if looks_binary(data):
        raise InputError("binary file, not text", path=path, hint="only plain-text files can be read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        enc = guess_encoding(data)
        raise InputError(f"not UTF-8 (byte {exc.start}; looks like {enc})", path=path,
                         hint=f"re-save it as UTF-8, or give the encoding {enc} (medpriv --encoding {enc})") from None


def _read_bytes(path: Path, max_bytes: int | None) -> bytes:
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise InputError(f"file is {_human(size)}, larger than the {_human(max_bytes)} limit", path=path,
                             hint="one document this large is most likely the wrong file")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None


def read_text(path: Path | str, encoding: str | None = None, max_bytes: int | None = MAX_TEXT_BYTES, *,
              allow_empty: bool = False) -> str:
    """Read and decode one document (note or report) by the rules of this module, refusing empty text.

    ``max_bytes=None`` lifts the size limit (for a table, whose cells the caller bounds). ``allow_empty`` is for a
    batch where an empty document has an outcome of its own (a report "not assessed"); every other rule still holds.
    """
    path = Path(path)
    text = decode_text(_read_bytes(path, max_bytes), path, encoding)
    if not allow_empty and not text.strip():
        raise InputError("file is empty (no text)", path=path)
    return text


def read_table_text(path: Path | str, encoding: str | None = None) -> str:
    """The decoded text of a CSV file (same encoding and binary rules; no whole-file size limit)."""
    return read_text(path, encoding, max_bytes=None)


def csv_header(path: Path | str, encoding: str | None = None) -> list[str]:
    """The header row of a CSV, reading at most :data:`HEADER_BYTES` (same decoding rules as the documents)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    if len(head) == HEADER_BYTES:
        # cut at the last line break so no character is split; the header is the first line anyway
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut > 0 else head
    text = decode_text(head, path, encoding)
    if not text.strip():
        raise InputError("file is empty (no text)", path=path)
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header ({type(exc).__name__})", path=path) from None


def guess_text_columns(columns: list[str], *, sections: bool = False) -> list[str]:
    """The likeliest text column of a notes or reports CSV, as a list of one name.

    A whole-text column (:data:`WHOLE_TEXT_COLUMNS`) wins; otherwise report sections (:data:`SECTION_COLUMNS`):
    all of those present when ``sections`` (the caller joins them into one report), else the first; otherwise the
    last column (ids usually come first). Empty for an empty header.
    """
    lower = {c.lower(): c for c in reversed(columns)}  # the first of two same-named columns wins
    for want in WHOLE_TEXT_COLUMNS:
        if want in lower:
            return [lower[want]]
    found = [lower[s] for s in SECTION_COLUMNS if s in lower]
    if found:
        return found if sections else found[:1]
    return columns[-1:]
