"""Application logging that keeps patient text out.

Rules: log messages are written by us with ``%s`` arguments that are counts, ids, durations and *references* to
files. File names and paths are PHI (they carry names and record numbers), so the log never holds one: code logs
:func:`path_ref` (``file#<12 hex>``, a keyed HMAC under the site's ``audit`` key, so someone with the key can find the
lines about a given file and nobody else can read the name). As a second line of defence, :class:`RedactingFilter`
drops the arguments of any record whose logger is outside the project's allow-list (third-party libraries may log
tokens), cuts long runs of words, replaces control characters (a newline in a file name would otherwise forge a log
line), and reduces attached exceptions to their stack frames (an exception's message may hold a path or a value).
Presidio's ``log_decision_process`` is never enabled.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import logging.handlers
import os
import re
import traceback
from pathlib import Path
from types import TracebackType

from medpriv_desktop.core import paths

_LONG_WORDY = re.compile(r"(?:\b[A-Za-z]{2,}\b\W+){12,}")
#: C0 and C1 controls, DEL and the Unicode line and paragraph separators: anything that can break a log line.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_configured = False
_ref_keys: dict[Path, bytes] = {}


def strip_controls(text: str) -> str:
    """``text`` with every control character (newline, CR, ESC, ...) shown as ``?``: one log record, one line."""
    return _CONTROLS.sub("?", text)


def path_ref(path: str | os.PathLike[str] | None) -> str:
    """A loggable reference to a file: ``file#`` and 12 hex digits of HMAC-SHA256 of its absolute path.

    The key is the site's ``audit`` key (``core/keys.py``); IT can recompute a reference for a path it is asked about.
    When no key can be loaded (an unwritable key folder) the result is ``file#nokey``, never the path.
    """
    if path is None:
        return "file#none"
    from medpriv_desktop.core import keys
    from medpriv_desktop.core.errors import MedPrivError

    try:
        where = keys.key_path("audit")
        key = _ref_keys.get(where)
        if key is None:
            key = _ref_keys[where] = keys.load_key("audit")
    except (OSError, ValueError, MedPrivError):  # logging must go on; the path still stays out
        return "file#nokey"
    data = os.path.abspath(os.fspath(path)).encode("utf-8", "surrogateescape")
    return "file#" + hmac.new(key, b"medpriv-path|" + data, hashlib.sha256).hexdigest()[:12]


def frames_only(tb: TracebackType | None, exc_type: type[BaseException] | None = None) -> str:
    """An exception as its type and stack frames (``file:line in function``), one line, no message and no values."""
    frames = " < ".join(f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}"
                        for f in reversed(traceback.extract_tb(tb)))
    name = exc_type.__name__ if exc_type is not None else "exception"
    return strip_controls(f"{name} at {frames or 'an unknown place'}")


class RedactingFilter(logging.Filter):
    """Replaces third-party messages' arguments and any long run of words (which may be note text)."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        if not record.name.startswith(("medpriv_desktop", "training", "medpriv")):
            record.msg = f"[{record.name}] message withheld ({record.levelname})"
            if record.exc_info and record.exc_info[0] is not None:
                record.msg += " | " + frames_only(record.exc_info[2], record.exc_info[0])
            record.msg = strip_controls(record.msg)
            record.args, record.exc_info, record.exc_text = (), None, None
            return record.levelno >= logging.WARNING
        try:
            text = record.getMessage()
        except Exception:  # a bad format string must not break logging
            text = str(record.msg)
        if _LONG_WORDY.search(text):
            text = _LONG_WORDY.sub("[text withheld] ", text)
        if record.exc_info and record.exc_info[0] is not None:
            # the exception's message (a path, a value) stays out; its frames say where it happened
            text += " | " + frames_only(record.exc_info[2], record.exc_info[0])
            record.exc_info, record.exc_text = None, None
        record.msg = strip_controls(text)
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
