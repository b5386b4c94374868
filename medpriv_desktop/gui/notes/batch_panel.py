"""Batch de-identification: a folder of notes or a CSV in, de-identified files out, a table of counts per category.

The engine's batch job runs on the JobRunner (progress and Cancel here and in the status bar). Every output is
written atomically, so a cancelled batch leaves only complete notes; running it again resumes where it stopped.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.notes.spans import CATEGORIES
from medpriv_desktop.gui.notes.highlight import TAG_COLOURS
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notes.deid_jobs import EngineFactory, default_engine, deidentify_batch
from medpriv_desktop.gui.notes.operators import BATCH_OPERATORS, OPERATOR_CHOICES
from medpriv_desktop.gui.qt_compat import weak_callback
from medpriv_desktop.gui.notify import notify_error, notify_info
from medpriv_desktop.gui.workspaces.text_panes import csv_columns, guess_text_column


def default_output_for(source: Path) -> Path:
    """``notes/`` -> ``notes_deidentified/``; ``notes.csv`` -> ``notes_deidentified.csv``."""
    source = Path(source)
    if source.suffix.lower() == ".csv":
        return source.with_name(source.stem + "_deidentified.csv")
    return source.with_name(source.name + "_deidentified")


class NotesBatchPanel(QWidget):
    """Choose input and output, run the batch job, read the counts."""

    batch_finished = Signal(object)

    def __init__(self, runner: JobRunner, engine_factory: EngineFactory = default_engine,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.engine_factory = engine_factory
        self.result = None
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("a folder of .txt notes, or a .csv with one note per row")
        browse_dir = QPushButton("Folder...")
        browse_csv = QPushButton("CSV...")
        src_row = QHBoxLayout()
        src_row.addWidget(self.source_edit, 1)
        src_row.addWidget(browse_dir)
        src_row.addWidget(browse_csv)
        self.column_combo = QComboBox()
        self.column_combo.setEnabled(False)
        self.output_edit = QLineEdit()
        self.operator_combo = QComboBox()
        for name, label in OPERATOR_CHOICES:
            if name in BATCH_OPERATORS:
                self.operator_combo.addItem(label, name)
        self.run_button = QPushButton("De-identify batch")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        form = QFormLayout()
        form.addRow("Input:", src_row)
        form.addRow("Text column (CSV):", self.column_combo)
        form.addRow("Output:", self.output_edit)
        form.addRow("Operator:", self.operator_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)  # long paths wrap rather than widen the window
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["PHI category", "Spans", "HIPAA identifiers"])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status_label)
        lay.addWidget(self.table, 1)
        browse_dir.clicked.connect(self._on_browse_dir_clicked)
        browse_csv.clicked.connect(self._on_browse_csv_clicked)
        self.run_button.clicked.connect(self._on_run_clicked)  # a slot must not return a bool (PySide6 refcount bug)
        self.cancel_button.clicked.connect(self.runner.cancel)

    def set_source(self, path: Path) -> None:
        """Use ``path`` as input and propose an output next to it."""
        path = Path(path)
        self.source_edit.setText(str(path))
        self.output_edit.setText(str(default_output_for(path)))
        self.column_combo.clear()
        self.column_combo.setEnabled(path.suffix.lower() == ".csv")
        if path.suffix.lower() == ".csv":
            try:
                cols = csv_columns(path)
            except InputError as exc:
                notify_error(exc)
                return
            self.column_combo.addItems(cols)
            guess = guess_text_column(cols)
            if guess:
                self.column_combo.setCurrentText(guess)

    @Slot()
    def _on_browse_dir_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of notes")
        if folder:
            self.set_source(Path(folder))

    @Slot()
    def _on_browse_csv_clicked(self) -> None:
        fname, _ = QFileDialog.getOpenFileName(self, "CSV of notes", "", "CSV (*.csv)")
        if fname:
            self.set_source(Path(fname))

    @Slot()
    def _on_run_clicked(self) -> None:
        self.run_batch()

    def run_batch(self) -> bool:
        """Start the batch job; False when the input is missing or another job runs."""
        src, out = self.source_edit.text().strip(), self.output_edit.text().strip()
        if not src or not out:
            notify_error(InputError("choose an input folder or CSV and an output first"))
            return False
        source, output = Path(src), Path(out)
        column = self.column_combo.currentText() or None if self.column_combo.isEnabled() else None
        op, factory = self.operator_combo.currentData(), self.engine_factory
        started = self.runner.start(
            f"De-identifying {source.name}",
            lambda: deidentify_batch(source, output, op, text_column=column, engine_factory=factory),
            on_success=weak_callback(self._on_batch_done),
            on_error=lambda exc: notify_error(exc, "Batch de-identification"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
            return False
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status_label.setText("Running...")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.cancelled.connect(self._on_runner_cancelled)
        return True

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self.status_label.setText("Cancelled. Finished notes are kept; run again to resume.")

    @Slot()
    def _on_runner_finished(self) -> None:
        self.runner.finished.disconnect(self._on_runner_finished)
        self.runner.cancelled.disconnect(self._on_runner_cancelled)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_batch_done(self, summary) -> None:
        self.result = summary
        self.show_counts(dict(summary.counts))
        text = (f"{summary.done} notes de-identified ({summary.already_done} already done), "
                f"{sum(summary.counts.values())} spans replaced, model {summary.model_id or 'rules only'}")
        if summary.failed:
            # Names and reasons only (never text); the first few are enough to act on.
            first = "; ".join(f"{Path(p).name}: {r}" for p, r in summary.failed[:3])
            text += f"; {len(summary.failed)} failed: {first}"
        self.status_label.setText(text)
        self.batch_finished.emit(summary)

    def show_counts(self, counts: dict[str, int]) -> None:
        """Fill the table: one row per PHI category (tag) that occurred, most frequent first."""
        rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.table.setRowCount(len(rows))
        for r, (tag, n) in enumerate(rows):
            name = QTableWidgetItem(tag)
            name.setBackground(QColor(TAG_COLOURS.get(tag, "#e0e0e0")))
            name.setForeground(QColor("black"))
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 1, QTableWidgetItem(str(n)))
            hipaa = sorted({c.hipaa.split(")")[0] + ")" for c in CATEGORIES.values() if c.tag == tag})
            self.table.setItem(r, 2, QTableWidgetItem(" ".join(hipaa)))
        self.table.resizeColumnsToContents()

    def table_counts(self) -> dict[str, int]:
        """The counts the table shows (tests compare them with the job's result)."""
        return {self.table.item(r, 0).text(): int(self.table.item(r, 1).text()) for r in range(self.table.rowCount())}
