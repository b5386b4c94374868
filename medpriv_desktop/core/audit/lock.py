"""An inter-process lock on a file beside the log (``audit.jsonl.lock``).

Reading the tail, appending an entry and moving the head must happen as one step, or two processes chain their
entries to the same predecessor. ``O_APPEND`` alone keeps lines whole but not the chain. The lock is ``fcntl.flock``
on POSIX and ``msvcrt.locking`` on Windows; both are released by the OS when a process dies, so no stale lock
survives a crash. A threading lock in front keeps threads of one process from spinning on the file lock.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType

from medpriv_desktop.core.audit.entries import AuditError

_thread_lock = threading.Lock()

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class AuditLock:
    """Exclusive lock for one log, across threads and processes; gives up with :class:`AuditError` after ``timeout``."""

    def __init__(self, log_path: Path, timeout: float = 30.0) -> None:
        self.log_path = log_path
        self.path = log_path.with_name(log_path.name + ".lock")
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> AuditLock:
        if not _thread_lock.acquire(timeout=self.timeout):
            raise self._busy()
        try:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise AuditError(f"the audit lock file cannot be opened ({exc.strerror})", path=self.path,
                                 hint="the audit folder must be writable by this user") from None
            deadline = time.monotonic() + self.timeout
            delay = 0.002
            while not _try_lock(self._fd):
                if time.monotonic() > deadline:
                    raise self._busy()
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        except BaseException:
            self._close()
            _thread_lock.release()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._fd is not None:
                _unlock(self._fd)
        finally:
            self._close()
            _thread_lock.release()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _busy(self) -> AuditError:
        return AuditError(f"the audit log stayed locked by another process for {self.timeout:g} s", path=self.log_path,
                          hint="wait for the other MedPriv run to finish, then try again")
