"""Atomic writes: a temporary file in the target folder, flushed, then renamed over the target.

A failed write (a full disk, a permission, a read-only file system) surfaces as an :class:`OSError` that names the
*target*, not the hidden temporary file, so ``medpriv`` can say ``error: OUT/x.csv: no space left on device``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed to ``target``, on error removed.

    Writers that need a file name (SimpleITK, VTK, highdicom) write to the yielded path. ``suffix`` defaults to the
    target's full suffix so that format detection by extension still works (``.nii.gz``).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{sfx}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes owner-only files; give outputs the permissions a normal open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        if exc.filename in (None, str(tmp_path), tmp_path):
            raise naming(exc, target) from exc
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def naming(exc: OSError, path: str | Path) -> OSError:
    """``exc`` as the same kind of error with ``path`` as its file name (buffered writes lose the name)."""
    if exc.filename not in (None, "") and str(exc.filename) == str(path):
        return exc
    return type(exc)(exc.errno, exc.strerror or "input/output error", str(path))


@contextlib.contextmanager
def atomic_open(target: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file for writing that becomes ``target`` only when the block succeeds."""
    if "b" in mode:
        encoding = None
    with atomic_path(target) as tmp:
        with open(tmp, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(target: str | Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_open(target, "w") as fh:
        fh.write(text)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_open(target, "wb") as fh:
        fh.write(data)
