"""The main window: three workspaces, menus, drag and drop, the job status area and notifications."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from medpriv_desktop import __version__
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.routing import route
from medpriv_desktop.core.settings import Settings, load_settings, save_settings
from medpriv_desktop.gui.job_status import JobStatusWidget
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notify import Notification, notifications, notify_error, open_folder
from medpriv_desktop.gui.workspaces.base import WorkspacePanel
from medpriv_desktop.gui.workspaces.imaging import ImagingWorkspace
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
from medpriv_desktop.gui.workspaces.reports import ReportsWorkspace

log = logging.getLogger(__name__)

OPEN_FILTER = ("All supported (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm DICOMDIR *.txt *.csv);;"
               "Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm DICOMDIR);;Text (*.txt *.csv);;All files (*)")


class MainWindow(QMainWindow):
    """One window, three workspaces (Imaging, Notes, Reports)."""

    def __init__(self, settings: Settings | None = None, registry: ModelRegistry | None = None) -> None:
        super().__init__()
        from medpriv_desktop.core.app.context import mark_interactive

        mark_interactive()  # automatic thread counts leave a core to this window's GUI thread
        self.settings = settings or load_settings()
        self.registry = registry or ModelRegistry.from_settings(self.settings)
        self.setWindowTitle("MedPriv Desktop")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.runner = JobRunner(self)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.workspaces: dict[str, WorkspacePanel] = {}
        for cls in (ImagingWorkspace, NotesWorkspace, ReportsWorkspace):
            ws = cls(self.registry, self.runner)
            ws.file_opened.connect(self._on_workspace_file_opened)
            ws.models_requested.connect(self.show_models_dialog)
            self.workspaces[ws.machine_name] = ws
            self.tabs.addTab(ws, ws.title)
        self.setCentralWidget(self.tabs)
        self.job_status = JobStatusWidget(self.runner)
        self.statusBar().addPermanentWidget(self.job_status)
        self.hint_label = QLabel(MOUSE_HINT)
        self.hint_label.setStyleSheet("color: #666; padding: 0 6px;")
        self.hint_label.setToolTip("Help > Mouse and keys (F1) lists every mouse action and shortcut")
        self.statusBar().addPermanentWidget(self.hint_label)
        self.offline_label = QLabel("Offline · nothing leaves this computer")
        self.offline_label.setStyleSheet("color: #2e7d32; padding: 0 6px;")
        self.statusBar().addPermanentWidget(self.offline_label)
        notifications().notified.connect(self._on_notified)
        #: The last message box shown (tests read it; "Open folder" lives on it).
        self.message_box: QMessageBox | None = None
        #: Opens a folder in the file manager; tests replace it.
        self.open_folder = open_folder
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self._build_menus()
        self.refresh_models()
        self._on_tabs_current_changed(self.tabs.currentIndex())

    # -- menus --------------------------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open...", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open_triggered)
        self.open_folder_action = QAction("Open &Folder (DICOM or notes)...", self)
        self.open_folder_action.triggered.connect(self._on_open_folder_triggered)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.demo_action = QAction("Open &Demo Data", self)
        self.demo_action.triggered.connect(self.open_demo)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_folder_action)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        tools = self.menuBar().addMenu("&Tools")
        self.models_action = QAction("&Models...", self)
        self.models_action.triggered.connect(self.show_models_dialog)
        self.prefs_action = QAction("&Preferences...", self, shortcut=QKeySequence.StandardKey.Preferences)
        self.prefs_action.triggered.connect(self.show_preferences)
        tools.addAction(self.models_action)
        tools.addAction(self.prefs_action)
        view = self.menuBar().addMenu("&View")
        self.workspace_actions = []
        for i, ws in enumerate(self.workspaces.values()):
            act = QAction(f"&{i + 1} {ws.title}", self, shortcut=QKeySequence(f"Ctrl+{i + 1}"))
            act.triggered.connect(lambda _=False, w=ws: self.show_workspace(w))
            view.addAction(act)
            self.workspace_actions.append(act)
        help_menu = self.menuBar().addMenu("&Help")
        self.mouse_keys_action = QAction("&Mouse and keys", self, shortcut=QKeySequence.StandardKey.HelpContents)
        self.mouse_keys_action.triggered.connect(self.show_mouse_and_keys)
        help_menu.addAction(self.mouse_keys_action)
        about = QAction("&About MedPriv Desktop", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent_files:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, path=p: self.open_path(Path(path)))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    # -- opening files ------------------------------------------------------------------------------------------

    def open_path(self, path: Path, workspace: str | None = None) -> str | None:
        """Send ``path`` to the right workspace (or ``workspace``); return the workspace's name."""
        path = Path(path)
        if not path.exists():
            notify_error(InputError("file or folder not found", path=path))
            return None
        target = workspace or route(path)
        if target is None:
            notify_error(InputError("not a file MedPriv can open", path=path,
                                    hint="images: NIfTI, NRRD, MHA, DICOM; text: .txt, .csv"))
            return None
        ws = self.workspaces[target]
        self.tabs.setCurrentWidget(ws)
        ws.open_path(path)
        return target

    @Slot()
    def _on_open_triggered(self) -> None:
        fname, _ = QFileDialog.getOpenFileName(self, "Open", "", OPEN_FILTER)
        if fname:
            self.open_path(Path(fname))

    @Slot()
    def _on_open_folder_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder")
        if folder:
            self.open_path(Path(folder))

    def open_demo(self) -> None:
        """Write the demo data if needed and open the demo study, a note and a report."""
        from medpriv_desktop.core.demo import make_demo

        try:
            demo = make_demo()
        except Exception as exc:
            notify_error(exc, "Creating the demo data")
            return
        notes = sorted((demo / "notes").glob("*.txt"))
        if notes:
            self.workspaces["notes"].open_path(notes[0])
        reports_dir = demo / "reports"
        if reports_dir.is_dir():
            first = sorted(reports_dir.glob("*.txt"))
            if first:
                self.workspaces["reports"].open_path(first[0])
        self.open_path(demo / "demo_ct.nii.gz", "imaging")

    @Slot(str)
    def _on_workspace_file_opened(self, path: str) -> None:
        self.settings.add_recent(path)
        try:
            save_settings(self.settings)
        except OSError:
            log.warning("could not save settings")
        self._rebuild_recent_menu()

    # -- drag and drop ------------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API name
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(Path(url.toLocalFile()))
        event.acceptProposedAction()

    # -- dialogs ------------------------------------------------------------------------------------------------

    def show_models_dialog(self) -> None:
        """Open the Models dialog (non-modal)."""
        from medpriv_desktop.gui.dialogs.models_dialog import ModelsDialog

        dlg = ModelsDialog(self.registry, self)
        dlg.models_changed.connect(self.refresh_models)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.models_dialog = dlg
        dlg.show()

    def show_preferences(self) -> None:
        """Open Preferences; OK saves the settings."""
        from medpriv_desktop.gui.dialogs.preferences_dialog import PreferencesDialog

        dlg = PreferencesDialog(self.settings, self)
        if dlg.exec():
            self.settings = dlg.result_settings()
            save_settings(self.settings)
            self.registry.apply_settings(self.settings)
            self.workspaces["notes"].apply_settings(self.settings)  # the operator menus follow a new default at once
            self.refresh_models()

    def show_workspace(self, ws: WorkspacePanel) -> None:
        """Bring a workspace to the front and put the keyboard focus into it."""
        self.tabs.setCurrentWidget(ws)
        ws.setFocus(Qt.FocusReason.ShortcutFocusReason)
        nxt = ws.nextInFocusChain()
        if nxt is not None:
            nxt.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_tabs_current_changed(self, _index: int) -> None:
        ws = self.tabs.currentWidget()
        self.hint_label.setText(WORKSPACE_HINTS.get(getattr(ws, "machine_name", ""), MOUSE_HINT))

    def show_mouse_and_keys(self) -> QMessageBox:
        """Help > Mouse and keys: what the mouse does in each view and the keyboard shortcuts (non-modal)."""
        box = QMessageBox(QMessageBox.Icon.Information, "Mouse and keys", MOUSE_AND_KEYS_HTML,
                          QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.NonModal)
        self._present(box)
        return box

    def show_about(self) -> None:
        """The About box: version, offline promise, not-for-diagnosis note and model licences."""
        lic = "".join(f"<li>{e.card.title}: {e.card.license}</li>" for e in self.registry.entries())
        QMessageBox.about(
            self, "About MedPriv Desktop",
            f"<h3>MedPriv Desktop {__version__}</h3>"
            "<p>Segmentation of CT/MR studies, de-identification of clinical notes and classification of "
            "radiology reports, entirely on this computer. No network access is used.</p>"
            "<p><b>Not for diagnostic use.</b> Results support, and never replace, a clinician's reading.</p>"
            + (f"<p>Installed models and their licences:</p><ul>{lic}</ul>" if lic else "<p>No models installed.</p>"),
        )

    def refresh_models(self) -> None:
        """Re-read the model registry and update every workspace."""
        self.registry.refresh()
        for ws in self.workspaces.values():
            ws.refresh_models()

    # -- notifications and shutdown ------------------------------------------------------------------------------

    @Slot(object)
    def _on_notified(self, n: Notification) -> None:
        self.statusBar().showMessage(n.text, 15000)
        if n.level != "error" and n.path is None:
            return  # information without a file: the status bar is enough
        icon = QMessageBox.Icon.Warning if n.level == "error" else QMessageBox.Icon.Information
        box = QMessageBox(icon, "MedPriv Desktop", n.text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.NonModal)
        ok = box.button(QMessageBox.StandardButton.Ok)
        # With a second button Qt finds no escape button by itself and then ignores Escape and close().
        box.setEscapeButton(ok)
        box.setDefaultButton(ok)
        if n.path is not None:
            button = box.addButton("Open folder", QMessageBox.ButtonRole.ActionRole)
            # ActionRole buttons do not close the box by themselves; the folder opens and the box goes.
            button.clicked.connect(lambda _=False, p=n.path: (self.open_folder(p), box.close()))
            box.open_folder_button = button
        self._present(box)

    def _present(self, box: QMessageBox) -> None:
        """Show a non-modal box and give it the keyboard focus (a box behind the window is a box unread)."""
        self.message_box = box
        # Forget it when it closes (finished), not only when destroyed: deleteLater waits for the main event loop.
        forget = lambda *_: setattr(self, "message_box", None) if self.message_box is box else None  # noqa: E731
        box.finished.connect(forget)
        box.destroyed.connect(forget)
        box.show()
        box.raise_()
        box.activateWindow()
        default = box.defaultButton() or (box.buttons()[0] if box.buttons() else None)
        if default is not None:
            default.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API name
        if self.runner.busy:
            self.runner.cancel()
            self.runner.wait(10000)
        super().closeEvent(event)


#: The status-bar hint (the Help menu has the full list).
MOUSE_HINT = "F1: mouse and keys"
WORKSPACE_HINTS = {
    "imaging": "Wheel: slices · Ctrl+wheel: zoom · right-drag: window/level · middle-drag: pan · F1: more",
    "notes": "Ctrl+Enter: De-identify · Alt+A / Alt+J: accept / reject the span at the cursor · F1: more",
    "reports": "Ctrl+Enter: Classify · Up/Down in the bars: next label and its evidence · F1: more",
}
MOUSE_AND_KEYS_HTML = """
<h3>Imaging: slice views</h3>
<table cellspacing="4">
<tr><td><b>Wheel</b> / <b>Up, Down</b></td><td>next or previous slice (Page Up/Down: 5 slices)</td></tr>
<tr><td><b>Ctrl + wheel</b></td><td>zoom in or out; double-click resets the zoom</td></tr>
<tr><td><b>Right-drag</b></td><td>window (left-right) and level (up-down); the Window box then says Custom</td></tr>
<tr><td><b>Middle-drag</b></td><td>pan</td></tr>
<tr><td><b>Left click / drag</b></td><td>the tool: move the crosshair, paint, erase or measure</td></tr>
<tr><td><b>Ctrl+Z</b>, <b>Ctrl+Shift+Z</b></td><td>undo, redo a brush stroke</td></tr>
</table>
<h3>Imaging: 3D view</h3>
<p>Left-drag rotates, wheel or right-drag zooms, middle-drag pans; Reset view brings the front view back.</p>
<h3>Keyboard everywhere</h3>
<table cellspacing="4">
<tr><td><b>Ctrl+1, 2, 3</b></td><td>Imaging, Notes, Reports</td></tr>
<tr><td><b>Tab</b> / <b>Shift+Tab</b></td><td>move between controls; Space or Enter presses a button</td></tr>
<tr><td><b>Ctrl+Enter</b></td><td>the workspace's main action (Segment, De-identify, Classify)</td></tr>
<tr><td><b>Alt + underlined letter</b></td><td>the button with that letter</td></tr>
<tr><td><b>Alt+A</b>, <b>Alt+J</b>, <b>Alt+M</b></td><td>Notes: accept, reject the span at the cursor; mark the
selection</td></tr>
<tr><td><b>Up, Down</b> in the bars</td><td>Reports: the next label and its evidence</td></tr>
<tr><td><b>Enter</b> in a table</td><td>open the note, or centre the views on the structure</td></tr>
<tr><td><b>Ctrl+O</b>, <b>Ctrl+S</b>, <b>F1</b></td><td>open a file, save the de-identified note, this help</td></tr>
</table>
"""


def workspace_names() -> list[str]:
    """Machine names of the workspaces in tab order."""
    return ["imaging", "notes", "reports"]


