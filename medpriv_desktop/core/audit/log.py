"""The user's audit log: append keyed entries under an inter-process lock, check the tail before work, start anew."""

from __future__ import annotations

import getpass
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medpriv_desktop.core import keys, paths
from medpriv_desktop.core.audit.entries import (
    FORMAT_VERSION,
    GENESIS,
    MAX_LINE_BYTES,
    AuditError,
    EntryProblem,
    canonical,
    chain_key,
    check_fields,
    check_hash,
    is_keyed,
    keyed_hash,
    parse_line,
)
from medpriv_desktop.core.audit.head import Head, head_path_for, read_head, write_head
from medpriv_desktop.core.audit.lock import AuditLock
from medpriv_desktop.core.audit.verify import VerifyResult, verify_chain

#: Bytes read from the end of the log by :meth:`AuditLog.preflight` (several entries, more than one longest line).
_TAIL_WINDOW = 4 * MAX_LINE_BYTES
_HINT = "run `medpriv audit verify` for details; `medpriv audit new-log` keeps the old log and starts a new one"


class AuditLog:
    """The audit log of this user (``<data>/audit/audit.jsonl``), keyed by the site's audit key.

    ``path``, ``key`` and ``head_path`` default to the user's log, ``keys.load_key("audit")`` and the head beside the
    keys (:func:`~medpriv_desktop.core.audit.head.head_path_for`); tests pass their own.
    """

    def __init__(self, path: Path | None = None, key: bytes | None = None, head_path: Path | None = None) -> None:
        self.path = path or paths.audit_dir() / "audit.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.head_path = head_path or head_path_for(self.path)
        self._key = key

    @property
    def key(self) -> bytes:
        """The HMAC key (loaded lazily; created on first use)."""
        if self._key is None:
            self._key = keys.load_key("audit")
        return self._key

    def input_hmac(self, data: bytes | str) -> str:
        """Keyed HMAC of an input (file bytes or text) for the ``input_hmac`` field."""
        return keys.keyed_digest(self.key, data)

    def record(self, action: str, **fields: Any) -> dict[str, Any]:
        """Append one entry. Field values must be counts, booleans, ids (short strings), HMACs or hashes.

        Raises ``ValueError`` for a field that could carry text, and :class:`AuditError` (nothing written) when the
        log's tail or head is broken, the key is missing for a keyed log, or the log cannot be written.
        """
        check_fields(action, fields)
        with AuditLock(self.path):
            seq, prev = self._check_tail(self._existing_key())
            return self._append(seq, prev, action, fields)

    def preflight(self) -> None:
        """Fast check that the next :meth:`record` can succeed: the last entries and the head match.

        Reads only the end of the log (not the whole chain). Call it before a command writes any output, so a broken
        log stops the run with one message instead of failing after the work is done. Raises :class:`AuditError`.
        """
        with AuditLock(self.path):
            self._check_tail(self._existing_key())

    def verify(self) -> VerifyResult:
        """Check this log's whole chain and its head (never raises for a bad log)."""
        lock: AuditLock | None = AuditLock(self.path, timeout=10.0)
        try:
            lock.__enter__()
        except AuditError:  # read-only folder or a stuck writer: verify what is there
            lock = None
        try:
            return verify_chain(self.path, self._key_or_none(), self.head_path)
        finally:
            if lock is not None:
                lock.__exit__(None, None, None)

    def start_new_log(self) -> Path | None:
        """Move the log and its head aside (``audit-<UTC time>.jsonl``) and start a new chain; return the old path.

        The new log's first entry (``audit.new_log``) records how many entries the old one held, whether it verified,
        and its head, so the new chain is linked to the end of the old one. Works on a broken log (that is its use)
        and with a lost key (a new key is made; the old log then verifies only with the old key).
        """
        with AuditLock(self.path):
            key = self._key_or_none()
            res = verify_chain(self.path, key, self.head_path)
            try:
                head = read_head(self.head_path, key)
            except EntryProblem:
                head = None
            archived: Path | None = None
            if os.path.lexists(self.path) or os.path.lexists(self.head_path):
                archived = self._archive_name()
                try:
                    if os.path.lexists(self.path):
                        os.replace(self.path, archived)
                    if os.path.lexists(self.head_path):
                        os.replace(self.head_path, head_path_for(archived))
                except OSError as exc:
                    raise AuditError(f"the audit log cannot be moved aside ({exc.strerror})", path=self.path) from None
            # None: the old log holds keyed entries but its key is gone, so whether it was intact is unknown.
            intact = None if key is None and res.reason.startswith("the audit key") else res.ok
            fields = {"previous_entries": res.entries, "previous_intact": intact,
                      "previous_head_seq": head.seq if head else None,
                      "previous_head_hash": head.hash if head else None}
            self._append(0, GENESIS, "audit.new_log", fields)
        return archived

    # -- internals -------------------------------------------------------------------------------------------------

    def _existing_key(self) -> bytes | None:
        """The explicit key, or the audit key if its file exists (never created before the tail is checked)."""
        if self._key is None:
            self._key = keys.existing_key("audit")
        return self._key

    def _key_or_none(self) -> bytes | None:
        try:
            return self._existing_key()
        except Exception:  # an unreadable key file: verification reports it per entry
            return None

    def _archive_name(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 1000):
            name = f"{self.path.stem}-{stamp}{'' if n == 1 else f'-{n}'}{self.path.suffix}"
            candidate = self.path.with_name(name)
            if not os.path.lexists(candidate) and not os.path.lexists(head_path_for(candidate)):
                return candidate
        raise AuditError("no free name to move the audit log aside", path=self.path)  # pragma: no cover

    def _append(self, seq: int, prev: str, action: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Write entry ``seq + 1`` chained to ``prev`` and move the head to it (caller holds the lock)."""
        key = self.key
        entry: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "seq": seq + 1,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "user": _os_user(),
            "action": action,
            "key_id": keys.key_id(key),
            **fields,
            "prev": prev,
        }
        entry["hash"] = keyed_hash(chain_key(key), entry)
        data = canonical(entry) + b"\n"
        if len(data) > MAX_LINE_BYTES:
            raise ValueError(f"audit entry larger than {MAX_LINE_BYTES // 1024} KiB")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            write_head(self.head_path, key, entry["seq"], entry["hash"])
        except OSError as exc:
            raise AuditError(f"the audit log cannot be written ({exc.strerror})", path=self.path) from None
        return entry

    def _check_tail(self, key: bytes | None) -> tuple[int, str]:
        """Check the last entries against the head; return (seq, hash) of the last entry. Caller holds the lock."""
        try:
            head = read_head(self.head_path, key)
        except EntryProblem as exc:
            raise self._error(exc, exc.reason) from None
        lines = self._tail_lines()
        if not lines:
            if head is not None:
                raise AuditError(f"the audit log is missing or empty but its head records {head.seq} entries",
                                 path=self.path, hint=_HINT)
            return 0, GENESIS
        try:
            return self._check_lines(lines, key, head)
        except EntryProblem as exc:
            raise self._error(exc, f"the audit log's last entries are broken: {exc.reason}") from None

    def _check_lines(self, lines: list[bytes], key: bytes | None, head: Head | None) -> tuple[int, str]:
        last = parse_line(lines[-1])
        check_hash(last, key)
        if head is None:
            if is_keyed(last):
                raise EntryProblem("the chain's head file is missing (kept in the keys folder)")
            return last["seq"], last["hash"]
        if last["seq"] < head.seq:
            raise EntryProblem(f"the log is shorter than its recorded head ({last['seq']} of {head.seq} entries)")
        cur, idx = last, len(lines) - 1
        while cur["seq"] > head.seq:  # a crash between the log write and the head write leaves the head behind
            if not is_keyed(cur):
                raise EntryProblem("an unkeyed entry follows keyed ones")
            idx -= 1
            if idx < 0:
                raise EntryProblem("the log runs past its recorded head further than can be checked")
            before = parse_line(lines[idx])
            check_hash(before, key)
            if before["hash"] != cur["prev"] or before["seq"] != cur["seq"] - 1:
                raise EntryProblem("the last entries do not link up")
            cur = before
        if cur["hash"] != head.hash:
            raise EntryProblem("the last entry is not the one the head records")
        return last["seq"], last["hash"]

    def _error(self, problem: EntryProblem, reason: str) -> AuditError:
        if problem.missing_key:
            return AuditError("the audit key file is missing, so this keyed audit log cannot be continued",
                              path=keys.key_path("audit"),
                              hint="restore audit.key from a backup, or run `medpriv audit new-log` to start a new "
                                   "log under a new key")
        return AuditError(reason, path=self.path, hint=_HINT)

    def _tail_lines(self) -> list[bytes]:
        """The complete lines in the last :data:`_TAIL_WINDOW` bytes of the log (oldest first)."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AuditError(f"the audit log cannot be read ({exc.strerror})", path=self.path) from None
        if not stat.S_ISREG(st.st_mode):
            raise AuditError("the audit log is not a regular file", path=self.path, hint=_HINT)
        if st.st_size == 0:
            return []
        start = max(0, st.st_size - _TAIL_WINDOW)
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                data = fh.read(_TAIL_WINDOW)
        except OSError as exc:
            raise AuditError(f"the audit log cannot be read ({exc.strerror})", path=self.path) from None
        if not data.endswith(b"\n"):
            raise AuditError("the audit log's last line is incomplete (a write was cut off)", path=self.path,
                             hint=_HINT)
        lines = data[:-1].split(b"\n")
        if start > 0:
            lines = lines[1:]  # the first piece may be the end of a longer line
        if not lines:
            raise AuditError(f"the audit log's last line is longer than {MAX_LINE_BYTES // 1024} KiB",
                             path=self.path, hint=_HINT)
        return lines


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
