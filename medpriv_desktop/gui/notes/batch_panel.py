"""Batch de-identification: a folder of notes or a CSV in, de-identified files out, counts per category and a list
of every note with its own counts; double-click (or Enter on) a note to open it in the review view.

The engine's batch job runs on the JobRunner (progress and Cancel here and in the status bar). Every output is
written atomically, so a cancelled batch leaves only complete notes; running it again resumes where it stopped.
The output is proposed in the user output folder (``notes/`` -> ``notes_deid/``), never beside the input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.notes.spans import CATEGORIES
from medpriv_desktop.core.text.reading import csv_header, guess_text_columns
from medpriv_desktop.gui.notes.highlight import TAG_COLOURS
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.note_jobs import BatchItem, BatchRun, EngineFactory, default_engine, deidentify_batch
from medpriv_desktop.core.app.note_operators import BATCH_OPERATORS, OPERATOR_CHOICES
from medpriv_desktop.core.app.output_paths import default_output
from medpriv_desktop.gui.qt_compat import weak_callback
from medpriv_desktop.gui.notify import notify_error, notify_info, notify_written

FILE_COLUMNS = ("Note", "Status", "Spans", "By category")


def default_output_for(source: Path) -> Path:
    """In the user output folder: ``notes/`` -> ``notes_deid/``; ``notes.csv`` -> ``notes_deid.csv``."""
    source = Path(source)
    return default_output(source, "_deid", ".csv" if source.suffix.lower() == ".csv" else "")


class NotesBatchPanel(QWidget):
    """Choose input and output, run the batch job, read the counts; open any note of the batch for review."""

    batch_finished = Signal(object)
    #: A note of the last batch to review: ``(BatchItem, operator)``.
    review_requested = Signal(object, str)

    def __init__(self, runner: JobRunner, engine_factory: EngineFactory = default_engine,
                 parent: QWidget | None = None, *, registry: Any = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.engine_factory = engine_factory
        self.registry = registry  # the window's model registry, for the job's Context
        self.result = None
        self.run: BatchRun | None = None
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
        self.run_button = QPushButton("&De-identify batch")
        self.run_button.setShortcut(QKeySequence("Ctrl+Return"))
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
        self.files_table = QTableWidget(0, len(FILE_COLUMNS))
        self.files_table.setHorizontalHeaderLabels(FILE_COLUMNS)
        self.files_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.files_table.verticalHeader().setVisible(False)
        self.files_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.files_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.files_table.setToolTip("Every note of the batch; double-click or press Enter to review it")
        self.files_table.cellDoubleClicked.connect(self._on_files_table_cell_double_clicked)
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.files_table)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self._on_files_table_enter)
        self.review_button = QPushButton("&Review selected note")
        self.review_button.setEnabled(False)
        self.review_button.clicked.connect(self._on_files_table_enter)
        buttons.addWidget(self.review_button)
        split = QSplitter()
        split.addWidget(self.files_table)
        split.addWidget(self.table)
        split.setSizes([640, 360])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status_label)
        lay.addWidget(split, 1)
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
                cols = csv_header(path)
            except InputError as exc:
                notify_error(exc)
                return
            self.column_combo.addItems(cols)
            for guess in guess_text_columns(cols):
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
        op, factory, reg = self.operator_combo.currentData(), self.engine_factory, self.registry
        started = self.runner.start(
            f"De-identifying {source.name}",
            lambda: deidentify_batch(source, output, op, text_column=column, engine_factory=factory, registry=reg),
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

    def _on_batch_done(self, run: BatchRun) -> None:
        summary = run.summary
        self.result, self.run = summary, run
        self.show_counts(dict(summary.counts))
        self.show_items(run.items)
        text = (f"{summary.done} notes de-identified ({summary.already_done} already done), "
                f"{sum(summary.counts.values())} spans replaced, model {summary.model_id or 'rules only'}")
        if summary.failed:
            # Names and reasons only (never text); the first few are enough to act on.
            first = "; ".join(f"{Path(p).name}: {r}" for p, r in summary.failed[:3])
            text += f"; {len(summary.failed)} failed: {first}"
        self.status_label.setText(f"{text} -> {run.output}")
        notify_written(f"De-identified {summary.done + summary.already_done} notes", run.output)
        self.batch_finished.emit(summary)

    def show_items(self, items: list[BatchItem]) -> None:
        """One row per note: name, status, spans replaced, counts by category."""
        self.files_table.setRowCount(len(items))
        for r, it in enumerate(items):
            by_cat = ", ".join(f"{k} {v}" for k, v in sorted(it.counts.items(), key=lambda kv: (-kv[1], kv[0])))
            cells = (it.name, it.status, str(it.total) if it.status == "done" else "", by_cat)
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if c == 0:
                    cell.setData(Qt.ItemDataRole.UserRole, r)
                self.files_table.setItem(r, c, cell)
        self.files_table.resizeColumnsToContents()
        self.review_button.setEnabled(bool(items))
        if items:
            self.files_table.selectRow(0)

    def item_names(self) -> list[str]:
        """The notes the file list shows (tests)."""
        return [self.files_table.item(r, 0).text() for r in range(self.files_table.rowCount())]

    def open_for_review(self, row: int) -> bool:
        """Ask the workspace to open note ``row`` of the last batch in the review view."""
        if self.run is None or not 0 <= row < len(self.run.items):
            return False
        it = self.run.items[row]
        if it.status.startswith("failed"):
            notify_info(f"{it.name} could not be de-identified ({it.status[8:]}); there is nothing to review.")
            return False
        self.review_requested.emit(it, self.run.operator)
        return True

    @Slot(int, int)
    def _on_files_table_cell_double_clicked(self, row: int, _col: int) -> None:
        self.open_for_review(row)

    @Slot()
    def _on_files_table_enter(self) -> None:
        self.open_for_review(self.files_table.currentRow())

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
