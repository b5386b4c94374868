"""Reports workspace: classify a radiology report with evidence and a second opinion, or a batch to CSV.

*Report* tab: the report on the left (evidence sentences highlighted), the result on the right: the model's privacy
guarantee, per-label probability bars with the threshold marked, decisions, and the rule labeler beside them with
disagreements highlighted. *Batch* tab: a CSV or folder of reports to an output CSV. The model (chest X-ray or chest
CT) is chosen above both tabs; it follows the report: an opened or pasted report selects the model of its kind by its
words (:mod:`..reports.model_choice`), or the default report model of Preferences, until the user picks one by hand.
Model loading and inference run as jobs; onnxruntime is imported in the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSplitter,
                               QTabWidget, QWidget)

from medpriv_desktop.core.errors import InputError, ModelError
from medpriv_desktop.core.models.card import Task
from medpriv_desktop.core.text.reading import read_text
from medpriv_desktop.gui.qt_compat import guard_bool_refcounts, weak_callback
from medpriv_desktop.gui.notify import notify_error, notify_info
from medpriv_desktop.gui.reports.batch_panel import ReportsBatchPanel
from medpriv_desktop.core.app.report_jobs import ReportResult, classify_report, modality_of
from medpriv_desktop.core.app.report_choice import pick_model
from medpriv_desktop.core.app.report_privacy import privacy_summary
from medpriv_desktop.gui.reports.result_panel import ReportResultPanel, evidence_selections
from medpriv_desktop.gui.workspaces.base import WorkspacePanel


class ReportsWorkspace(WorkspacePanel):
    """A report, the model to classify it with, its labels, evidence and second opinion; batch to CSV."""

    machine_name = "reports"
    title = "Reports"
    model_task = Task.REPORT_CLASSIFICATION
    no_model_text = ("No report classification model is installed. Reports can be opened and read; labelling "
                     "needs a model bundle (Models...).")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        guard_bool_refcounts()  # batch progress emits many signals (see gui/qt_compat)
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(340)
        self.classify_button = QPushButton("C&lassify")
        self.classify_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.classify_button.setToolTip("Classify the report (Ctrl+Enter)")
        self.rules_check = QCheckBox("Second opinion (rule labeler)")
        self.rules_check.setChecked(True)
        model_label = QLabel("&Model:")
        model_label.setBuddy(self.model_combo)
        lay.addWidget(model_label)
        lay.addWidget(self.model_combo)
        lay.addWidget(self.classify_button)
        lay.addWidget(self.rules_check)
        lay.addStretch(1)
        self.outer.addWidget(row)
        self.choice_label = QLabel("")
        self.choice_label.setStyleSheet("color: #555;")
        self.choice_label.setWordWrap(True)
        self.outer.addWidget(self.choice_label)
        #: True once the user picked a model by hand for the current report (the words then no longer decide).
        self.user_chose = False
        self.report_edit = QPlainTextEdit()
        self.report_edit.setPlaceholderText("Paste a radiology report here, or open a .txt file (File > Open).")
        self.result_panel = ReportResultPanel()
        split = QSplitter()
        split.addWidget(self.report_edit)
        split.addWidget(self.result_panel)
        split.setSizes([520, 700])
        self.batch = ReportsBatchPanel(self.runner, self.current_entry, self.registry)
        self.tabs = QTabWidget()
        self.tabs.addTab(split, "Report")
        self.tabs.addTab(self.batch, "Batch")
        self.outer.addWidget(self.tabs, 1)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.path: Path | None = None
        self.result: ReportResult | None = None
        self._classified_text = ""
        self.classify_button.clicked.connect(self._on_classify_clicked)  # slot returns None (PySide6 refcount bug)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.model_combo.activated.connect(self._on_model_combo_activated)
        self.report_edit.textChanged.connect(self._on_report_text_changed)
        self.result_panel.label_selected.connect(self._on_label_selected)

    # -- models --------------------------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """Fill the model list from the registry (chest X-ray and chest CT models, marked as such)."""
        super().refresh_models()
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for e in self.models():
            self.model_combo.addItem(f"[{modality_of(e.card)}] {e.card.title} ({e.card.version})", e.card.id)
        idx = self.model_combo.findData(current)
        if idx < 0:  # first fill: the default report model of Preferences, when installed
            idx = self.model_combo.findData(self.settings().default_report_model)
        self.model_combo.setCurrentIndex(idx if idx >= 0 else 0)
        self.model_combo.blockSignals(False)
        self.model_combo.setEnabled(self.model_combo.count() > 0)
        self.classify_button.setEnabled(self.model_combo.count() > 0)
        self._on_model_changed()

    def current_entry(self) -> Any:
        """Registry entry of the chosen model, or None."""
        mid = self.model_combo.currentData()
        if mid is None:
            return None
        try:
            return self.registry.get(mid)
        except Exception:  # removed since the list was filled
            return None

    def select_model(self, model_id: str) -> bool:
        """Choose a model by id; False when it is not listed."""
        idx = self.model_combo.findData(model_id)
        if idx >= 0:
            self.model_combo.setCurrentIndex(idx)
        return idx >= 0

    @Slot(int)
    def _on_model_combo_activated(self, _index: int) -> None:
        self.user_chose = True
        self.choice_label.setText("Model chosen by hand.")

    def follow_report(self, text: str) -> str | None:
        """Select the model that fits ``text`` (by its words, else the default report model); the chosen id."""
        chosen, why = pick_model(text, self.models(), modality_of, self.settings().default_report_model,
                                 self.model_combo.currentData())
        if chosen is not None and chosen != self.model_combo.currentData():
            self.select_model(chosen)
            self.choice_label.setText(f"Model {chosen} chosen because {why}. Pick another above to override.")
        elif chosen is not None:
            self.choice_label.setText(f"Model {chosen}: {why}.")
        return chosen

    @Slot()
    def _on_model_changed(self) -> None:
        entry = self.current_entry()
        if entry is None:
            self.result_panel.privacy_label.setVisible(False)
            return
        self.result_panel.set_privacy(*privacy_summary(entry.card))

    # -- classify ------------------------------------------------------------------------------------------------

    def _on_tabs_current_changed(self, _index: int) -> None:
        # Classify sits above both tabs, so it stays on screen under Batch: it gives Ctrl+Enter to "Classify batch"
        # there (two visible buttons with one shortcut would make Qt press neither).
        batch = self.tabs.currentWidget() is self.batch
        self.classify_button.setShortcut(QKeySequence() if batch else QKeySequence("Ctrl+Return"))

    @Slot()
    def _on_classify_clicked(self) -> None:
        self.classify()

    def classify(self) -> bool:
        """Classify the report as a job; False when there is nothing to do or a job runs."""
        text = self.report_edit.toPlainText()
        if not self.user_chose and text.strip():
            self.follow_report(text)
        entry = self.current_entry()
        if entry is None:
            notify_error(ModelError("no report-classification model is installed", hint="import one with Models..."))
            return False
        if not text.strip():
            notify_error(InputError("the report is empty", hint="paste a report or open a .txt file first"))
            return False
        second, reg = self.rules_check.isChecked(), self.registry
        started = self.runner.start(f"Classifying with {entry.card.id}",
                                    lambda: classify_report(text, entry, reg, second),
                                    on_success=weak_callback(self._on_classified, text),
                                    on_error=lambda exc: notify_error(exc, "Classifying the report"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
        return started

    def _on_classified(self, text: str, result: ReportResult) -> None:
        if self.report_edit.toPlainText() != text:
            return  # edited while the job ran: the offsets describe another text
        self.result = result
        self._classified_text = text
        self.result_panel.show_result(result, text)
        self.report_edit.setExtraSelections(evidence_selections(self.report_edit, result))

    @Slot(str)
    def _on_label_selected(self, label: str) -> None:
        if self.result is not None:
            self.report_edit.setExtraSelections(evidence_selections(self.report_edit, self.result, label))

    @Slot()
    def _on_report_text_changed(self) -> None:
        if self.result is not None and self.report_edit.toPlainText() != self._classified_text:
            self.result = None
            self.report_edit.setExtraSelections([])
            self.result_panel.clear()

    # -- files ---------------------------------------------------------------------------------------------------

    def open_path(self, path: Path) -> None:
        """A ``.txt`` report opens for classification; a ``.csv`` or folder becomes the batch input."""
        path = Path(path)
        if path.is_dir() or path.suffix.lower() == ".csv":
            self.batch.set_source(path)
            self.tabs.setCurrentWidget(self.batch)
            self.file_opened.emit(str(path))
            return
        try:
            text = read_text(path)
        except Exception as exc:
            notify_error(exc, "Opening the report")
            return
        self.path = path
        self.report_edit.setPlainText(text)
        self.user_chose = False  # a new report: its words choose the model again
        self.follow_report(text)
        self.tabs.setCurrentIndex(0)
        self.file_opened.emit(str(path))
