"""The series picker: which series of a multi-series DICOM folder to open (no patient data is listed)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget

from medpriv_desktop.core.imaging.dicom import SeriesInfo


class SeriesPickerDialog(QDialog):
    """Choose one series of a DICOM folder (description, modality, image count; no patient data)."""

    def __init__(self, series: list[SeriesInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a series")
        self.series = series
        self.list = QListWidget()
        for s in series:
            num = f"#{s.series_number}  " if s.series_number is not None else ""
            self.list.addItem(f"{num}{s.modality}  {s.n_slices} images  {s.rows}x{s.columns}  "
                              f"{s.description or '(no description)'}")
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("This folder holds several series. Which one should be opened?"))
        lay.addWidget(self.list)
        lay.addWidget(buttons)

    def chosen_uid(self) -> str | None:
        """UID of the selected series."""
        row = self.list.currentRow()
        return self.series[row].uid if 0 <= row < len(self.series) else None
