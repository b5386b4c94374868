"""``medpriv-desktop``: start the window fast, load everything heavy later.

Options: ``--demo`` opens the generated demo study, a note and a report; files given on the command line open in
their workspace; ``--screenshot PNG --quit-after S`` saves a picture of the window and exits (used by tests and the
installer smoke test).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_T0 = time.perf_counter()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options of the GUI."""
    p = argparse.ArgumentParser(prog="medpriv-desktop", description="MedPriv Desktop (offline).")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders to open")
    p.add_argument("--demo", action="store_true", help="open the generated demo data")
    p.add_argument("--workspace", choices=["imaging", "notes", "reports"], help="workspace to show first")
    p.add_argument("--screenshot", type=Path, help="save a screenshot of the window to this PNG")
    p.add_argument("--quit-after", type=float, default=0.0, help="quit after this many seconds (0 = stay open)")
    p.add_argument("--report-startup", action="store_true", help="print seconds from launch to a shown window")
    p.add_argument("--smoke-test", type=Path, metavar="OUTDIR",
                   help="installer check: open the demo, segment, de-identify, classify, write results to OUTDIR; "
                        "exit 0 only if all worked")
    p.add_argument("--smoke-min-seconds", type=float, default=0.0, metavar="S",
                   help="with --smoke-test: keep the window open at least S seconds from start (the installer's "
                        "offline test waits for any background network attempt to show itself)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the GUI."""
    args = parse_args(argv)
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    # The app uses no pydantic plugins; without this pydantic scans every installed package's entry points when the
    # first model class is built (a few hundred small file reads, slow on a cold start).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from medpriv_desktop.core.logging import setup_logging

    setup_logging()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("MedPriv Desktop")
    app.setOrganizationName("MedPriv")
    from medpriv_desktop.gui.main_window import MainWindow

    window = MainWindow()
    window.show()

    def _after_show() -> None:
        if args.report_startup:
            print(f"startup_seconds={time.perf_counter() - _T0:.3f} shown_at_epoch={time.time():.3f}", flush=True)
        if args.demo:
            window.open_demo()
        for p in args.paths:
            window.open_path(p)
        if args.workspace:
            window.tabs.setCurrentWidget(window.workspaces[args.workspace])

    QTimer.singleShot(0, _after_show)
    if args.smoke_test:
        from medpriv_desktop.smoke import start_in_window

        QTimer.singleShot(0, lambda: start_in_window(window, app, args.smoke_test,
                                                     min_seconds=args.smoke_min_seconds))
    if args.screenshot or args.quit_after:
        def _finish() -> None:
            if args.screenshot:
                from medpriv_desktop.gui.screenshot import grab_window

                grab_window(window, args.screenshot)
            window.close()
            app.quit()

        QTimer.singleShot(int(max(args.quit_after, 0.5) * 1000), _finish)
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
