"""Reading notes safely: empty, binary, non-UTF-8 and oversized inputs each get one clear message.

Messages name the file and the problem and never quote its content. A non-UTF-8 file is not guessed silently: the
message says which encoding it most likely is (BOM, UTF-16 pattern, or Windows-1252/Latin-1 bytes) and how to pass
it with ``--encoding``.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from medpriv_desktop.core.errors import InputError

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


def _human(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def guess_encoding(data: bytes) -> str:
    """A best guess at the encoding of bytes that are not UTF-8."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        return "utf-32"
    sample = data[:4096]
    if sample and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    if sample and sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be"
    if any(0x80 <= b <= 0x9F for b in sample):
        return "cp1252"
    return "latin-1"


def looks_binary(data: bytes) -> bool:
    """True for content that is not text (NUL bytes outside UTF-16, or many control characters)."""
    sample = data[:8192]
    if not sample:
        return False
    if b"\x00" in sample and not guess_encoding(sample).startswith("utf-16") and not guess_encoding(sample).startswith("utf-32"):
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) * 0.05


def decode_note(data: bytes, path: Path | str, encoding: str | None = None) -> str:
    """Text of a note's bytes; raises :class:`InputError` for empty, binary and undecodable content."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"cannot decode as {encoding} ({type(exc).__name__})", path=path) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("starts with a UTF-16 byte order mark but is not valid UTF-16", path=path,
                             hint="re-save it as UTF-8 or UTF-16") from None
    if looks_binary(data):
        raise InputError("binary file, not a text note", path=path, hint="only plain-text notes can be de-identified")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        enc = guess_encoding(data)
        raise InputError(f"not UTF-8 (byte {exc.start}; looks like {enc})", path=path,
                         hint=f"re-save as UTF-8 or run again with --encoding {enc}") from None


def read_note(path: Path, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read and decode one note file, with the checks of :func:`decode_note` plus size and emptiness."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    if size > max_bytes:
        raise InputError(f"note is {_human(size)}, larger than the {_human(max_bytes)} limit", path=path,
                         hint="raise the limit with --max-size MB if this is really one note")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    text = decode_note(data, path, encoding)
    if not text.strip():
        raise InputError("empty note (no text)", path=path, hint="nothing to de-identify; no output written")
    return text
