"""MedPriv Desktop: offline imaging segmentation, note de-identification and report classification.

Importing this package makes the process offline before any library that could reach the network is loaded (see
:mod:`medpriv_desktop._offline`). Every entry point (the window, ``medpriv``, ``medpriv-train``, the frozen app,
worker processes that unpickle core functions) imports this package first, so the switch is always in place.
"""

from medpriv_desktop import _offline

_offline.switch_off_network_features()

__version__ = "0.1.0"
