"""Batch classification of a CSV (one report per row) or a folder of ``.txt`` reports into an output CSV.

Runs the engine's batch job on the JobRunner (progress and Cancel here and in the status bar); the output CSV is
written atomically at the end, so a cancelled batch leaves no file. Several text columns can be read as one report
(findings + impression); the output is proposed in the user output folder, never beside the input; labels the model
does not support are written blank and listed as "not assessed", never as 0 positives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from medpriv_desktop.core.errors import InputError, ModelError
from medpriv_desktop.core.text.reading import csv_header, guess_text_columns
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.report_jobs import classify_batch
from medpriv_desktop.core.app.output_paths import default_output
from medpriv_desktop.gui.qt_compat import weak_callback
from medpriv_desktop.gui.notify import notify_error, notify_info, notify_written


def default_output_for(source: Path) -> Path:
    """In the user output folder: ``reports.csv`` -> ``reports_labels.csv``; ``folder/`` -> ``folder_labels.csv``."""
    return default_output(Path(source), "_labels", ".csv")


class ReportsBatchPanel(QWidget):
    """Choose the input, columns and output; run; see positives per label."""

    batch_finished = Signal(object)

    def __init__(self, runner: JobRunner, current_entry: Callable[[], Any], registry: Any,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.current_entry = current_entry
        self.registry = registry
        self.summary = None
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("a CSV with one report per row, or a folder of .txt reports")
        browse_csv, browse_dir = QPushButton("CSV..."), QPushButton("Folder...")
        src = QHBoxLayout()
        src.addWidget(self.source_edit, 1)
        src.addWidget(browse_csv)
        src.addWidget(browse_dir)
        self.text_combo = QComboBox()
        self.text_combo.currentIndexChanged.connect(self._on_text_combo_changed)
        self.extra_list = QListWidget()
        self.extra_list.setMaximumHeight(70)
        self.extra_list.setToolTip("Tick more columns to read them with the text column as one report, each under "
                                   "its name as a heading (findings + impression)")
        self.id_combo = QComboBox()
        self.output_edit = QLineEdit()
        self.prob_check = QCheckBox("Also write one probability column per label")
        self.prob_check.setChecked(True)
        self.comma_check = QCheckBox("CSV for a decimal-comma locale (; between cells, 0,75)")
        self.comma_check.setChecked(self._settings_comma())
        form = QFormLayout()
        form.addRow("Input:", src)
        form.addRow("Text column:", self.text_combo)
        form.addRow("Also read:", self.extra_list)
        form.addRow("Id column:", self.id_combo)
        form.addRow("Output CSV:", self.output_edit)
        form.addRow("", self.prob_check)
        form.addRow("", self.comma_check)
        self.run_button = QPushButton("Classify &batch")
        self.run_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)  # long paths wrap rather than widen the window
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Label", "Positive reports"])
        self.table.verticalHeader().setVisible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addWidget(self.status_label)
        lay.addWidget(self.table, 1)
        browse_csv.clicked.connect(self._on_browse_csv_clicked)
        browse_dir.clicked.connect(self._on_browse_dir_clicked)
        self.run_button.clicked.connect(self._on_run_clicked)  # slots return None (PySide6 refcount bug)
        self.cancel_button.clicked.connect(self.runner.cancel)

    def set_source(self, path: Path) -> None:
        """Use ``path`` as input, fill the column choices, propose an output."""
        path = Path(path)
        self.source_edit.setText(str(path))
        self.output_edit.setText(str(default_output_for(path)))
        self.text_combo.clear()
        self.extra_list.clear()
        self.id_combo.clear()
        is_csv = path.suffix.lower() == ".csv"
        self.text_combo.setEnabled(is_csv)
        self.extra_list.setEnabled(is_csv)
        self.id_combo.setEnabled(is_csv)
        if is_csv:
            try:
                cols = csv_header(path)
            except InputError as exc:
                notify_error(exc)
                return
            self.text_combo.blockSignals(True)
            self.text_combo.addItems(cols)
            guess = guess_text_columns(cols, sections=True)  # one report column, or findings + impression
            self.text_combo.setCurrentText(guess[0] if guess else "")
            sections = guess if len(guess) > 1 else []
            self.text_combo.blockSignals(False)
            self._fill_extra(cols, sections[1:])
            self.id_combo.addItem("(row number)", None)
            for c in cols:
                self.id_combo.addItem(c, c)
            idx = next((i for i, c in enumerate(cols) if c.lower() in ("id", "report_id", "accession")), None)
            if idx is not None:
                self.id_combo.setCurrentIndex(idx + 1)

    def _settings_comma(self) -> bool:
        from medpriv_desktop.core.settings import load_settings

        return load_settings().csv_decimal_comma

    def _fill_extra(self, cols: list[str], ticked: list[str]) -> None:
        """Every column but the text column, as a tick box; ``ticked`` start ticked."""
        self.extra_list.clear()
        for c in cols:
            if c == self.text_combo.currentText():
                continue
            item = QListWidgetItem(c)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c in ticked else Qt.CheckState.Unchecked)
            self.extra_list.addItem(item)

    def _on_text_combo_changed(self, _index: int) -> None:
        ticked = [c for c in self.text_columns()[1:]]
        cols = [self.text_combo.itemText(i) for i in range(self.text_combo.count())]
        self._fill_extra(cols, ticked)

    def text_columns(self) -> list[str]:
        """The text column and every ticked extra column, in the CSV's order after the first."""
        first = self.text_combo.currentText()
        extra = [self.extra_list.item(i).text() for i in range(self.extra_list.count())
                 if self.extra_list.item(i).checkState() == Qt.CheckState.Checked]
        return ([first] if first else []) + [c for c in extra if c != first]

    def set_text_columns(self, columns: list[str]) -> None:
        """Choose the text column and the extra ones (tests and callers)."""
        self.text_combo.setCurrentText(columns[0])
        for i in range(self.extra_list.count()):
            item = self.extra_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in columns[1:] else Qt.CheckState.Unchecked)

    @Slot()
    def _on_browse_csv_clicked(self) -> None:
        fname, _ = QFileDialog.getOpenFileName(self, "CSV of reports", "", "CSV (*.csv)")
        if fname:
            self.set_source(Path(fname))

    @Slot()
    def _on_browse_dir_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of reports")
        if folder:
            self.set_source(Path(folder))

    @Slot()
    def _on_run_clicked(self) -> None:
        self.run_batch()

    def run_batch(self) -> bool:
        """Start the batch job; False when input, output or model is missing, or another job runs."""
        entry = self.current_entry()
        src, out = self.source_edit.text().strip(), self.output_edit.text().strip()
        if entry is None:
            notify_error(ModelError("no report-classification model is installed", hint="import one with Models..."))
            return False
        if not src or not out:
            notify_error(InputError("choose an input CSV or folder and an output CSV first"))
            return False
        source, output = Path(src), Path(out)
        text_col = (self.text_columns() or None) if self.text_combo.isEnabled() else None
        id_col = self.id_combo.currentData() if self.id_combo.isEnabled() else None
        probs, reg, comma = self.prob_check.isChecked(), self.registry, self.comma_check.isChecked()
        started = self.runner.start(
            f"Classifying {source.name}",
            lambda: classify_batch(source, output, entry, reg, text_column=text_col, id_column=id_col,
                                   probabilities=probs, decimal_comma=comma),
            on_success=weak_callback(self._on_batch_done),
            on_error=lambda exc: notify_error(exc, "Batch classification"))
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
        self.status_label.setText("Cancelled: no output was written.")

    @Slot()
    def _on_runner_finished(self) -> None:
        self.runner.finished.disconnect(self._on_runner_finished)
        self.runner.cancelled.disconnect(self._on_runner_cancelled)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_batch_done(self, summary) -> None:
        self.summary = summary
        rows = sorted(summary.positives.items(), key=lambda kv: (-kv[1], kv[0]))
        skipped = list(getattr(summary, "not_assessed", []))
        self.table.setRowCount(len(rows) + len(skipped))
        for r, (lb, n) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(lb))
            self.table.setItem(r, 1, QTableWidgetItem(str(n)))
        for r, lb in enumerate(skipped, start=len(rows)):
            self.table.setItem(r, 0, QTableWidgetItem(lb))
            self.table.setItem(r, 1, QTableWidgetItem("not assessed (not supported by this model)"))
        self.table.resizeColumnsToContents()
        empty = f"; {summary.n_empty} empty, not assessed" if summary.n_empty else ""
        self.status_label.setText(f"{summary.n_reports} reports classified{empty} -> {summary.output}")
        notify_written(f"Classified {summary.n_reports} reports", summary.output)
        self.batch_finished.emit(summary)
