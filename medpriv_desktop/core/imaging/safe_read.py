"""Confined, bounded file access for the image readers: what a header or a DICOMDIR points to is read only when it
is a regular file inside the folder it belongs to, and compressed data is inflated only up to the size the header
declares.

Why: an image header names other files (NRRD ``data file``, MetaImage ``ElementDataFile``, DICOMDIR
``ReferencedFileID``). Followed blindly, ``/etc/passwd`` or ``../../other_patient/ct.raw`` is read as voxels, a FIFO
blocks the reader forever, ``/dev/zero`` behind a gzip encoding streams without end and a small gzip bomb fills the
memory. Every helper here raises :class:`UnsafeFileError` (a ``ValueError``) with a reason that names no file: the
callers turn it into an ``InputError`` naming the file the user opened.
"""

from __future__ import annotations

import bz2
import os
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["UnsafeFileError", "open_regular", "open_capped", "is_regular_file", "confined_path", "inflate_bounded",
           "INFLATE_ENCODINGS"]

#: Bytes of compressed input read at a time, and the most output produced by one call into the decompressor.
_IN_CHUNK = 1 << 20
_OUT_CHUNK = 16 << 20
#: Encodings :func:`inflate_bounded` understands, with the magic that starts a further concatenated member.
INFLATE_ENCODINGS = {"gzip": b"\x1f\x8b", "zlib": b"\x1f\x8b", "bzip2": b"BZh"}


class UnsafeFileError(ValueError):
    """A file that must not be read (outside its folder, not a regular file) or data larger than declared."""


def open_regular(path: str | Path) -> BinaryIO:
    """Open ``path`` for binary reading only if it is a regular file (after following links).

    The file is opened without blocking, so a FIFO cannot hang the caller, and checked on the open descriptor, so
    nothing can be swapped in between the check and the read. ``OSError`` (missing, no permission) propagates.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafeFileError(f"it is not a regular file but {_kind(mode)}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class CappedFile:
    """A regular file whose ``read(n)`` never asks the OS for more than what is left in the file.

    Why: CPython allocates the ``n`` bytes of ``read(n)`` before reading, so a parser that trusts a length field
    (pydicom reads a DICOM element of a declared 4 GB in one call) allocates 4 GB for a 1 kB file. Everything but
    ``read`` is the wrapped file's.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._size = os.fstat(fh.fileno()).st_size
        self._pos = fh.tell()  # kept here: parsers read in many small pieces, and tell() may be a system call

    def read(self, n: int | None = -1) -> bytes:
        """At most ``n`` bytes, and never more than the rest of the file (``-1`` or None: the rest)."""
        left = max(0, self._size - self._pos)
        data = self._fh.read(left if n is None or n < 0 else min(n, left))
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        """As the file's ``seek``; returns the new position."""
        self._pos = self._fh.seek(offset, whence)
        return self._pos

    def tell(self) -> int:
        """The current position."""
        return self._pos

    def __getattr__(self, name: str):
        return getattr(self._fh, name)

    def __enter__(self) -> CappedFile:
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()


def open_capped(path: str | Path) -> CappedFile:
    """:func:`open_regular`, wrapped so that no read asks for more than the file holds (for third-party parsers)."""
    return CappedFile(open_regular(path))


def is_regular_file(path: str | Path) -> bool:
    """True when ``path`` is (or links to) a regular file; False for folders, FIFOs, devices, sockets, missing."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def confined_path(candidate: Path, root: Path) -> Path:
    """``candidate`` with links resolved, if it lies inside ``root`` (links resolved too); else UnsafeFileError."""
    try:
        real_root = Path(root).resolve()
        real = Path(candidate).resolve()
    except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13)
        raise UnsafeFileError("it names a file through a loop of links") from None
    if real != real_root and real_root not in real.parents:
        raise UnsafeFileError("it names a file outside the folder of the file that refers to it")
    return real


class _Inflater:
    """One decompressor over a file, fed in chunks, with a cap on the output of every call."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._dec = self._new()
        self._tail = b""  # input handed over but not consumed yet (zlib keeps it outside the decompressor)

    def _new(self):
        # Window bits 47 accept both the gzip (NRRD) and the zlib (MetaImage) wrapper.
        return bz2.BZ2Decompressor() if self.encoding == "bzip2" else zlib.decompressobj(47)

    @property
    def eof(self) -> bool:
        return self._dec.eof

    def next_member(self, fh: BinaryIO) -> bool:
        """After the end of one stream: start the next concatenated member, or False at the end (or at padding)."""
        rest = self._dec.unused_data or fh.read(_IN_CHUNK)
        if not rest.startswith(INFLATE_ENCODINGS[self.encoding]):
            return False  # end of data, or padding after the last member: both are ignored, as gzip does
        self._dec = self._new()
        self._tail = rest
        return True

    def step(self, fh: BinaryIO, room: int) -> tuple[bytes, bool]:
        """Up to ``room`` bytes of output, and whether any new input was available."""
        if self.encoding == "bzip2":
            data = fh.read(_IN_CHUNK) if (self._dec.needs_input and not self._tail) else self._tail
            self._tail = b""
            return self._dec.decompress(data, room), bool(data)
        data = self._dec.unconsumed_tail or self._tail or fh.read(_IN_CHUNK)
        self._tail = b""
        return self._dec.decompress(data, room), bool(data)


def inflate_bounded(fh: BinaryIO, encoding: str, skip: int, nbytes: int) -> np.ndarray:
    """Decompress ``fh`` (gzip, zlib or bzip2; concatenated members joined) into exactly ``nbytes`` bytes.

    The first ``skip`` decompressed bytes are dropped. At most ``skip + nbytes + 1`` bytes are ever produced: more
    output than that, or less, raises :class:`UnsafeFileError` (too much) or :class:`EOFError` (truncated);
    damaged data raises ``zlib.error``/``OSError``. The result is a uint8 array of ``nbytes`` (the caller views it as
    voxels without a copy); it is allocated once and filled as the data arrives.
    """
    if encoding not in INFLATE_ENCODINGS:
        raise ValueError(f"not a compressed encoding: {encoding}")
    out = np.empty(nbytes, np.uint8)
    limit = skip + nbytes
    produced = 0
    inflater = _Inflater(encoding)
    while True:
        if inflater.eof and not inflater.next_member(fh):
            break
        room = min(limit + 1 - produced, _OUT_CHUNK)
        chunk, had_input = inflater.step(fh, room)
        if chunk:
            start, end = produced, produced + len(chunk)
            if end > limit:
                raise UnsafeFileError(f"the compressed data holds more than the {nbytes} bytes the header declares")
            lo = max(skip, start)
            if end > lo:
                out[lo - skip:end - skip] = np.frombuffer(chunk, np.uint8)[lo - start:]
            produced = end
        elif not had_input and not inflater.eof:
            break  # the input ended inside a stream
    if produced < limit:
        raise EOFError(f"data is truncated: {max(produced - skip, 0)} of {nbytes} bytes")
    return out
