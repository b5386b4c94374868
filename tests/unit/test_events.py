"""The observer callbacks of the app's plain models (``core/events.py``)."""

from __future__ import annotations

import gc

from medpriv_desktop.core.events import Event


class _Observer:
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def on(self, *args) -> None:
        self.seen.append(args)


def test_emit_calls_each_callback_once_in_order_with_the_arguments():
    ev, calls = Event("changed"), []
    first = ev.connect(lambda *a: calls.append(("first", a)))
    ev.connect(first)  # connecting again does not call it twice
    ev.connect(lambda *a: calls.append(("second", a)))
    ev.emit({3})
    assert calls == [("first", ({3},)), ("second", ({3},))] and len(ev) == 2
    ev.disconnect(first)
    ev.emit()
    assert calls[-1] == ("second", ()) and len(calls) == 3


def test_a_bound_method_is_held_weakly():
    ev, kept, gone = Event("changed"), _Observer(), _Observer()
    ev.connect(kept.on)
    ev.connect(gone.on)
    del gone
    gc.collect()
    ev.emit(1)  # the collected observer is skipped and forgotten
    assert kept.seen == [(1,)] and len(ev) == 1
    ev.disconnect(kept.on)
    ev.emit(2)
    assert kept.seen == [(1,)]
