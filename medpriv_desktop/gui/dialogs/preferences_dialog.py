"""Preferences: a form bound to :class:`Settings`; OK saves them."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QSpinBox,
                               QWidget)

from medpriv_desktop.core.models.site import resolve_site_policy
from medpriv_desktop.core.settings import Settings, default_threads


class PreferencesDialog(QDialog):
    """Edit a copy of the settings; :meth:`result_settings` gives the edited copy."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings.model_copy(deep=True)
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(1, 256)
        self.threads_spin.setValue(settings.inference_threads)
        self.threads_spin.setToolTip(f"Default: cores minus one ({default_threads()})")
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
        form = QFormLayout(self)
        form.addRow("Inference threads", self.threads_spin)
        form.addRow("Site models folder", self.site_edit)
        form.addRow("De-identification output", self.operator_combo)
        form.addRow("", self.flips_check)
        form.addRow("", self.identity_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def result_settings(self) -> Settings:
        """The settings as edited in the form."""
        s = self._settings
        s.inference_threads = self.threads_spin.value()
        if self.site_edit.isEnabled():
            s.site_models_dir = self.site_edit.text().strip() or None
        s.deid_operator = self.operator_combo.currentText()
        s.test_time_flips = self.flips_check.isChecked()
        s.show_patient_identity = self.identity_check.isChecked()
        return s
