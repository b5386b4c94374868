"""Imaging workspace (foundation shell): open a study and page through its axial slices.

The full viewer (three linked views, 3D, segmentation, QC, export) is built on this panel by the imaging-workspace
work; this shell already loads studies as a job, so a large DICOM series never freezes the window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.models.card import Task
from medpriv_desktop.gui.notify import notify_error
from medpriv_desktop.gui.widgets.slice_view import CT_PRESETS, SliceViewWidget
from medpriv_desktop.gui.workspaces.base import WorkspacePanel


def load_study_job(path: Path) -> Job[tuple[object, np.ndarray]]:
    """Read a study and return (volume, array in canonical RAS voxel order)."""
    yield Progress(None, f"reading {path.name}")
    from medpriv_desktop.core.imaging.io import read_volume

    volume = read_volume(path)
    yield Progress(0.9, "orienting")
    import nibabel.orientations as nio

    ornt = nio.io_orientation(volume.affine)
    ras = nio.apply_orientation(np.asarray(volume.array), ornt)
    yield Progress(1.0, "done")
    return volume, ras


class ImagingWorkspace(WorkspacePanel):
    """Open CT/MR studies; segmentation and export arrive with the imaging engine."""

    machine_name = "imaging"
    title = "Imaging"
    model_task = Task.SEGMENTATION
    no_model_text = ("No segmentation model is installed: you can open and view studies, but not segment them. "
                     "Import a model bundle with Models..., or ask IT to place one in the site models folder.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.info_label = QLabel("No study open")
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(list(CT_PRESETS))
        self.preset_combo.currentTextChanged.connect(self._on_preset_changed)
        row.addWidget(self.info_label, 1)
        row.addWidget(QLabel("Window:"))
        row.addWidget(self.preset_combo)
        self.view = SliceViewWidget()
        self.outer.addWidget(bar)
        self.outer.addWidget(self.view, 1)
        self.volume = None

    def open_path(self, path: Path) -> None:
        """Load ``path`` as a job; show it when done."""
        self.runner.start(f"Opening {Path(path).name}", lambda: load_study_job(Path(path)),
                          on_success=lambda res: self._on_study_loaded(Path(path), res),
                          on_error=lambda exc: notify_error(exc, "Opening the study"))

    def _on_study_loaded(self, path: Path, result: tuple[object, np.ndarray]) -> None:
        volume, ras = result
        self.volume = volume
        sx, sy, sz = (float(s) for s in volume.spacing)
        modality = getattr(volume, "modality", "")
        self.info_label.setText(
            f"{path.name}   {modality}   {ras.shape[0]}x{ras.shape[1]}x{ras.shape[2]} voxels   "
            f"{sx:.2f} x {sy:.2f} x {sz:.2f} mm"
        )
        if modality == "MR":
            sample = ras.ravel()[:: max(1, ras.size // 500_000)]
            lo, hi = np.percentile(sample, [1, 99])
            self.view.level, self.view.width = (lo + hi) / 2, max(hi - lo, 1)
        # Spacing in RAS order follows the axis permutation of the reorientation.
        import nibabel.orientations as nio

        ornt = nio.io_orientation(volume.affine)
        sp = [0.0, 0.0, 0.0]
        for src_axis, (dst_axis, _flip) in enumerate(ornt):
            sp[int(dst_axis)] = float(volume.spacing[src_axis])
        self.view.set_volume(ras, (sp[0], sp[1], sp[2]))
        self.file_opened.emit(str(path))

    def _on_preset_changed(self, name: str) -> None:
        level, width = CT_PRESETS[name]
        self.view.set_window(level, width)
