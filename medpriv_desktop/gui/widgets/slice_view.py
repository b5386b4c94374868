"""A single axial slice view of a volume in radiological display (patient's right on the screen's left).

It takes an array already in canonical RAS voxel order (``[x, y, z]``, +x to the patient's right, +y anterior,
+z superior), so it never needs the file's geometry. Mouse wheel or the slider moves through slices; the window/level
comes from a preset.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

#: (level, width) window presets in HU.
CT_PRESETS: dict[str, tuple[float, float]] = {
    "Soft tissue": (40, 400),
    "Lung": (-600, 1500),
    "Bone": (400, 1800),
    "Brain": (40, 80),
}


def to_display(slice_xy: np.ndarray, level: float, width: float) -> np.ndarray:
    """Window an ``[x, y]`` slice into uint8 display rows (anterior at top, patient's right at left)."""
    lo = level - width / 2.0
    img = np.clip((slice_xy.astype(np.float32) - lo) * (255.0 / max(width, 1e-6)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img[::-1, ::-1].T)


class SliceViewWidget(QWidget):
    """Shows one axial slice of a RAS-ordered volume; emits ``slice_changed(k)``."""

    slice_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_label = QLabel("Open a study: File > Open, or drop a file or DICOM folder here.")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumSize(320, 320)
        self.image_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image_label.setStyleSheet("background: #111; color: #bbb;")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.image_label, 1)
        lay.addWidget(self.slider)
        self.array: np.ndarray | None = None
        self.spacing = (1.0, 1.0, 1.0)
        self.level, self.width = CT_PRESETS["Soft tissue"]
        self.index = 0

    def set_volume(self, array_ras: np.ndarray, spacing: tuple[float, float, float]) -> None:
        """Show a new volume, starting at its middle slice."""
        self.array = array_ras
        self.spacing = spacing
        self.slider.blockSignals(True)
        self.slider.setRange(0, array_ras.shape[2] - 1)
        self.slider.setEnabled(True)
        self.index = array_ras.shape[2] // 2
        self.slider.setValue(self.index)
        self.slider.blockSignals(False)
        self.render()

    def set_window(self, level: float, width: float) -> None:
        """Change window/level and redraw."""
        self.level, self.width = level, width
        self.render()

    def _on_slider_value_changed(self, value: int) -> None:
        self.index = value
        self.render()
        self.slice_changed.emit(value)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API name
        if self.array is not None:
            step = 1 if event.angleDelta().y() > 0 else -1
            self.slider.setValue(int(np.clip(self.index + step, 0, self.array.shape[2] - 1)))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API name
        super().resizeEvent(event)
        self.render()

    def render(self) -> None:
        """Draw the current slice scaled to the widget with the voxel aspect ratio kept."""
        if self.array is None:
            return
        img = to_display(self.array[:, :, self.index], self.level, self.width)
        h, w = img.shape
        qimg = QImage(img.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
        pix = QPixmap.fromImage(qimg)
        # Keep the physical aspect ratio: columns are x (spacing[0]), rows are y (spacing[1]).
        w_mm, h_mm = w * self.spacing[0], h * self.spacing[1]
        scale = min(self.image_label.width() / w_mm, self.image_label.height() / h_mm)
        self.image_label.setPixmap(
            pix.scaled(max(1, int(w_mm * scale)), max(1, int(h_mm * scale)), Qt.AspectRatioMode.IgnoreAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
        )
