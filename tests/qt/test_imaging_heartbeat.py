"""The instruments behind the responsiveness check: the GUI heartbeat sees a stall, and the worker gets nicer."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from medpriv_desktop.gui.imaging.heartbeat import GuiHeartbeat
from medpriv_desktop.core.app.study import lower_worker_priority


def test_heartbeat_measures_a_blocked_gui_thread(qtbot):
    beat = GuiHeartbeat(10)
    beat.start()
    qtbot.wait(100)
    time.sleep(0.25)  # block the GUI thread as a slow handler would
    qtbot.wait(60)
    beat.stop()
    s = beat.summary()
    assert s["ticks"] > 5 and s["max_ms"] >= 240 and s["over_100ms"] >= 1
    assert any(g >= 240 and 0.05 < start < 2.0 for start, g in beat.stalls)
    assert s["median_ms"] < 60


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux behaviour")
def test_worker_thread_is_made_nicer_but_never_the_main_thread(monkeypatch):
    monkeypatch.delenv("MEDPRIV_WORKER_NICE", raising=False)
    assert lower_worker_priority() is False  # the GUI (main) thread keeps its priority
    seen = {}

    def work():
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        seen["changed"] = lower_worker_priority(3)
        seen["delta"] = os.getpriority(os.PRIO_PROCESS, tid) - before

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["changed"] and (seen["delta"] == 3 or os.getpriority(os.PRIO_PROCESS, 0) + 3 > 19)
    monkeypatch.setenv("MEDPRIV_WORKER_NICE", "0")
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("changed", lower_worker_priority()))
    t.start()
    t.join()
    assert out["changed"] is False
