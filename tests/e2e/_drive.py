"""What every e2e driver script needs: pump the Qt event loop until a condition holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait(app: Any, seconds: float, until: Callable[[], Any] | None = None) -> bool:
    """Process events for up to ``seconds``; True as soon as ``until()`` holds (or, without one, after the time)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.01)
    return until is None
