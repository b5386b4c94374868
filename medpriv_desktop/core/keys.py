"""Secret keys the site keeps: one for the audit log's HMAC, one for reproducible surrogates.

Keys are 32 random bytes, hex-encoded in ``<config>/keys/<name>.key`` (owner-only permissions), created on first use.
``MEDPRIV_KEY_DIR`` points elsewhere (e.g. a folder IT manages). Keys are never written next to any output.
Rotation: move the old file away; a new key is made on next use (surrogates then change). The audit log is keyed, so
rotating ``audit.key`` also means a new log: move the key away, then run ``medpriv audit new-log``; every entry
records its key's id (the first 8 hex digits of the key's sha256), and an old log verifies with its old key
(``medpriv audit verify --log OLD --key OLD_KEY``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ConfigError


def key_dir() -> Path:
    """Folder of the key files."""
    env = os.environ.get("MEDPRIV_KEY_DIR")
    if env:
        p = Path(env)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return paths.keys_dir()


def key_path(name: str) -> Path:
    """The file of the key called ``name``."""
    return key_dir() / f"{name}.key"


def load_key(name: str) -> bytes:
    """The key called ``name``, created (owner-only) when it does not exist yet."""
    path = key_path(name)
    if not os.path.lexists(path):
        _create_key(path)
    return _read_key(path)


def _create_key(path: Path) -> None:
    """Write a new key so that no process ever reads a half-written file, and the first of two racing ones wins.

    The key is written and synced under a private name, then hard-linked to its name (which fails if another
    process got there first; its key is then used).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: exclusive create instead
            try:
                fd2 = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd2, "w") as fh:
                fh.write(tmp.read_text())
    finally:
        tmp.unlink(missing_ok=True)


def existing_key(name: str) -> bytes | None:
    """The key called ``name`` if its file exists, else None; never creates one (verification must not)."""
    path = key_path(name)
    if not os.path.lexists(path):
        return None
    return _read_key(path)


def read_key_file(path: Path) -> bytes:
    """A key from any key file (e.g. a retired one kept for verifying old logs); :class:`ConfigError` when damaged."""
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    """Read a hex key file; a damaged one is a :class:`ConfigError` naming the file, never its content."""
    try:
        with open(path, "rb") as fh:
            key = bytes.fromhex(fh.read(4096).decode("ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError):
        key = b""
    if len(key) < 16:
        raise ConfigError("the key file is unreadable or is not a hex key of at least 16 bytes", path=path,
                          hint="restore it from a backup, or move it away to have a new key made")
    return key


def key_id(key: bytes) -> str:
    """A short public id of a key (never the key itself)."""
    return hashlib.sha256(key).hexdigest()[:8]


def keyed_digest(key: bytes, data: bytes | str) -> str:
    """HMAC-SHA256 of ``data`` under ``key``, hex."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).hexdigest()
