"""The :class:`Context`: what every use case of :mod:`medpriv_desktop.core.app` needs, built once per entry point.

The CLI builds one per command (``commands/_common.py``), the window one at start-up (and again after Preferences);
a batch runner builds one per worker. Nothing below the use cases builds its own registry, reads settings or picks
a thread count: they take these from the context, so the PHI model that ``medpriv deid`` and the Notes window load is
resolved and allow-listed against the same site folder IT set up (``core/models/site.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.settings import Settings, load_settings, resolve_threads
from medpriv_desktop.core.text import reading

#: Overrides the thread count of every ONNX session (benchmarks and tests; the Preferences value otherwise).
THREADS_ENV = "MEDPRIV_ORT_THREADS"

#: Whether this process is the window (set once by the GUI at start-up): automatic thread counts leave a core to the
#: GUI thread there and take every core in a command (``settings.resolve_threads``).
_INTERACTIVE = False


def mark_interactive(value: bool = True) -> None:
    """Say that this process is the window (``MainWindow.__init__`` calls it before it builds any Context)."""
    global _INTERACTIVE
    _INTERACTIVE = value


@dataclass(frozen=True)
class SessionFactory:
    """Opens ONNX Runtime sessions with the app's one thread policy (``core/onnx_session.py`` holds the rest:
    offline check, telemetry off, exact int8 kernels)."""

    threads: int

    @classmethod
    def from_settings(cls, settings: Settings, environ: dict[str, str] | None = None,
                      is_interactive: bool | None = None) -> SessionFactory:
        """Threads from ``MEDPRIV_ORT_THREADS`` when set to a positive integer, else the Preferences value, else
        automatic (every core in a command, cores minus one in the window)."""
        env = (os.environ if environ is None else environ).get(THREADS_ENV, "")
        if env.isdigit() and int(env) > 0:
            return cls(int(env))
        return cls(resolve_threads(settings, _INTERACTIVE if is_interactive is None else is_interactive))

    def create(self, model_path: str | Path, *, exact_int8: bool = True, optimize: bool = True) -> Any:
        """An ``onnxruntime.InferenceSession`` for ``model_path`` with :attr:`threads` intra-op threads."""
        from medpriv_desktop.core.onnx_session import create_session

        return create_session(model_path, self.threads, optimize=optimize, exact_int8=exact_int8)


@dataclass(frozen=True)
class TextReader:
    """The app's one text reader (``core/text/reading.py``) with its one size limit."""

    max_bytes: int = reading.MAX_TEXT_BYTES

    def read(self, path: str | Path, encoding: str | None = None, *, allow_empty: bool = False) -> str:
        """One note or report (see :func:`~medpriv_desktop.core.text.reading.read_text`)."""
        return reading.read_text(path, encoding, self.max_bytes, allow_empty=allow_empty)

    def csv_header(self, path: str | Path, encoding: str | None = None) -> list[str]:
        """The header row of a CSV."""
        return reading.csv_header(path, encoding)

    def guess_text_columns(self, columns: list[str], *, sections: bool = False) -> list[str]:
        """The likeliest text column(s) of a CSV header."""
        return reading.guess_text_columns(columns, sections=sections)


class Context:
    """Settings, THE model registry, the audit log, the ONNX session factory and the text reader.

    Build it with :meth:`build` at an entry point and pass it down; the use cases never build their own. The
    registry and the audit log are made on first use: a command checks its outputs before any model folder is read,
    and a command that records nothing creates no audit folder. ``audit_path`` None is the app's audit log.
    """

    def __init__(self, settings: Settings, registry: ModelRegistry | None = None, *,
                 sessions: SessionFactory | None = None, reader: TextReader | None = None,
                 audit_path: Path | None = None) -> None:
        self.settings = settings
        self._registry = registry
        self.sessions = sessions or SessionFactory.from_settings(settings)
        self.reader = reader or TextReader()
        self.audit_path = audit_path
        self._audit: Any = None

    @classmethod
    def build(cls, settings: Settings | None = None, *, registry: ModelRegistry | None = None,
              audit_path: Path | None = None) -> Context:
        """The context of one entry point: ``settings`` (default: the saved ones) and a registry (``registry``, else
        one whose site folder and allow-list follow the machine-wide rule, ``resolve_site_policy``: the user's
        ``site_models_dir`` counts only where no site config is in force)."""
        return cls(settings or load_settings(), registry, audit_path=audit_path)

    @property
    def registry(self) -> ModelRegistry:
        """THE model registry of this entry point (made from the settings on first use)."""
        if self._registry is None:
            self._registry = ModelRegistry.from_settings(self.settings)
        return self._registry

    @property
    def audit(self) -> Any:
        """The audit log (``core/audit``), opened on first use."""
        if self._audit is None:
            from medpriv_desktop.core.audit import AuditLog

            self._audit = AuditLog(self.audit_path)
        return self._audit

    def apply_settings(self, settings: Settings) -> None:
        """New Preferences: the registry re-resolves its site folder (a site config still wins), new threads."""
        self.settings = settings
        if self._registry is not None:
            self._registry.apply_settings(settings)
        self.sessions = SessionFactory.from_settings(settings)
