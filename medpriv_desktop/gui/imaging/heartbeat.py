"""A GUI-thread heartbeat: a fast QTimer whose late ticks measure how long the event loop was blocked.

Used by the end-to-end test and the responsiveness benchmark while a segmentation job runs: if the GUI thread is free,
ticks arrive every ``interval_ms``; a tick that arrives late by more than that shows a stall of the same length.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class GuiHeartbeat(QObject):
    """Records the gaps between timer ticks on the GUI thread; ``max_gap_ms`` is the longest stall seen."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.gaps_ms: list[float] = []
        self.stalls: list[tuple[float, float]] = []  # (seconds since start, gap ms) of gaps over 100 ms
        self._last = 0.0
        self._t0 = 0.0

    def start(self) -> None:
        """Start measuring (clears earlier gaps)."""
        self.gaps_ms.clear()
        self.stalls.clear()
        self._last = self._t0 = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        """Stop measuring."""
        self._timer.stop()

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000.0
        self.gaps_ms.append(gap)
        if gap > 100:
            self.stalls.append((round(self._last - self._t0, 3), round(gap, 1)))
        self._last = now

    @property
    def max_gap_ms(self) -> float:
        """Longest interval between two ticks (ms)."""
        return max(self.gaps_ms, default=0.0)

    def summary(self) -> dict[str, float]:
        """Ticks, max, 99th percentile and median gap in ms."""
        g = sorted(self.gaps_ms)
        if not g:
            return {"ticks": 0, "max_ms": 0.0, "p99_ms": 0.0, "median_ms": 0.0}
        return {"ticks": len(g), "max_ms": round(g[-1], 1), "p99_ms": round(g[int(0.99 * (len(g) - 1))], 1),
                "median_ms": round(g[len(g) // 2], 1), "over_100ms": sum(1 for x in g if x > 100)}
