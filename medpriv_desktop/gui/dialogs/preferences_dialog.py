"""Preferences: a form bound to :class:`Settings`; OK saves them."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QSpinBox,
                               QWidget)

from medpriv_desktop.core.models.site import resolve_site_policy
from medpriv_desktop.core.settings import Settings, default_threads
from medpriv_desktop.core.app.output_paths import user_output_dir


class PreferencesDialog(QDialog):
    """Edit a copy of the settings; :meth:`result_settings` gives the edited copy."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings.model_copy(deep=True)
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, 256)
        self.threads_spin.setSpecialValueText("Automatic")  # 0: automatic
        self.threads_spin.setValue(settings.inference_threads or 0)
        self.threads_spin.setToolTip(f"Automatic: cores minus one in this window ({default_threads()}), every core "
                                     "for the medpriv commands")
        self.site_edit = QLineEdit(settings.site_models_dir or "")
        self.site_edit.setPlaceholderText("platform default (set by IT)")
        policy = resolve_site_policy()
        if policy.managed:  # IT's machine-wide config decides; a value typed here would be ignored anyway
            self.site_edit.setEnabled(False)
            self.site_edit.setText("")
            self.site_edit.setPlaceholderText(str(policy.site_dir or "none"))
            self.site_edit.setToolTip(f"Set by IT in {policy.config_path}")
        self.operator_combo = QComboBox()
        self.operator_combo.addItems(["tag", "mask", "surrogate"])
        self.operator_combo.setCurrentText(settings.deid_operator)
        self.flips_check = QCheckBox("Test-time flip averaging (8x slower)")
        self.flips_check.setChecked(settings.test_time_flips)
        self.identity_check = QCheckBox("Show patient name and ID from DICOM headers")
        self.identity_check.setChecked(settings.show_patient_identity)
        self.output_edit = QLineEdit(settings.output_dir or "")
        self.output_edit.setPlaceholderText(str(user_output_dir(settings)) if not settings.output_dir
                                            else settings.output_dir)
        self.output_edit.setToolTip("Where the window proposes every output (never the input's own folder)")
        self.palette_combo = QComboBox()
        self.palette_combo.addItem("Model card colours", "card")
        self.palette_combo.addItem("Colour-blind safe (Okabe-Ito, Tol)", "colour-blind")
        self.palette_combo.setCurrentIndex(max(0, self.palette_combo.findData(settings.label_palette)))
        self.comma_check = QCheckBox("Report CSVs with ; and decimal commas (spreadsheet locale)")
        self.comma_check.setChecked(settings.csv_decimal_comma)
        self.report_model_edit = QLineEdit(settings.default_report_model or "")
        self.report_model_edit.setPlaceholderText("chosen by the report's words")
        self.report_model_edit.setToolTip("Model id used when a report's words do not say chest X-ray or chest CT")
        form = QFormLayout(self)
        form.addRow("Inference threads", self.threads_spin)
        form.addRow("Site models folder", self.site_edit)
        form.addRow("De-identification output", self.operator_combo)
        form.addRow("", self.flips_check)
        form.addRow("", self.identity_check)
        form.addRow("Output folder", self.output_edit)
        form.addRow("Label colours", self.palette_combo)
        form.addRow("", self.comma_check)
        form.addRow("Default report model", self.report_model_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def result_settings(self) -> Settings:
        """The settings as edited in the form."""
        s = self._settings
        s.inference_threads = self.threads_spin.value() or None
        if self.site_edit.isEnabled():
            s.site_models_dir = self.site_edit.text().strip() or None
        s.deid_operator = self.operator_combo.currentText()
        s.test_time_flips = self.flips_check.isChecked()
        s.show_patient_identity = self.identity_check.isChecked()
        s.output_dir = self.output_edit.text().strip() or None
        s.label_palette = self.palette_combo.currentData()
        s.csv_decimal_comma = self.comma_check.isChecked()
        s.default_report_model = self.report_model_edit.text().strip() or None
        return s
