"""Observer callbacks for the app's plain models (the way napari's layers emit events), without Qt.

A model owns one :class:`Event` per kind of change; the window's widgets (or a headless test) connect callbacks and
the model emits after it changed. Bound methods are held weakly, so an observer that is gone is dropped instead of
kept alive by the model; plain functions and lambdas are held as given. Callbacks run in connection order on the
thread that emits (the window changes its models on the GUI thread only).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any


class Event:
    """One kind of change of a model: ``connect`` a callback, ``emit`` calls every live one with the arguments."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Any] = []  # WeakMethod or the callable itself

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every :meth:`emit` (once, however often it is connected); returns it."""
        if not any(self._resolve(ref) == callback for ref in self._callbacks):
            self._callbacks.append(weakref.WeakMethod(callback) if hasattr(callback, "__self__") else callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (nothing happens when it was not connected)."""
        self._callbacks = [ref for ref in self._callbacks if self._resolve(ref) != callback]

    def emit(self, *args: Any) -> None:
        """Call every connected callback that is still alive with ``args``."""
        alive = []
        for ref in list(self._callbacks):
            fn = self._resolve(ref)
            if fn is None:
                continue  # its object was collected
            alive.append(ref)
            fn(*args)
        if len(alive) != len(self._callbacks):
            self._callbacks = [ref for ref in self._callbacks if self._resolve(ref) is not None]

    @staticmethod
    def _resolve(ref: Any) -> Callable[..., Any] | None:
        return ref() if isinstance(ref, weakref.WeakMethod) else ref

    def __len__(self) -> int:
        return sum(self._resolve(ref) is not None for ref in self._callbacks)
