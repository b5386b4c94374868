"""An append-only, tamper-evident audit log (JSON lines, hash-chained).

Each entry holds: sequence number, UTC time, OS user, action, model id and version, counts, a keyed HMAC of the
input (never a plain hash, which could be reversed for short PHI by guessing), the previous entry's hash and its own
hash. Entries never hold text from notes, reports or DICOM headers: :meth:`AuditLog.record` accepts only numbers,
booleans, ids and HMACs, and refuses free strings outside a short list of fields.

Verification (:func:`verify_chain`) recomputes every hash; an edited, removed or reordered line breaks the chain at
that line.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medpriv_desktop.core import keys, paths

GENESIS = "0" * 64
_FREE_TEXT_OK = {"action", "model_id", "model_version", "status", "operator", "engine", "method", "format", "kind"}
_lock = threading.Lock()


def _entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_value(key: str, value: Any) -> None:
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > 64:
                raise ValueError(f"audit field {key}: bad key")
            _check_value(f"{key}.{k}", v)
        return
    if isinstance(value, str):
        if key.split(".")[0] in _FREE_TEXT_OK and len(value) <= 80:
            return
        if key.endswith("hmac") and len(value) == 64:
            return
    raise ValueError(f"audit field '{key}' may hold only counts, ids and HMACs")


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_chain`."""

    ok: bool
    entries: int
    first_bad_line: int | None = None
    reason: str = ""


class AuditLog:
    """The audit log of this user (``<data>/audit/audit.jsonl``), keyed by the site's audit key."""

    def __init__(self, path: Path | None = None, key: bytes | None = None) -> None:
        self.path = path or paths.audit_dir() / "audit.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = key

    @property
    def key(self) -> bytes:
        """The HMAC key (loaded lazily)."""
        if self._key is None:
            self._key = keys.load_key("audit")
        return self._key

    def input_hmac(self, data: bytes | str) -> str:
        """Keyed HMAC of an input (file bytes or text) for the ``input_hmac`` field."""
        return keys.keyed_digest(self.key, data)

    def _last(self) -> tuple[int, str]:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0, GENESIS
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail = fh.read().splitlines()
        last = json.loads(tail[-1])
        return int(last["seq"]), str(last["hash"])

    def record(self, action: str, **fields: Any) -> dict[str, Any]:
        """Append one entry. Field values must be counts, booleans, ids (short strings) or HMACs."""
        for k, v in fields.items():
            _check_value(k, v)
        _check_value("action", action)
        with _lock:
            seq, prev = self._last()
            entry: dict[str, Any] = {
                "seq": seq + 1,
                "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "user": _os_user(),
                "action": action,
                "key_id": keys.key_id(self.key),
                **fields,
                "prev": prev,
            }
            entry["hash"] = _entry_hash(entry)
            line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
            # O_APPEND: each entry lands whole at the end even if two processes write.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def verify(self) -> VerifyResult:
        """Check this log's chain."""
        return verify_chain(self.path)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def verify_chain(path: Path) -> VerifyResult:
    """Recompute every entry's hash and link; report the first broken line (1-based)."""
    if not path.exists():
        return VerifyResult(True, 0)
    prev = GENESIS
    n = 0
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                return VerifyResult(False, n, i, "line is not JSON")
            if entry.get("prev") != prev:
                return VerifyResult(False, n, i, "link to previous entry broken (line removed or reordered)")
            if entry.get("seq") != n + 1:
                return VerifyResult(False, n, i, "sequence number out of order")
            if _entry_hash(entry) != entry.get("hash"):
                return VerifyResult(False, n, i, "entry content changed")
            prev = entry["hash"]
            n += 1
    return VerifyResult(True, n)
