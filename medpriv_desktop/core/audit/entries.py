"""The audit entry format: canonical JSON, keyed entry hashes, the value rules, and the check of one stored line.

Format 2 (written now) carries ``"v": 2`` and an entry hash that is an HMAC-SHA256 over the canonical entry body (every
field but ``hash``, JSON with sorted keys and no spaces, ASCII). The HMAC key is not the audit key itself but a
*chain key* derived from it (HKDF-extract with a fixed label): the log also stores keyed HMACs of inputs, which anyone
can steer by choosing the input, and those must never double as a valid entry hash.

Format 1 (legacy, no ``v`` field) hashed the same body with plain SHA-256. Legacy lines still verify, but only before
the first keyed line: a legacy line after a keyed one is a break (otherwise anyone could append unkeyed entries).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from medpriv_desktop.core import keys
from medpriv_desktop.core.errors import MedPrivError

FORMAT_VERSION = 2
GENESIS = "0" * 64
#: A stored line longer than this is refused (entries hold counts and ids, a few hundred bytes).
MAX_LINE_BYTES = 64 * 1024
#: Fields the log itself fills in; callers may not pass them to ``record``.
RESERVED_FIELDS = frozenset({"v", "seq", "time", "user", "action", "key_id", "prev", "hash"})
#: Fields that may hold a short free string (an id, a version, an engine name).
FREE_TEXT_OK = frozenset({"action", "model_id", "model_version", "teacher_model_id", "teacher_model_version",
                          "status", "operator", "engine", "method", "format", "kind"})
MODEL_ROOTS = frozenset({"bundled", "site", "user"})
_CHAIN_LABEL = b"medpriv-audit-chain-v2"
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX8 = re.compile(r"[0-9a-f]{8}\Z")


class AuditError(MedPrivError):
    """The audit log cannot be written safely (broken tail, missing head, missing key, locked); nothing was done."""


class EntryProblem(Exception):
    """One stored line is not a valid entry; ``reason`` is a sentence without any of the line's content."""

    def __init__(self, reason: str, *, missing_key: bool = False) -> None:
        self.reason = reason
        #: True when the problem is only that no key is at hand to check a keyed entry or head.
        self.missing_key = missing_key
        super().__init__(reason)


def chain_key(audit_key: bytes) -> bytes:
    """The key of entry hashes and of the head's MAC, derived from the audit key (never used for input HMACs)."""
    return hmac.new(_CHAIN_LABEL, audit_key, hashlib.sha256).digest()


def canonical(body: dict[str, Any]) -> bytes:
    """The one byte form of an entry: sorted keys, no spaces, ASCII (what is hashed and what is written)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def _body(entry: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in entry.items() if k != "hash"})


def legacy_hash(entry: dict[str, Any]) -> str:
    """The unkeyed SHA-256 entry hash of format 1."""
    return hashlib.sha256(_body(entry)).hexdigest()


def keyed_hash(ckey: bytes, entry: dict[str, Any]) -> str:
    """The format-2 entry hash: HMAC-SHA256 under the chain key."""
    return hmac.new(ckey, _body(entry), hashlib.sha256).hexdigest()


def is_hex64(value: Any) -> bool:
    """True for a 64-digit lower-case hex string (a SHA-256 or HMAC-SHA256)."""
    return isinstance(value, str) and _HEX64.match(value) is not None


def check_value(key: str, value: Any) -> None:
    """Refuse any value that could carry patient text: only counts, booleans, ids, HMACs and hashes pass."""
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > 64:
                raise ValueError(f"audit field {key}: bad key")
            check_value(f"{key}.{k}", v)
        return
    if isinstance(value, str):
        top, leaf = key.split(".")[0], key.rsplit(".", 1)[-1]
        if top in FREE_TEXT_OK and len(value) <= 80:
            return
        if leaf == "model_root" and value in MODEL_ROOTS:
            return
        if (leaf.endswith("hmac") or leaf.endswith("_hash") or leaf == "model_manifest") and is_hex64(value):
            return
    raise ValueError(f"audit field '{key}' may hold only counts, ids and HMACs")


def check_fields(action: str, fields: dict[str, Any]) -> None:
    """Apply :func:`check_value` to a whole entry request and refuse the fields the log fills in itself."""
    for k in fields:
        if k in RESERVED_FIELDS:
            raise ValueError(f"audit field '{k}' is filled in by the log")
    check_value("action", action)
    for k, v in fields.items():
        check_value(k, v)


def parse_line(raw: bytes) -> dict[str, Any]:
    """Decode one stored line (without its newline) into an entry, or raise :class:`EntryProblem`.

    Checks shape only (fields present with the right types, canonical form); hashes and links are checked by the
    caller, who knows the key and the previous entry.
    """
    if len(raw) > MAX_LINE_BYTES:
        raise EntryProblem(f"line is longer than {MAX_LINE_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EntryProblem("line is not valid UTF-8") from None
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError):
        raise EntryProblem("line is not JSON") from None
    if not isinstance(entry, dict):
        raise EntryProblem("line is not a JSON object")
    for name, ok in (("seq", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
                     ("prev", is_hex64), ("hash", is_hex64),
                     ("action", lambda v: isinstance(v, str)), ("time", lambda v: isinstance(v, str))):
        if name not in entry:
            raise EntryProblem(f"field '{name}' is missing")
        if not ok(entry[name]):
            raise EntryProblem(f"field '{name}' has the wrong type or form")
    if "v" in entry:
        if entry["v"] != FORMAT_VERSION or isinstance(entry["v"], bool):
            raise EntryProblem("unknown entry format version")
        if not (isinstance(entry.get("key_id"), str) and _HEX8.match(entry["key_id"])):
            raise EntryProblem("field 'key_id' is missing or malformed")
    try:
        same = canonical(entry) == raw
    except (ValueError, UnicodeEncodeError):  # pragma: no cover - json.loads output always dumps
        same = False
    if not same:
        raise EntryProblem("line is not in the canonical form the log writes (edited by hand)")
    return entry


def is_keyed(entry: dict[str, Any]) -> bool:
    """True for a format-2 (keyed) entry."""
    return "v" in entry


def check_hash(entry: dict[str, Any], audit_key: bytes | None) -> None:
    """Recompute an entry's hash (keyed or legacy) and raise :class:`EntryProblem` when it does not match."""
    if not is_keyed(entry):
        if not hmac.compare_digest(legacy_hash(entry), entry["hash"]):
            raise EntryProblem("entry content changed (its hash does not match)")
        return
    if audit_key is None:
        raise EntryProblem("the audit key file is missing, so keyed entries cannot be checked", missing_key=True)
    if entry["key_id"] != keys.key_id(audit_key):
        raise EntryProblem(f"entry was keyed with another audit key (id {entry['key_id']})")
    if not hmac.compare_digest(keyed_hash(chain_key(audit_key), entry), entry["hash"]):
        raise EntryProblem("entry content changed or was forged without the key (its keyed hash does not match)")
