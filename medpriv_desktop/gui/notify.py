"""One path for messages to the user: errors, warnings and information.

Widgets call :func:`notify_error` (or the manager directly); the main window shows each message as a non-modal box
and in the status bar, and keeps a short history (tests read it). Unexpected exceptions show a generic sentence and
the log file's location; the details (stack frames only, no input text) go to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from medpriv_desktop.core.errors import MedPrivError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notification:
    """One message: level ('error', 'warning', 'info'), text, and the file or folder it is about (the window then
    offers "Open folder")."""

    level: str
    text: str
    path: Path | None = None


def message_for(exc: BaseException, context: str = "") -> str:
    """The sentence a person sees for ``exc``."""
    if isinstance(exc, MedPrivError):
        return exc.message
    from medpriv_desktop.core import paths

    what = f"{context} failed" if context else "The operation failed"
    return f"{what} because of an unexpected {type(exc).__name__}. Details are in the log: {paths.log_dir()}"


class NotificationManager(QObject):
    """Collects notifications and re-emits them for the window to display."""

    notified = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.history: list[Notification] = []

    def notify(self, level: str, text: str, path: Path | None = None) -> None:
        """Record and broadcast one message (``path``: what was written, for "Open folder")."""
        n = Notification(level, text, Path(path) if path is not None else None)
        self.history.append(n)
        del self.history[:-50]
        self.notified.emit(n)

    def error(self, exc: BaseException, context: str = "") -> None:
        """Show an exception as one clear message."""
        if not isinstance(exc, MedPrivError):
            log.error("%s: unexpected %s", context or "operation", type(exc).__name__)
        self.notify("error", message_for(exc, context))


_manager: NotificationManager | None = None


def notifications() -> NotificationManager:
    """The application's notification manager (created on first use, on the GUI thread)."""
    global _manager
    if _manager is None:
        _manager = NotificationManager()
    return _manager


def notify_error(exc: BaseException, context: str = "") -> None:
    """Shortcut for ``notifications().error(exc, context)``."""
    notifications().error(exc, context)


def notify_info(text: str) -> None:
    """Shortcut for an information message."""
    notifications().notify("info", text)


def notify_written(what: str, path: Path | str) -> None:
    """"<what> to <path>." with an "Open folder" action: every message about an output names where it went."""
    path = Path(path)
    notifications().notify("info", f"{what} to {path}", path)


def folder_of(path: Path) -> Path:
    """The folder to open for a written path (the path itself when it is a folder)."""
    path = Path(path)
    return path if path.is_dir() else path.parent


def open_folder(path: Path) -> bool:
    """Show the folder of ``path`` in the system's file manager (a local file URL; nothing leaves the machine)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder_of(path)))))
