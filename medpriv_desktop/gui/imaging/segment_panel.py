"""Segment and Compare controls: the model picker, Run, and the student-versus-teacher comparison.

The picker lists the installed segmentation models that accept the study's modality; it starts on the student of a
family (fast) and offers the teacher when installed. Compare runs both and shows their Dice and run times; the overlay
can then show the result or the difference, and the comparison can be seen side by side. Dice here is the agreement
of two models with each other, never accuracy (neither is the truth), and it is labelled so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QRadioButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry
from medpriv_desktop.core.app import CompareRun, default_model, dice_ratio_text, passed_over_students


def _role_text(entry: ModelEntry) -> str:
    role = {"student": "student, fast", "teacher": "teacher, slow", "single": ""}.get(entry.card.role, "")
    return f"{entry.card.title} ({role})" if role else entry.card.title


def _secs(x: float) -> str:
    return f"{x:.2f} s" if x < 10 else f"{x:.0f} s"


class SegmentPanel(QWidget):
    """Model picker and buttons; the workspace connects ``run_requested`` / ``compare_requested``."""

    run_requested = Signal(object)  # ModelEntry
    compare_requested = Signal(object, object)  # student, teacher
    overlay_mode_changed = Signal(str)  # "result" | "difference" | "side-by-side"

    def __init__(self, registry: ModelRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.modality: str | None = None
        self.preferred_id: str | None = None
        self.model_combo = QComboBox()
        # Model titles are long: the box shrinks with the panel (the open list and the tooltip show them whole).
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(28)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.model_info = QLabel()
        self.model_info.setWordWrap(True)
        self.model_info.setStyleSheet("color: #666;")
        self.run_button = QPushButton("&Segment")
        self.run_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.run_button.setToolTip("Run the chosen model on the open study (Ctrl+Enter; progress and Cancel in the "
                                   "status bar). The study is checked against the model's card first")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.compare_button = QPushButton("Compare &with teacher")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        seg_box = QGroupBox("Segment")
        sl = QVBoxLayout(seg_box)
        sl.addWidget(self.model_combo)
        sl.addWidget(self.model_info)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.compare_button)
        sl.addLayout(row)
        # Short: a check box does not wrap, and a long one widens the panel at the slice views' expense.
        self.second_opinion_check = QCheckBox("QC second opinion (slower)")
        self.second_opinion_check.setToolTip("Segment again with the teacher if one is installed, else with the "
                                             "flipped image where the model allows it, and grade each structure by "
                                             "the agreement of the two")
        sl.addWidget(self.second_opinion_check)
        self.compare_box = QGroupBox("Student vs teacher: agreement between two models (not accuracy)")
        cl = QVBoxLayout(self.compare_box)
        self.compare_label = QLabel("Run a comparison to see agreement and run times.")
        self.compare_label.setWordWrap(True)
        self.dice_table = QTableWidget(0, 2)
        self.dice_table.setHorizontalHeaderLabels(["Structure", "Agreement (Dice)"])
        self.dice_table.setToolTip("Dice between the student's and the teacher's labels: how much two models agree, "
                                   "not how accurate either is")
        self.dice_table.verticalHeader().setVisible(False)
        self.dice_table.horizontalHeader().setStretchLastSection(True)
        self.dice_table.setMaximumHeight(150)
        self.mode_group = QButtonGroup(self)
        modes = QHBoxLayout()
        for i, (key, text) in enumerate((("result", "Result"), ("difference", "Difference"),
                                          ("side-by-side", "Side by side"))):
            b = QRadioButton(text)
            b.setProperty("mode", key)
            b.setChecked(i == 0)
            self.mode_group.addButton(b, i)
            modes.addWidget(b)
        self.mode_group.buttonToggled.connect(self._on_mode_toggled)
        cl.addWidget(self.compare_label)
        cl.addLayout(modes)
        cl.addWidget(self.dice_table)
        self.compare_box.setEnabled(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(seg_box)
        lay.addWidget(self.compare_box)
        self.has_study = False
        self.refresh()

    # -- model to view ----------------------------------------------------------------------------------------

    def entries(self) -> list[ModelEntry]:
        """Installed segmentation models for the study's modality (all when no study is open)."""
        all_ = self.registry.entries("segmentation")
        fit = [e for e in all_ if self.modality is None or self.modality in e.card.modalities]
        return fit or all_

    def refresh(self) -> None:
        """Re-list the models, keeping the current choice when it is still installed."""
        current = self.current_entry()
        keep = current.card.id if current is not None else None
        entries = self.entries()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for i, e in enumerate(entries):
            self.model_combo.addItem(_role_text(e), e)
            self.model_combo.setItemData(i, _role_text(e), Qt.ItemDataRole.ToolTipRole)
        pick = next((e for e in entries if e.card.id == keep), None) or default_model(entries, self.preferred_id,
                                                                                      self.modality)
        if pick is not None:
            self.model_combo.setCurrentIndex(entries.index(pick))
        self.model_combo.blockSignals(False)
        self._on_model_changed()

    def current_entry(self) -> ModelEntry | None:
        """The chosen model."""
        data = self.model_combo.currentData() if self.model_combo.count() else None
        return data if isinstance(data, ModelEntry) else None

    def teacher_for(self, entry: ModelEntry | None) -> ModelEntry | None:
        """The installed teacher of the chosen student, if any."""
        if entry is None or entry.card.role == "teacher":
            return None
        # The same rule as core.imaging.qc.find_teacher, without importing the inference stack at start-up.
        fam = entry.card.family
        if not fam:
            return None
        for e in self.registry.entries("segmentation"):
            if (e.card.family == fam and e.card.role == "teacher" and e.card.id != entry.card.id
                    and set(e.card.modalities) & set(entry.card.modalities)):
                return e
        return None

    def set_study(self, modality: str | None) -> None:
        """A study is open (or none): filter models by modality, enable the buttons."""
        self.modality = modality
        self.has_study = modality is not None
        self.refresh()

    def set_busy(self, busy: bool) -> None:
        """Disable the buttons while a job runs."""
        self.run_button.setEnabled(not busy and self.has_study and self.current_entry() is not None)
        self.compare_button.setEnabled(not busy and self.has_study
                                       and self.teacher_for(self.current_entry()) is not None)

    def _on_model_changed(self, *_args) -> None:
        e = self.current_entry()
        if e is None:
            self.model_info.setText("No segmentation model installed (Tools > Models...).")
        else:
            labels = [lb.name for lb in e.card.outputs.labels if lb.value != 0]
            teacher = self.teacher_for(e)
            # a teacher offered first because its student lost more than 10% of its Dice says so
            weak = [f" · chosen over student {s.card.id}: {dice_ratio_text(s)}"
                    for s in passed_over_students(self.registry, e)]
            self.model_info.setText(
                f"{e.card.id} v{e.card.version} · {len(labels)} structures · {', '.join(e.card.modalities)}"
                + (f" · teacher installed: {teacher.card.id}" if teacher else "") + "".join(weak))
        if self.teacher_for(e):
            tip = ""
        elif e is not None and e.card.role == "teacher":
            tip = "This is a teacher model: choose one of its students to compare the two"
        else:
            tip = "No teacher of this model's family is installed"
        self.compare_button.setToolTip(tip)
        self.set_busy(False)

    def show_comparison(self, run: CompareRun) -> None:
        """Dice per structure and both run times."""
        s, t = run.student, run.teacher
        mean = run.mean_dice
        self.compare_label.setText(
            f"Student {s.entry.card.id}: {_secs(s.seconds)} · Teacher {t.entry.card.id}: {_secs(t.seconds)}"
            f" ({t.seconds / max(s.seconds, 1e-6):.1f}x)\nAgreement between the two models: mean Dice {mean:.3f} "
            "(not accuracy: neither model is the truth)" if mean is not None else
            "No structure found by both models.")
        self.dice_table.setRowCount(0)
        for name, d in sorted(run.dice.items(), key=lambda kv: kv[1]):
            r = self.dice_table.rowCount()
            self.dice_table.insertRow(r)
            self.dice_table.setItem(r, 0, QTableWidgetItem(name))
            item = QTableWidgetItem(f"{d:.3f}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.dice_table.setItem(r, 1, item)
        self.compare_box.setEnabled(True)

    def clear_comparison(self) -> None:
        """Forget the comparison (a new study or result)."""
        self.compare_box.setEnabled(False)
        self.dice_table.setRowCount(0)
        self.compare_label.setText("Run a comparison to see agreement and run times.")
        self.mode_group.button(0).setChecked(True)

    # -- view to model ----------------------------------------------------------------------------------------

    def _on_run_clicked(self) -> None:
        e = self.current_entry()
        if e is not None:
            self.run_requested.emit(e)

    def _on_compare_clicked(self) -> None:
        e = self.current_entry()
        t = self.teacher_for(e)
        if e is not None and t is not None:
            self.compare_requested.emit(e, t)

    def _on_mode_toggled(self, button, checked: bool) -> None:
        if checked:
            self.overlay_mode_changed.emit(str(button.property("mode")))
