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
from medpriv_desktop.gui.notify import Notification, notifications, notify_error
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
        self.offline_label = QLabel("Offline · nothing leaves this computer")
        self.offline_label.setStyleSheet("color: #2e7d32; padding: 0 6px;")
        self.statusBar().addPermanentWidget(self.offline_label)
        notifications().notified.connect(self._on_notified)
        self._build_menus()
        self.refresh_models()

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
        help_menu = self.menuBar().addMenu("&Help")
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
            self.refresh_models()

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
        if n.level == "error":
            box = QMessageBox(QMessageBox.Icon.Warning, "MedPriv Desktop", n.text, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.setWindowModality(Qt.WindowModality.NonModal)
            box.show()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API name
        if self.runner.busy:
            self.runner.cancel()
            self.runner.wait(10000)
        super().closeEvent(event)


def workspace_names() -> list[str]:
    """Machine names of the workspaces in tab order."""
    return ["imaging", "notes", "reports"]


