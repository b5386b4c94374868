"""The bundle manifest: one sha256 over every file of a model bundle. This module is its only definition.

Definition (format 1). A bundle is a folder that holds only regular files with plain names (no subfolders, no
symbolic links, no devices, FIFOs or sockets; a name has no path separator, no ``:``, no control character, is
valid UTF-8 and is not ``.`` or ``..``). Its *listing* is one line per file, sorted by the UTF-8 bytes of the name::

    <sha256 of the file, 64 lower-case hex><two spaces><name>\\n

which is exactly what ``sha256sum`` prints, and the *manifest hash* is the sha256 of the listing's UTF-8 bytes.
Every file counts, the card included, and hidden files too. On Linux the same number comes from::

    cd BUNDLE && LC_ALL=C ls -A | tr '\\n' '\\0' | xargs -0 sha256sum | sha256sum

Anything that breaks the rules above makes the bundle invalid with one :class:`ModelError` naming the file, both at
discovery (:func:`bundle_files`, which reads no file) and when hashing (:func:`bundle_manifest`). The manifest is
anchored outside the bundle: the table compiled into the app for bundled models (``bundled_manifests.py``), the
site allow-list, and the user's import records.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.jsonfile import file_kind

MANIFEST_FORMAT = 1
#: A bundle is a handful of files; thousands mean something else was dropped in (and would be slow to hash).
MAX_BUNDLE_FILES = 256
MAX_NAME_LENGTH = 255
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_FORBIDDEN_CHARS = frozenset("/\\:") | frozenset(chr(c) for c in range(32)) | {"\x7f"}


def plain_name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain file name inside a bundle, or None when it is one."""
    if not name:
        return "is empty"
    if name in (".", ".."):
        return "is not a file name"
    if len(name) > MAX_NAME_LENGTH:
        return "is too long"
    if any(ch in _FORBIDDEN_CHARS for ch in name):
        return "contains a path separator, ':' or a control character"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if name != name.strip():
        return "starts or ends with white space"
    return None


def check_plain_name(name: str, where: Path) -> str:
    """Return ``name`` when it is a plain file name; else raise :class:`ModelError` naming ``where``."""
    problem = plain_name_problem(name)
    if problem is not None:
        raise ModelError(f"file name {name!r} in the bundle {problem}; only plain names inside the bundle are "
                         "allowed", path=where)
    return name


def bundle_files(bundle: Path) -> list[str]:
    """The names of the bundle's files, sorted as in the listing; refuses anything but plain regular files.

    Reads directory entries and their ``lstat`` only (cheap enough for discovery). A bundle folder that is itself
    a symbolic link is refused as well, so a link to another place cannot pose as a bundle.
    """
    try:
        st = os.lstat(bundle)
    except OSError as exc:
        raise ModelError(f"bundle folder cannot be read ({type(exc).__name__})", path=bundle) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ModelError(f"bundle folder is {file_kind(st.st_mode)}", path=bundle)
    names: list[str] = []
    try:
        with os.scandir(bundle) as it:
            for item in it:
                check_plain_name(item.name, bundle)
                mode = item.stat(follow_symlinks=False).st_mode
                if not stat.S_ISREG(mode):
                    raise ModelError(f"bundle holds {file_kind(mode)}; a bundle may hold only plain files",
                                     path=bundle / item.name)
                names.append(item.name)
                if len(names) > MAX_BUNDLE_FILES:
                    raise ModelError(f"bundle holds more than {MAX_BUNDLE_FILES} files", path=bundle)
    except OSError as exc:
        raise ModelError(f"bundle folder cannot be listed ({type(exc).__name__})", path=bundle) from None
    return sorted(names, key=lambda n: n.encode("utf-8"))


def open_bundle_file(path: Path) -> int:
    """Open a file of a bundle for reading: no symlink followed, never blocking; it must be a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _NOFOLLOW | _BINARY)
    except OSError as exc:
        if os.path.islink(path):
            raise ModelError("bundle holds a symbolic link; a bundle may hold only plain files", path=path) from None
        raise ModelError(f"bundle file cannot be opened ({type(exc).__name__})", path=path) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ModelError(f"bundle holds {file_kind(mode)}; a bundle may hold only plain files", path=path)
    return fd


def sha256_bundle_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of one file of a bundle, opened with :func:`open_bundle_file`."""
    h = hashlib.sha256()
    fd = open_bundle_file(path)
    try:
        while block := os.read(fd, chunk):
            h.update(block)
    except OSError as exc:
        raise ModelError(f"bundle file cannot be read ({type(exc).__name__})", path=path) from None
    finally:
        os.close(fd)
    return h.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """A bundle's listing (name -> sha256 of the file) and its manifest hash."""

    files: dict[str, str]
    sha256: str

    def listing(self) -> str:
        """The canonical listing whose sha256 is :attr:`sha256`."""
        return listing_text(self.files)


def listing_text(files: dict[str, str]) -> str:
    """The canonical listing of ``name -> file sha256`` (the format in the module docstring)."""
    return "".join(f"{files[n]}  {n}\n" for n in sorted(files, key=lambda n: n.encode("utf-8")))


def bundle_manifest(bundle: Path) -> Manifest:
    """Hash every file of ``bundle`` and return its :class:`Manifest`; any rule broken raises :class:`ModelError`."""
    files = {name: sha256_bundle_file(bundle / name) for name in bundle_files(bundle)}
    return Manifest(files, hashlib.sha256(listing_text(files).encode("utf-8")).hexdigest())


def stat_signature(bundle: Path) -> tuple:
    """A cheap fingerprint of the bundle's files (name, size, mtime, inode) to reuse a manifest computed earlier.

    Used only as a cache key within one process; the hash itself is the check.
    """
    sig = []
    for name in bundle_files(bundle):
        st = os.lstat(bundle / name)
        sig.append((name, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
    return tuple(sig)
