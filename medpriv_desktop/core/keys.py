"""Secret keys the site keeps: one for the audit log's HMAC, one for reproducible surrogates.

Keys are 32 random bytes, hex-encoded in ``<config>/keys/<name>.key`` (owner-only permissions), created on first use.
``MEDPRIV_KEY_DIR`` points elsewhere (e.g. a folder IT manages). Keys are never written next to any output.
Rotation: move the old file away; a new key is made on next use (surrogates then change; the audit chain records the
new key's id, the first 8 hex digits of its own sha256).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from medpriv_desktop.core import paths


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
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def key_id(key: bytes) -> str:
    """A short public id of a key (never the key itself)."""
    return hashlib.sha256(key).hexdigest()[:8]


def keyed_digest(key: bytes, data: bytes | str) -> str:
    """HMAC-SHA256 of ``data`` under ``key``, hex."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).hexdigest()
