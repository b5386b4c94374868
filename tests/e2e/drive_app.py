"""Drive the real MedPriv window on an X display (run under Xvfb by test_app_e2e.py).

Starts the app as a user would (demo data, real main window), visits the three workspaces, opens the Models dialog,
saves screenshots grabbed from the screen, probes pixels, and writes a JSON summary. Exit code 0 means every check
passed; the JSON says which failed otherwise.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from medpriv_desktop.gui.main_window import MainWindow
from medpriv_desktop.gui.screenshot import grab_window
from tests.e2e._drive import wait as _wait  # noqa: E402


def _region(top, widget) -> dict[str, float]:
    """Shares of dark (text, background of a view) and light (page) screen pixels inside ``widget``, a child of the
    window ``top``: a region check, where a colour count would pass on any busy picture."""
    img = QGuiApplication.primaryScreen().grabWindow(top.winId()).toImage()
    tl = widget.mapTo(top, widget.rect().topLeft())
    px = [img.pixelColor(tl.x() + x, tl.y() + y) for y in range(2, widget.height() - 2, 3)
          for x in range(2, widget.width() - 2, 3)]
    lum = [(c.red() + c.green() + c.blue()) / 3 for c in px] or [0.0]
    return {"dark": round(sum(v < 90 for v in lum) / len(lum), 4),
            "light": round(sum(v > 200 for v in lum) / len(lum), 4),
            "mid": round(sum(90 <= v <= 200 for v in lum) / len(lum), 4)}


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    app = QApplication(sys.argv[:1])
    checks: dict[str, object] = {"platform": QGuiApplication.platformName()}
    win = MainWindow()
    win.show()
    _wait(app, 0.3)
    checks["shown_seconds"] = round(time.perf_counter() - t0, 3)
    win.open_demo()
    loaded = _wait(app, 60, lambda: win.workspaces["imaging"].view.array is not None and not win.runner.busy)
    checks["study_loaded"] = loaded
    _wait(app, 0.5)
    shots = {}
    # The region each workspace's picture is about: the axial view, the note, the report.
    regions = {"imaging": lambda: win.workspaces["imaging"].view.image_label,
               "notes": lambda: win.workspaces["notes"].input_edit.viewport(),
               "reports": lambda: win.workspaces["reports"].report_edit.viewport()}
    checks["regions"] = {}
    for name in ("imaging", "notes", "reports"):
        win.tabs.setCurrentWidget(win.workspaces[name])
        _wait(app, 0.4)
        shots[name] = str(grab_window(win, out / f"workspace_{name}.png"))
        checks["regions"][name] = _region(win, regions[name]())
    img = QGuiApplication.primaryScreen().grabWindow(win.winId()).toImage()
    checks["window_size"] = [img.width(), img.height()]
    win.tabs.setCurrentWidget(win.workspaces["imaging"])
    _wait(app, 0.4)
    label = win.workspaces["imaging"].view.image_label
    centre = label.mapTo(win, label.rect().center())
    shot = QGuiApplication.primaryScreen().grabWindow(win.winId()).toImage()
    px = shot.pixelColor(centre.x(), centre.y())
    checks["imaging_centre_gray"] = px.red()
    win.show_models_dialog()
    _wait(app, 0.6)
    dlg = win.models_dialog
    shots["models_dialog"] = str(grab_window(dlg, out / "models_dialog.png"))
    checks["regions"]["models_dialog"] = _region(dlg, dlg.list.viewport())
    checks["models_listed"] = dlg.list.count()
    checks["models_dialog_visible"] = dlg.isVisible()
    dlg.close()
    win.tabs.setCurrentWidget(win.workspaces["imaging"])
    _wait(app, 0.3)
    shots["main"] = str(grab_window(win, out / "main_window.png"))
    checks["notes_text_loaded"] = bool(win.workspaces["notes"].input_edit.toPlainText())
    checks["reports_text_loaded"] = bool(win.workspaces["reports"].report_edit.toPlainText())
    checks["screenshots"] = shots
    QTimer.singleShot(0, win.close)
    _wait(app, 0.3)
    (out / "e2e_result.json").write_text(json.dumps(checks, indent=2))
    ok = (loaded and checks["models_dialog_visible"] and checks["notes_text_loaded"]
          and checks["reports_text_loaded"] and checks["platform"] == "xcb")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
