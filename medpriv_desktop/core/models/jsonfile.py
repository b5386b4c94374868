"""Bounded, non-blocking reading of the small JSON files that steer model loading.

Model cards, the site allow-list, the machine-wide site config and the user's import records are all small JSON
files that someone else may have replaced with something hostile or broken: a directory, a FIFO (opening one for
reading blocks forever), a symlink to ``/dev/zero``, a gigabyte of text, or ``[[[[...]]]]`` nested deeply enough to
overflow Python's recursion limit inside :mod:`json`. :func:`read_json_file` checks the file type before opening,
opens without blocking, reads at most ``max_bytes``, and measures the nesting depth before parsing, so each of those
becomes one :class:`~medpriv_desktop.core.errors.ModelError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import ModelError

#: Open flags: never block on a FIFO; O_NOFOLLOW is added where symlinks must be refused (not on Windows).
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET_RE = re.compile(r"[\[\]{}]")


def file_kind(mode: int) -> str:
    """A few words for a file type that is not a regular file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def describe_non_regular(path: Path, follow_symlinks: bool) -> str | None:
    """None when ``path`` is a regular file (following symlinks only if asked), else what it is instead."""
    try:
        st = os.stat(path) if follow_symlinks else os.lstat(path)
    except FileNotFoundError:
        if follow_symlinks and os.path.lexists(path):
            return "a dangling symbolic link"
        return "missing"
    except OSError as exc:
        return f"not readable ({type(exc).__name__})"
    return None if stat.S_ISREG(st.st_mode) else file_kind(st.st_mode)


def read_bytes_bounded(path: Path, max_bytes: int, follow_symlinks: bool, what: str) -> bytes:
    """Read a whole regular file of at most ``max_bytes``; anything else raises :class:`ModelError`.

    The type is checked with ``lstat``/``stat`` first, the file is opened non-blocking (a FIFO swapped in after the
    check cannot hang us), and ``fstat`` on the open descriptor confirms it is still a regular file.
    """
    problem = describe_non_regular(path, follow_symlinks)
    if problem is not None:
        raise ModelError(f"{what} is {problem}", path=path)
    flags = os.O_RDONLY | _NONBLOCK | _BINARY | (0 if follow_symlinks else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ModelError(f"{what} cannot be opened ({type(exc).__name__})", path=path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"{what} is {file_kind(st.st_mode)}", path=path)
        if st.st_size > max_bytes:
            raise ModelError(f"{what} is too large ({st.st_size:,} bytes; limit {max_bytes:,})", path=path)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            block = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        if total > max_bytes:  # the file grew after fstat
            raise ModelError(f"{what} is too large (limit {max_bytes:,} bytes)", path=path)
        return b"".join(chunks)
    except OSError as exc:
        raise ModelError(f"{what} cannot be read ({type(exc).__name__})", path=path) from None
    finally:
        os.close(fd)


def json_depth(text: str) -> int:
    """Deepest nesting of arrays and objects in JSON text (strings skipped), without recursion."""
    depth = best = 0
    for m in _BRACKET_RE.finditer(_STRING_RE.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
    return best


def read_json_file(path: Path, *, what: str, max_bytes: int, max_depth: int, follow_symlinks: bool) -> Any:
    """Parse a small JSON file safely; every failure is one :class:`ModelError` naming ``path`` and ``what``."""
    raw = read_bytes_bounded(path, max_bytes, follow_symlinks, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ModelError(f"{what} is not UTF-8 text", path=path) from None
    depth = json_depth(text)
    if depth > max_depth:
        raise ModelError(f"{what} is nested too deeply ({depth} levels; limit {max_depth})", path=path)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{what} is not valid JSON ({type(exc).__name__})", path=path) from None
