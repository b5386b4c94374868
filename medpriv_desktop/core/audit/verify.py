"""Full verification of an audit log: every line, every link, every hash, then the head.

Never raises for a bad log: unreadable files, non-UTF-8 bytes, binary junk, huge lines, missing or mistyped fields
and a missing key all come back as a :class:`VerifyResult` naming the first bad line and a reason. Lines are read
with a bounded ``readline`` so a log of junk without line ends cannot exhaust memory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from medpriv_desktop.core import keys
from medpriv_desktop.core.audit.entries import (
    GENESIS,
    MAX_LINE_BYTES,
    EntryProblem,
    check_hash,
    is_keyed,
    parse_line,
)
from medpriv_desktop.core.audit.head import Head, head_path_for, read_head
from medpriv_desktop.core.errors import MedPrivError


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_chain`: ``first_bad_line`` is 1-based, or None for a problem of the head file."""

    ok: bool
    entries: int
    first_bad_line: int | None = None
    reason: str = ""
    #: How many leading entries are of the old, unkeyed format.
    legacy: int = 0
    #: The sequence number the head records (None when there is no head).
    head_seq: int | None = None


def _existing_audit_key() -> tuple[bytes | None, str]:
    """The audit key if its file exists (never created here), and why it is unusable otherwise."""
    try:
        key = keys.existing_key("audit")
    except MedPrivError:
        return None, "the audit key file cannot be read, so keyed entries cannot be checked"
    return key, "" if key is not None else "the audit key file is missing, so keyed entries cannot be checked"


def verify_chain(path: Path, key: bytes | None = None, head_path: Path | None = None) -> VerifyResult:
    """Check every entry's hash, link and sequence number, then the log's end against its head.

    ``key`` defaults to the existing audit key (a missing key file is reported, never created); ``head_path``
    defaults to :func:`head_path_for`. Detects edited, removed, reordered, forged and appended-without-key lines,
    a recomputed chain, removed last lines and a removed log.
    """
    key_reason = ""
    if key is None:
        key, key_reason = _existing_audit_key()
    head: Head | None = None
    head_problem = ""
    try:
        head = read_head(head_path or head_path_for(path), key)
    except EntryProblem as exc:
        head_problem = key_reason if key is None else exc.reason
    res, hash_at_head = _scan(path, key, key_reason, head.seq if head else None)
    res.head_seq = head.seq if head else None
    n = res.entries
    if not res.ok:
        return res
    if head_problem:
        return VerifyResult(False, n, None, head_problem, res.legacy)
    if head is None:
        if n > res.legacy:
            return VerifyResult(False, n, None, "the chain's head file is missing (kept in the keys folder)",
                                res.legacy)
        return res
    if n == 0:
        return VerifyResult(False, 0, 1, f"log missing or empty but a head exists (it records {head.seq} entries)",
                            res.legacy, head.seq)
    if n < head.seq:
        return VerifyResult(False, n, n + 1, f"log shorter than its recorded head ({n} entries, the head records "
                            f"{head.seq}): last lines removed", res.legacy, head.seq)
    if hash_at_head != head.hash:
        return VerifyResult(False, n, head.seq, "entry differs from the one the head records", res.legacy, head.seq)
    return res


def _scan(path: Path, key: bytes | None, key_reason: str, head_seq: int | None) -> tuple[VerifyResult, str | None]:
    """Walk the log line by line; return the result and the hash of entry ``head_seq`` (when reached)."""
    legacy = n = 0
    prev = GENESIS
    seen_keyed = False
    hash_at_head: str | None = None

    def bad(line: int, reason: str) -> tuple[VerifyResult, str | None]:
        return VerifyResult(False, n, line, reason, legacy), None

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return VerifyResult(True, 0), None
    except OSError as exc:
        return bad(1, f"the log cannot be read ({exc.strerror})")
    if not stat.S_ISREG(st.st_mode):
        return bad(1, "the log is not a regular file")
    try:
        with open(path, "rb") as fh:
            while raw := fh.readline(MAX_LINE_BYTES + 2):
                i = n + 1
                if not raw.endswith(b"\n"):
                    if len(raw) > MAX_LINE_BYTES:
                        return bad(i, f"line is longer than {MAX_LINE_BYTES // 1024} KiB")
                    return bad(i, "last line is incomplete (no line end: a write was cut off)")
                try:
                    entry = parse_line(raw[:-1])
                    if entry["prev"] != prev:
                        return bad(i, "link to previous entry broken (line removed or reordered)")
                    if entry["seq"] != i:
                        return bad(i, "sequence number out of order")
                    if is_keyed(entry):
                        seen_keyed = True
                    elif seen_keyed:
                        return bad(i, "unkeyed (legacy) entry after keyed entries")
                    if is_keyed(entry) and key is None:
                        return bad(i, key_reason)
                    check_hash(entry, key)
                except EntryProblem as exc:
                    return bad(i, exc.reason)
                legacy += 0 if seen_keyed else 1
                prev = entry["hash"]
                n = i
                if i == head_seq:
                    hash_at_head = prev
    except OSError as exc:
        return bad(n + 1, f"the log cannot be read ({exc.strerror})")
    return VerifyResult(True, n, None, "", legacy), hash_at_head
