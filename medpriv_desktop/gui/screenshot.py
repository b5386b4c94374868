"""Screenshots of real windows: grab from the screen so embedded OpenGL/VTK content is included."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def grab_window(widget: QWidget, path: Path) -> Path:
    """Save what the screen shows of ``widget``'s window to ``path`` (PNG); falls back to ``widget.grab()``.

    ``QWidget.grab()`` renders widgets itself and leaves OpenGL areas black; grabbing the screen shows them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    screen = QGuiApplication.primaryScreen()
    pix = screen.grabWindow(widget.window().winId()) if screen is not None else None
    if pix is None or pix.isNull() or QGuiApplication.platformName() in ("offscreen", "minimal"):
        pix = widget.window().grab()
    pix.save(str(path), "PNG")
    return path
