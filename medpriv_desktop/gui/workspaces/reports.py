"""Reports workspace (foundation shell): open or paste a radiology report, pick a classification model.

Classification, evidence and batch labelling attach here when the report engine lands.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QWidget

from medpriv_desktop.core.models.card import Task
from medpriv_desktop.gui.notify import notify_error
from medpriv_desktop.gui.workspaces.base import WorkspacePanel
from medpriv_desktop.gui.workspaces.text_panes import read_text_file


class ReportsWorkspace(WorkspacePanel):
    """A report, the model to classify it with, and (later) its labels and evidence."""

    machine_name = "reports"
    title = "Reports"
    model_task = Task.REPORT_CLASSIFICATION
    no_model_text = ("No report classification model is installed. Reports can be opened and read; labelling "
                     "needs a model bundle (Models...).")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(280)
        lay.addWidget(QLabel("Model:"))
        lay.addWidget(self.model_combo)
        lay.addStretch(1)
        self.outer.addWidget(row)
        self.report_edit = QPlainTextEdit()
        self.report_edit.setPlaceholderText("Paste a radiology report here, or open a .txt file (File > Open).")
        self.outer.addWidget(self.report_edit, 1)
        self.path: Path | None = None

    def refresh_models(self) -> None:
        """Fill the model list from the registry."""
        super().refresh_models()
        self.model_combo.clear()
        for e in self.models():
            self.model_combo.addItem(f"{e.card.title} ({e.card.version})", e.card.id)
        self.model_combo.setEnabled(self.model_combo.count() > 0)

    def open_path(self, path: Path) -> None:
        """Show a report file."""
        try:
            text = read_text_file(Path(path))
        except Exception as exc:
            notify_error(exc, "Opening the report")
            return
        self.path = Path(path)
        self.report_edit.setPlainText(text)
        self.file_opened.emit(str(path))
