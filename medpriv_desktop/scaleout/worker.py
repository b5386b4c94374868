"""What every worker process does before it runs a task, and the engines it keeps.

A Dask worker is a separate Python process (on this machine or another node). It must be as offline and as quiet as
the app: it imports :mod:`medpriv_desktop` first (which assigns ``ORT_DISABLE_TELEMETRY`` and the other switches
before onnxruntime can load), puts the app's :class:`~medpriv_desktop.core.logging.RedactingFilter` on every log
handler (Dask's own "Compute Failed" warnings print a task's arguments and exception; the filter withholds third-party
messages and reduces exceptions to their frames), and refuses to run when onnxruntime was loaded before the switch.
Engines and models are built once per process and kept (:func:`cached`), so a worker pays the model load once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

_CACHE: dict[Any, Any] = {}
#: Loggers whose handlers get the filter: the root, and Dask's, which configure their own stderr handlers.
FILTERED_LOGGERS = ("", "distributed", "dask", "dask_jobqueue", "tornado", "asyncio")


def install_log_filter() -> int:
    """Put the app's redacting filter on every handler of :data:`FILTERED_LOGGERS` (once each); returns how many
    handlers carry it."""
    from medpriv_desktop.core.logging import RedactingFilter

    n = 0
    for name in FILTERED_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
            n += 1
    return n


def prepare_process() -> dict[str, Any]:
    """Run first in every worker process (and in the driver for in-process runs): offline switches, the log filter,
    the onnxruntime check. Returns what a test or the driver may check: the telemetry switch and the filter count."""
    import medpriv_desktop  # noqa: F401 - the import itself assigns the offline switches
    from medpriv_desktop import _offline

    _offline.switch_off_network_features()
    _offline.assert_onnxruntime_offline()
    return {"ORT_DISABLE_TELEMETRY": os.environ.get("ORT_DISABLE_TELEMETRY"), "filtered_handlers":
            install_log_filter(), "pid": os.getpid()}


def cached(key: Any, build: Callable[[], Any]) -> Any:
    """The object built for ``key`` in this process (built on first use): an engine, a model, a surrogator."""
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


def seed_cache(key: Any, value: Any) -> None:
    """Hand an object the driver already built to in-process tasks (no second model load)."""
    _CACHE[key] = value

