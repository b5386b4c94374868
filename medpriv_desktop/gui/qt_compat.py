"""A guard against a PySide6 reference-count bug that would crash long batch jobs.

In PySide6 6.12.0, ``SignalInstance.emit()`` returns ``True`` without taking a reference to it, so every emit from
Python takes one reference away from the ``True`` singleton. Python 3.11 aborts ("bool_dealloc: deallocating True or
False") once the count reaches zero: after a few thousand emits (one per progress step of a batch job), the app dies,
and a test session dies at exit. :func:`guard_bool_refcounts` detects the leak at run time (ten emits of a private
signal) and, only where it exists, adds a large constant to the counts of ``True`` and ``False`` so they can never
reach zero (what Python 3.12 does anyway by making them immortal). Nothing is changed on a correct PySide6.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import weakref

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)
_PAD = 1 << 40
_done = False


class _Probe(QObject):
    pinged = Signal()


def emit_leaks_true() -> bool:
    """True when ``Signal.emit()`` takes a reference away from ``True`` (the PySide6 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.pinged.emit()
    return sys.getrefcount(True) < before - 5


def guard_bool_refcounts() -> bool:
    """Apply the guard once per process if the bug is present; True when it was applied (now or before)."""
    global _done
    if _done:
        return True
    if sys.version_info >= (3, 12) or not emit_leaks_true():
        return False
    for obj in (True, False):
        # ob_refcnt is the first Py_ssize_t of every object in CPython 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value += _PAD
    _done = True
    log.info("PySide6 emit() reference leak detected; True/False reference counts padded")
    return True


def weak_callback(method, *args):
    """``method(*args, result)`` through a weak reference to its widget.

    The JobRunner keeps a job's callbacks after the job ends; a strong reference from there back to the widget
    makes a reference cycle, and Python may then collect that cycle on the worker thread, deleting a QWidget off
    the GUI thread (a crash). A weak reference keeps the widget out of any cycle with the runner.
    """
    ref = weakref.WeakMethod(method)

    def call(result):
        m = ref()
        if m is not None:
            m(*args, result)

    return call
