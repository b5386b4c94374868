"""Application logging that keeps patient text out.

Rules: log messages are written by us with ``%s`` arguments that are counts, ids, paths and durations. As a second
line of defence, :class:`RedactingFilter` drops the arguments of any record whose logger is outside the project's
allow-list (third-party libraries may log tokens) and truncates long strings; file paths are logged, file contents
never. Presidio's ``log_decision_process`` is never enabled.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from medpriv_desktop.core import paths

_LONG_WORDY = re.compile(r"(?:\b[A-Za-z]{2,}\b\W+){12,}")
_configured = False


class RedactingFilter(logging.Filter):
    """Replaces third-party messages' arguments and any long run of words (which may be note text)."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        if not record.name.startswith(("medpriv_desktop", "training", "medpriv")):
            record.msg = f"[{record.name}] message withheld ({record.levelname})"
            record.args = ()
            return record.levelno >= logging.WARNING
        try:
            text = record.getMessage()
        except Exception:  # a bad format string must not break logging
            text = str(record.msg)
        if _LONG_WORDY.search(text):
            record.msg = _LONG_WORDY.sub("[text withheld] ", text)
            record.args = ()
        return True


_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def file_handler(log_file: Path) -> logging.Handler:
    """A rotating log-file handler with the redacting filter."""
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(_FORMAT)
    handler.addFilter(RedactingFilter())
    return handler


def setup_logging(level: int = logging.INFO, log_file: Path | None = None, console: bool = False) -> Path:
    """Configure the root logger once: a rotating file in the log folder (and optionally stderr)."""
    global _configured
    log_file = log_file or paths.log_dir() / "medpriv.log"
    if _configured:
        return log_file
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(file_handler(log_file))
    if console:
        ch = logging.StreamHandler()
        ch.setFormatter(_FORMAT)
        ch.setLevel(logging.WARNING)
        ch.addFilter(RedactingFilter())
        root.addHandler(ch)
    # Libraries that are chatty or could echo input: keep them at WARNING.
    for name in ("presidio-analyzer", "presidio_analyzer", "spacy", "PIL", "matplotlib", "numexpr"):
        logging.getLogger(name).setLevel(logging.WARNING)
    _configured = True
    return log_file
