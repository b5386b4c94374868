"""The chain head: the last sequence number and entry hash, kept outside the log and keyed.

The head of ``<data>/audit/audit.jsonl`` is ``<config>/keys/audit.jsonl.head``: in the owner-only keys folder, not in
the log's folder, so removing or truncating the log (or its whole folder) leaves a head that no longer matches.
Anyone who can remove the head can also read the audit key there, which is outside what the chain protects against.
The head carries an HMAC under the chain key, so it cannot be rewritten to match a shortened log without the key.
It is written after each appended entry (atomically, under the same lock), so a crash between the two writes leaves
the log at most one keyed entry ahead of its head, which verification accepts and the next entry repairs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from medpriv_desktop.core import keys, paths
from medpriv_desktop.core.audit.entries import EntryProblem, canonical, chain_key, is_hex64

HEAD_VERSION = 1
_MAX_HEAD_BYTES = 4096
_MAC_LABEL = b"head\0"


def head_path_for(log_path: Path) -> Path:
    """Where the head of the log ``log_path`` lives: the keys folder, named after the log file."""
    return paths.keys_dir() / f"{log_path.name}.head"


@dataclass(frozen=True)
class Head:
    """The recorded end of a chain: the last entry's sequence number and hash, and the id of the key that signed it."""

    seq: int
    hash: str
    key_id: str


def _mac(audit_key: bytes, body: dict) -> str:
    return hmac.new(chain_key(audit_key), _MAC_LABEL + canonical(body), hashlib.sha256).hexdigest()


def read_head(path: Path, audit_key: bytes | None) -> Head | None:
    """The head stored at ``path`` (None when there is none); :class:`EntryProblem` when it is damaged or forged."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EntryProblem(f"the head file cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise EntryProblem("the head file is not a regular file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_HEAD_BYTES + 1)
    except OSError as exc:
        raise EntryProblem(f"the head file cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8")) if len(raw) <= _MAX_HEAD_BYTES else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or data.get("v") != HEAD_VERSION:
        raise EntryProblem("the head file is damaged")
    seq, digest, kid, mac = data.get("seq"), data.get("hash"), data.get("key_id"), data.get("mac")
    if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not is_hex64(digest)
            or not isinstance(kid, str) or not is_hex64(mac)):
        raise EntryProblem("the head file is damaged")
    if audit_key is None:
        raise EntryProblem("the audit key file is missing, so the head cannot be checked", missing_key=True)
    if kid != keys.key_id(audit_key):
        raise EntryProblem("the head was written with another audit key")
    body = {k: v for k, v in data.items() if k != "mac"}
    if not hmac.compare_digest(_mac(audit_key, body), mac):
        raise EntryProblem("the head file was changed (its MAC does not match)")
    return Head(seq, digest, kid)


def write_head(path: Path, audit_key: bytes, seq: int, digest: str) -> None:
    """Record ``seq``/``digest`` as the chain's head: written to a temporary file, synced, then renamed over."""
    body = {"v": HEAD_VERSION, "seq": seq, "hash": digest, "key_id": keys.key_id(audit_key)}
    data = canonical({**body, "mac": _mac(audit_key, body)}) + b"\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
