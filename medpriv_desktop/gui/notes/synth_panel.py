"""The Synthesize tab: a synthetic note from the current note, beside its keywords, privacy check and quality; and a
batch assessment (a folder of notes, several methods) with a chart of PHI occurrence per category per method.

The keyword list is the reviewer's: Extract fills it from the note, and any keyword can be edited, added or removed
before Generate (typed keywords pass the same PHI gate; refused ones are counted). The privacy message says exactly
what it checked, "none of the N detected PHI items", and that PHI the detector missed cannot be checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notes.chart import OccurrenceChart
from medpriv_desktop.core.app.note_jobs import EngineFactory, default_engine
from medpriv_desktop.core.app.synth_jobs import (SynthResult, assess_batch, extract_keywords_job, generate_batch,
                                                  occurrence_table, synthesize_one)
from medpriv_desktop.gui.qt_compat import weak_callback
from medpriv_desktop.gui.notify import notify_error, notify_info

METHOD_LABELS = (("keyword", "Keywords only (the engine never sees the note)"),
                 ("one-shot", "One-shot (the note is the context)"),
                 ("normalized", "Normalized one-shot (lower case, letters only)"))
SOURCES = (("original", "Current note, de-identified to tags by the engine first"),
           ("surrogate", "Current note, PHI replaced by keyed surrogates first"),
           ("reviewed", "Current de-identified note as reviewed (right pane)"))


def privacy_message(res: SynthResult, reviewed: bool = False) -> str:
    """What the privacy check found and what it checked: the N PHI items it looked for (those detected in the
    source, or accepted by the reviewer), never more than that."""
    n = sum(res.present.values())
    what = "PHI items of the source as you reviewed them" if reviewed else "detected PHI items of the source"
    checked = ", ".join(f"{k} ×{v}" for k, v in sorted(res.present.items()) if v) or "none"
    leaked = {k: v for k, v in res.leaked.items() if v}
    if leaked:
        items = ", ".join(f"{k} ×{v}" for k, v in sorted(leaked.items()))
        return (f"PHI of the source occurred: {items} (of the {n} {what}: {checked}). Do not use this note; "
                "review it and remove them.")
    if n == 0:
        return ("No PHI was detected in the source, so there was nothing to look for: the check cannot show that "
                "the synthetic note is free of PHI. Review it before use.")
    return (f"None of the {n} {what} occurred in the synthetic note (checked: {checked}). PHI the "
            "detector missed could not be checked: review the note before use.")


def engine_names(registry: Any = None) -> list[str]:
    """Generation engines: the built-in template engine plus the causal-LM bundles of ``registry`` (the window's)."""
    from medpriv_desktop.core.notes.synth.engines.base import available_engines

    return available_engines(registry)


class SynthPanel(QWidget):
    """Generate and check synthetic notes (see the module docstring)."""

    synthesized = Signal(object)
    keywords_extracted = Signal(int)
    assessed = Signal(object)
    batch_written = Signal(object)

    def __init__(self, runner: JobRunner, deid_panel: Any, engine_factory: EngineFactory = default_engine,
                 registry: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.deid = deid_panel
        self.engine_factory = engine_factory
        self.registry = registry
        self.result: SynthResult | None = None
        self.batch_result: dict | None = None
        self.method_combo = QComboBox()
        for name, label in METHOD_LABELS:
            self.method_combo.addItem(label, name)
        self.engine_combo = QComboBox()
        # The full list (it reads the model registry and imports the engines) is filled when the tab is first
        # shown, keeping it out of the window's start-up.
        self.engine_combo.addItem("template")
        self._engines_listed = False
        self.source_combo = QComboBox()
        for name, label in SOURCES:
            self.source_combo.addItem(label, name)
        self.generate_button = QPushButton("&Generate")
        self.generate_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.generate_button.setToolTip("Generate a synthetic note (Ctrl+Enter); the keyword method uses the keyword "
                                        "list as you edited it")
        self.extract_button = QPushButton("E&xtract keywords")
        self.extract_button.setToolTip("Fill the keyword list from the note, to edit before Generate")
        top = QHBoxLayout()
        for w in (QLabel("Method:"), self.method_combo, QLabel("Engine:"), self.engine_combo, QLabel("From:"),
                  self.source_combo, self.extract_button, self.generate_button):
            top.addWidget(w)
        top.addStretch(1)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.synthetic_edit = QPlainTextEdit()
        self.synthetic_edit.setReadOnly(True)
        self.synthetic_edit.setFont(mono)
        self.synthetic_edit.setPlaceholderText("The synthetic note appears here.")
        self.keyword_list = QListWidget()
        self.keyword_list.setToolTip("Double-click (or F2) to edit a keyword; Add and Remove below")
        self.keyword_list.itemChanged.connect(self._on_keyword_list_item_changed)
        self.add_keyword_button = QPushButton("&Add keyword")
        self.remove_keyword_button = QPushButton("&Remove keyword")
        self.add_keyword_button.clicked.connect(self._on_add_keyword_clicked)
        self.remove_keyword_button.clicked.connect(self._on_remove_keyword_clicked)
        #: True when the list holds the reviewer's edits (Generate then uses it as it stands).
        self.keywords_edited = False
        self.privacy_label = QLabel("")
        self.privacy_label.setWordWrap(True)
        self.quality_label = QLabel("")
        self.quality_label.setWordWrap(True)
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(QLabel("Keywords (edit, add or remove, then Generate)"))
        side_lay.addWidget(self.keyword_list, 1)
        kw_row = QHBoxLayout()
        kw_row.addWidget(self.add_keyword_button)
        kw_row.addWidget(self.remove_keyword_button)
        kw_row.addStretch(1)
        side_lay.addLayout(kw_row)
        side_lay.addWidget(QLabel("Privacy check (PHI of the source found in the synthetic note)"))
        side_lay.addWidget(self.privacy_label)
        side_lay.addWidget(QLabel("Quality against the source"))
        side_lay.addWidget(self.quality_label)
        split = QSplitter()
        split.addWidget(self.synthetic_edit)
        split.addWidget(side)
        split.setSizes([700, 400])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(split, 3)
        lay.addWidget(self._build_batch_box(), 2)
        self.generate_button.clicked.connect(self._on_generate_clicked)  # slots return None (PySide6 bug)
        self.extract_button.clicked.connect(self._on_extract_clicked)

    def _build_batch_box(self) -> QGroupBox:
        box = QGroupBox("Batch assessment")
        self.batch_source_edit = QLineEdit()
        self.batch_source_edit.setPlaceholderText("a folder of .txt notes")
        browse = QPushButton("Folder...")
        self.method_checks = {}
        row = QHBoxLayout()
        row.addWidget(self.batch_source_edit, 1)
        row.addWidget(browse)
        for name, _ in METHOD_LABELS:
            cb = QCheckBox(name)
            cb.setChecked(True)
            self.method_checks[name] = cb
            row.addWidget(cb)
        self.assess_button = QPushButton("Assess")
        self.write_button = QPushButton("Write synthetic notes...")
        self.write_button.setToolTip("Generate one synthetic note per note of the folder with the method and engine "
                                     "chosen above, into a folder you choose (resumable)")
        row.addWidget(self.assess_button)
        row.addWidget(self.write_button)
        self.chart = OccurrenceChart()
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(True)
        charts = QSplitter()
        charts.addWidget(self.chart)
        charts.addWidget(self.table)
        charts.setSizes([650, 450])
        lay = QVBoxLayout(box)
        lay.addLayout(row)
        lay.addWidget(charts, 1)
        browse.clicked.connect(self._on_browse_clicked)
        self.assess_button.clicked.connect(self._on_assess_clicked)
        self.write_button.clicked.connect(self._on_write_clicked)
        self.batch_status = QLabel("")
        self.batch_status.setWordWrap(True)  # long paths wrap rather than widen the window
        lay.addWidget(self.batch_status)
        return box

    def refresh_engines(self) -> None:
        """List the built-in engine and installed causal-LM bundles (keeps the current choice)."""
        current = self.engine_combo.currentText()
        self.engine_combo.clear()
        self.engine_combo.addItems(engine_names(self.registry))
        idx = self.engine_combo.findText(current)
        self.engine_combo.setCurrentIndex(max(idx, 0))
        self._engines_listed = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API name
        """Fill the engine list on first show."""
        if not self._engines_listed:
            self.refresh_engines()
        super().showEvent(event)

    # -- keywords ------------------------------------------------------------------------------------------------

    def keywords(self) -> list[str]:
        """The keyword list as it stands (empty lines dropped)."""
        out = []
        for i in range(self.keyword_list.count()):
            item = self.keyword_list.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsEditable and item.text().strip():
                out.append(item.text().strip())
        return out

    def set_keywords(self, words: list[str], edited: bool = False) -> None:
        """Show ``words`` as editable items; ``edited`` marks them as the reviewer's."""
        self.keyword_list.blockSignals(True)
        self.keyword_list.clear()
        for w in words:
            item = QListWidgetItem(w)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.keyword_list.addItem(item)
        self.keyword_list.blockSignals(False)
        self.keywords_edited = edited

    def _on_keyword_list_item_changed(self, _item) -> None:
        self.keywords_edited = True

    @Slot()
    def _on_add_keyword_clicked(self) -> None:
        item = QListWidgetItem("")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.keyword_list.addItem(item)
        self.keyword_list.setCurrentItem(item)
        self.keyword_list.editItem(item)
        self.keywords_edited = True

    @Slot()
    def _on_remove_keyword_clicked(self) -> None:
        row = self.keyword_list.currentRow()
        if row >= 0:
            self.keyword_list.takeItem(row)
            self.keywords_edited = True

    @Slot()
    def _on_extract_clicked(self) -> None:
        self.extract_keywords()

    def extract_keywords(self) -> bool:
        """Fill the keyword list from the current note (a job), ready to edit."""
        original = self.deid.input_edit.toPlainText()
        mode = "surrogate" if self.source_combo.currentData() == "surrogate" else "tagged"
        factory = self.engine_factory
        started = self.runner.start("Extracting keywords", lambda: extract_keywords_job(original, factory,
                                                                                         source_mode=mode),
                                    on_success=weak_callback(self._on_keywords_extracted),
                                    on_error=lambda exc: notify_error(exc, "Keyword extraction"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
        return started

    def _on_keywords_extracted(self, keywords: list) -> None:
        self.method_combo.setCurrentIndex(self.method_combo.findData("keyword"))
        self.set_keywords([k.text for k in keywords])
        self.keywords_extracted.emit(len(keywords))

    # -- one note ------------------------------------------------------------------------------------------------

    @Slot()
    def _on_generate_clicked(self) -> None:
        self.generate()

    def generate(self) -> bool:
        """Start the synthesis job for the current note; False when nothing to do or a job runs."""
        original = self.deid.input_edit.toPlainText()
        review = self.deid.review if self.deid.review is not None and self.deid.review.text == original else None
        gold = review.active_spans() if review is not None else None
        if self.source_combo.currentData() == "reviewed":
            if review is None:
                notify_error(InputError("no reviewed de-identified note yet", hint="press De-identify first"))
                return False
            source, mode = self.deid.output_text, "raw"
        else:
            # "original" -> tags, "surrogate" -> realistic fake values: the engine's own source modes.
            source, mode = original, "tagged" if self.source_combo.currentData() == "original" else "surrogate"
        method, engine, factory, reg = (self.method_combo.currentData(), self.engine_combo.currentText(),
                                        self.engine_factory, self.registry)
        typed = self.keywords() if method == "keyword" and self.keywords_edited else None
        # "As you reviewed them" only when the reviewer decided something; otherwise it is the detector's list.
        self._gold_reviewed = review is not None and bool(review.decisions())
        started = self.runner.start(
            f"Synthesizing ({method})",
            lambda: synthesize_one(source, method, engine, factory, gold, source_mode=mode, original=original,
                                   registry=reg, keywords=typed),
            on_success=weak_callback(self._on_synthesized), on_error=lambda exc: notify_error(exc, "Synthesis"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
        return started

    def _on_synthesized(self, res: SynthResult) -> None:
        self.result = res
        self.synthetic_edit.setPlainText(res.synthetic)
        if res.keywords:
            self.set_keywords([k.text for k in res.keywords], edited=self.keywords_edited)
        else:
            self.keyword_list.clear()
            self.keyword_list.addItem("(no keywords: this method uses the note as context)")  # not editable
        if res.refused_keywords:
            notify_info(f"{res.refused_keywords} of your keywords were refused by the PHI check (names, numbers, "
                        "unknown words) and not used.")
        self.privacy_label.setText(privacy_message(res, getattr(self, "_gold_reviewed", False)))
        leaked = {k: v for k, v in res.leaked.items() if v}
        self.privacy_label.setStyleSheet("color: #b00020; font-weight: 600;" if leaked
                                         else "color: #1d6b1d; font-weight: 600;")
        det = {k: v for k, v in res.detector_spans.items() if v}
        if det:
            self.privacy_label.setText(self.privacy_label.text() + "\nDe-identifier flags in the output: "
                                       + ", ".join(f"{k} ×{v}" for k, v in sorted(det.items())))
        q = " · ".join(f"{k.replace('rouge', 'ROUGE-')} {v:.3f}" for k, v in sorted(res.quality.items()))
        self.quality_label.setText(q + (f"\n{res.cosine_note}" if res.cosine_note else ""))
        self.synthesized.emit(res)

    # -- batch ---------------------------------------------------------------------------------------------------

    def set_batch_source(self, folder: Path) -> None:
        """Use ``folder`` for the batch assessment."""
        self.batch_source_edit.setText(str(folder))

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of notes")
        if folder:
            self.set_batch_source(Path(folder))

    @Slot()
    def _on_assess_clicked(self) -> None:
        self.assess()

    def assess(self) -> bool:
        """Start the batch assessment job."""
        folder = self.batch_source_edit.text().strip()
        if not folder:
            notify_error(InputError("choose a folder of notes to assess first"))
            return False
        methods = [m for m, cb in self.method_checks.items() if cb.isChecked()]
        engine, factory, reg = self.engine_combo.currentText(), self.engine_factory, self.registry
        started = self.runner.start(f"Assessing synthesis on {Path(folder).name}",
                                    lambda: assess_batch(Path(folder), methods, engine, factory, registry=reg),
                                    on_success=weak_callback(self._on_assessed),
                                    on_error=lambda exc: notify_error(exc, "Synthesis assessment"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
        return started

    @Slot()
    def _on_write_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the synthetic notes")
        if folder:
            self.write_batch(Path(folder))

    def write_batch(self, output: Path) -> bool:
        """Generate synthetic notes for the batch folder into ``output`` (a job)."""
        folder = self.batch_source_edit.text().strip()
        if not folder:
            notify_error(InputError("choose a folder of notes first"))
            return False
        method, engine, factory, reg = (self.method_combo.currentData(), self.engine_combo.currentText(),
                                        self.engine_factory, self.registry)
        started = self.runner.start(f"Synthesizing {Path(folder).name}",
                                    lambda: generate_batch(Path(folder), Path(output), method, engine, factory,
                                                           registry=reg),
                                    on_success=weak_callback(self._on_batch_written),
                                    on_error=lambda exc: notify_error(exc, "Batch synthesis"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
        return started

    def _on_batch_written(self, summary) -> None:
        text = f"{summary.written} synthetic notes written ({summary.skipped_done} already done)"
        if summary.failed:
            text += f", {len(summary.failed)} failed: " + "; ".join(
                f"{Path(p).name}: {r}" for p, r in summary.failed[:3])
        self.batch_status.setText(text)
        self.batch_written.emit(summary)

    def _on_assessed(self, result: dict) -> None:
        self.batch_result = result
        methods, cats, rates = occurrence_table(result)
        self.chart.set_data(methods, cats, rates)
        rows = ["notes"] + [f"{c} occurrence" for c in cats] + ["any PHI", "8-gram overlap", "ROUGE-1", "ROUGE-L"]
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(methods))
        self.table.setHorizontalHeaderLabels(methods)
        self.table.setVerticalHeaderLabels(rows)
        for j, m in enumerate(methods):
            cfg = result["configs"][m]
            vals = [str(cfg["privacy"]["n_notes"])] + [f"{100 * r:.0f}%" for r in rates[j]] + [
                f"{100 * cfg['privacy']['any_leak_rate']:.0f}%", f"{100 * cfg['privacy']['ngram8_overlap']:.1f}%",
                f"{cfg['quality'].get('rouge1', 0):.3f}", f"{cfg['quality'].get('rougeL', 0):.3f}"]
            for i, v in enumerate(vals):
                self.table.setItem(i, j, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()
        self.assessed.emit(result)
