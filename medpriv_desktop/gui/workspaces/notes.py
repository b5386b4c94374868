"""Notes workspace (foundation shell): open or paste a clinical note and see it beside the output pane.

De-identification and synthesis attach here when their engines land; the shell already reads notes safely
(encoding, size and binary checks) and shows the result pane read-only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from medpriv_desktop.core.models.card import Task
from medpriv_desktop.gui.notify import notify_error
from medpriv_desktop.gui.workspaces.base import WorkspacePanel
from medpriv_desktop.gui.workspaces.text_panes import read_text_file


def _pane(title: str, editor: QPlainTextEdit) -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    head = QLabel(title)
    head.setStyleSheet("font-weight: 600;")
    lay.addWidget(head)
    lay.addWidget(editor, 1)
    return w


class NotesWorkspace(WorkspacePanel):
    """Input note on the left, de-identified output on the right."""

    machine_name = "notes"
    title = "Notes"
    model_task = Task.PHI_NER
    no_model_text = ("No PHI model is installed. Notes can be opened and read; de-identification needs the PHI "
                     "model bundle (Models...).")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.input_edit = QPlainTextEdit()
        self.input_edit.setPlaceholderText("Paste a clinical note here, or open a .txt file (File > Open).")
        self.input_edit.setFont(mono)
        self.output_edit = QPlainTextEdit()
        self.output_edit.setReadOnly(True)
        self.output_edit.setPlaceholderText("The de-identified note appears here.")
        self.output_edit.setFont(mono)
        split = QSplitter()
        split.addWidget(_pane("Original note", self.input_edit))
        split.addWidget(_pane("De-identified", self.output_edit))
        self.outer.addWidget(split, 1)
        self.path: Path | None = None

    def open_path(self, path: Path) -> None:
        """Show a note file (small files load directly; errors become one message)."""
        try:
            text = read_text_file(Path(path))
        except Exception as exc:
            notify_error(exc, "Opening the note")
            return
        self.path = Path(path)
        self.input_edit.setPlainText(text)
        self.output_edit.clear()
        self.file_opened.emit(str(path))
