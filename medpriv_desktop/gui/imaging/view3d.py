"""The 3D view: VTK inside Qt (``QVTKRenderWindowInteractor``) showing :class:`SceneView`, bound to the state.

Surfaces are meshed as the export meshes them (``render.meshes.structure_mesh``, the same smoothing) from the label
map at full resolution; only a structure whose bounding box exceeds :data:`MESH_VOXELS` is strided, just enough to
fit. One structure is meshed per event-loop turn, so the window never freezes while a result with many structures is
meshed. The body is not meshed or shown until the user asks for it (its surface would hide every organ). Under Qt's
offscreen platform no OpenGL window can exist: the widget then keeps the VTK pipeline (actors, visibility, opacity,
which tests check) and shows a note instead of a render window.

Start-up: nothing of VTK is loaded or created until it is needed. The scene (VTK's rendering modules, ~0.3 s to
import) is built on first use, and the render window (an OpenGL context, ~0.2 s more) when the first study arrives;
until then the 3D pane shows a short note. This keeps the window's first appearance within the 2 s start-up goal.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from medpriv_desktop.core.imaging.volume import LabelMap
from medpriv_desktop.core.app.imaging_state import ImagingState
from medpriv_desktop.render.volume_view import NO_VOLUME, VOLUME_PRESETS, SceneView, capture_png, strided

#: The export's smoothing (``export_meshes`` default), so the view shows the surfaces a user exports.
EXPORT_SMOOTHING = 16

log = logging.getLogger(__name__)
HEADLESS_PLATFORMS = ("offscreen", "minimal")
#: Voxels of a structure's bounding box meshed at full resolution in one event-loop turn (about 0.1 s here).
MESH_VOXELS = 160**3


def mesh_step(mask_bbox_voxels: int) -> int:
    """The smallest stride that brings a bounding box of ``mask_bbox_voxels`` within :data:`MESH_VOXELS`."""
    step = 1
    while mask_bbox_voxels / step**3 > MESH_VOXELS:
        step += 1
    return step


class View3DWidget(QWidget):
    """Volume rendering and segmentation surfaces; rotate (left drag), zoom (wheel / right drag), reset."""

    def __init__(self, state: ImagingState, max_voxels: int = 256**3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.max_voxels = max_voxels
        self._scene: SceneView | None = None
        self.surface_opacity = 1.0
        self.structure_opacity: dict[int, float] = {}  # per-structure factor on top of the slider
        self.interactor = None
        self.preset_combo = QComboBox()
        self.preset_combo.addItems([NO_VOLUME, *VOLUME_PRESETS])
        self.preset_combo.setToolTip("Volume rendering preset")
        self.preset_combo.currentTextChanged.connect(self._on_preset_combo_changed)
        self.surfaces_check = QCheckBox("Surfaces")
        self.surfaces_check.setChecked(True)
        self.surfaces_check.toggled.connect(self._on_surfaces_toggled)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(100)
        self.opacity_slider.setMaximumWidth(90)
        self.opacity_slider.setToolTip("Surface opacity")
        self.opacity_slider.valueChanged.connect(self._on_opacity_changed)
        self.reset_button = QPushButton("Reset view")
        self.reset_button.clicked.connect(self.reset_camera)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QLabel("3D"))
        bar.addWidget(self.preset_combo)
        bar.addWidget(self.surfaces_check)
        bar.addWidget(QLabel("Opacity"))
        bar.addWidget(self.opacity_slider)
        bar.addStretch(1)
        bar.addWidget(self.reset_button)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._layout.addLayout(bar)
        headless = QGuiApplication.platformName() in HEADLESS_PLATFORMS
        self._note = QLabel("3D view: no OpenGL display on this platform" if headless
                            else "The 3D view appears when a study is open")
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._note.setStyleSheet("background: #101216; color: #889;")
        self._layout.addWidget(self._note, 1)
        self._headless = headless
        self._software_gl: bool | None = None
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self.render_now)
        self._pending: list[int] = []
        self._labels_small: LabelMap | None = None  # the full-resolution RAS label map (name kept for callers)
        self._strided: dict[int, LabelMap] = {}
        self._mesh_timer = QTimer(self)
        self._mesh_timer.setInterval(0)
        self._mesh_timer.timeout.connect(self._on_mesh_timer_timeout)
        state.study_changed.connect(self._on_state_study_changed)
        state.labels_changed.connect(self._on_state_labels_changed)
        state.labels_edited.connect(self._on_state_labels_edited)
        state.overlay_changed.connect(self._on_state_overlay_changed)

    @property
    def scene(self) -> SceneView:
        """The VTK scene, built on first use (so start-up loads no VTK)."""
        if self._scene is None:
            self._scene = SceneView()
            self._scene.surfaces_shown = self.surfaces_check.isChecked()
        return self._scene

    def ensure_render_window(self) -> None:
        """Create the VTK render window inside the widget (once; never on a platform without OpenGL)."""
        if self.interactor is not None or self._headless:
            return
        # The scene first: it imports VTK's OpenGL back end, which must be registered before the Qt widget asks
        # VTK's object factory for a render window (otherwise it gets the abstract one and crashes on first use).
        renderer = self.scene.renderer
        from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
        from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera

        self.interactor = QVTKRenderWindowInteractor(self)
        self.interactor.GetRenderWindow().AddRenderer(renderer)
        self.interactor.SetInteractorStyle(vtkInteractorStyleTrackballCamera())
        # While the mouse drags, VTK's volume mapper lowers its sampling to keep ~10 frames a second.
        self.interactor.SetDesiredUpdateRate(10.0)
        self.interactor.SetStillUpdateRate(0.5)
        self._layout.replaceWidget(self._note, self.interactor)
        self._note.hide()
        self._note.deleteLater()
        self.interactor.show()
        self.interactor.Initialize()

    # -- model to view ----------------------------------------------------------------------------------------

    def _on_state_study_changed(self) -> None:
        v = self.state.volume_ras
        if v is None:
            return
        self.ensure_render_window()
        # Software OpenGL (Mesa llvmpipe) takes a large fraction of a second per volume-rendered frame on a laptop
        # CPU: there the view starts with surfaces only and volume rendering is one click away in the preset list.
        preset = NO_VOLUME if self.software_gl() else None
        self.scene.set_image(v.array, v.spacing, v.origin, v.direction, v.modality, self.max_voxels, preset)
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentText(self.scene.preset)
        self.preset_combo.blockSignals(False)
        self.render()

    def _set_labels(self) -> LabelMap | None:
        lm = self.state.labelmap(ras=True)
        self._labels_small, self._strided = lm, {}
        return lm

    def _on_state_labels_changed(self) -> None:
        self.scene.clear_surfaces()
        self._pending = []
        lm = self._set_labels()
        if lm is not None and self.state.volume_ras is not None:
            present = set(lm.present_values())
            self._pending = [v for v in self.state.names if v in present and self.state.shown_in_3d(v)]
            self._mesh_timer.start()
        self.render()

    def _on_state_labels_edited(self, values: set[int]) -> None:
        if self._set_labels() is None:
            return
        for v in values or set(self.state.names):
            if v not in self._pending and (v in self.scene.surfaces or self.state.shown_in_3d(v)):
                self._pending.append(v)
        self._mesh_timer.start()

    def _on_state_overlay_changed(self) -> None:
        if self._scene is None:
            return
        for v in list(self.scene.surfaces):
            self.scene.set_surface_visible(v, self.state.shown_in_3d(v) and self.surfaces_check.isChecked())
            rgb = self.state.colors.get(v)
            if rgb is not None:  # the palette may have changed
                self.scene.surfaces[v].GetProperty().SetColor(*(c / 255.0 for c in rgb))
        # A structure shown in 3D for the first time (the body, on request) is meshed now.
        if self._labels_small is not None:
            present = set(self._labels_small.present_values())
            wanted = [v for v in self.state.names if v in present and v not in self.scene.surfaces
                      and self.state.shown_in_3d(v) and v not in self._pending]
            if wanted:
                self._pending += wanted
                self._mesh_timer.start()
        self.render()

    def mesh_source(self, value: int) -> LabelMap:
        """The label map one structure is meshed from: full resolution, or strided when its box is too large."""
        lm = self._labels_small
        assert lm is not None
        mask = lm.array == value
        axes = [np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != k))) for k in range(3)]
        if any(len(a) == 0 for a in axes):
            return lm
        step = mesh_step(int(np.prod([a[-1] - a[0] + 1 for a in axes])))
        if step == 1:
            return lm
        if step not in self._strided:
            self._strided[step] = LabelMap(strided(lm.array, step), tuple(np.asarray(lm.spacing) * step), lm.origin,
                                           lm.direction.copy(), lm.modality, {}, dict(lm.labels), dict(lm.colors))
        return self._strided[step]

    def build_pending_surfaces(self) -> None:
        """Mesh every waiting structure now (tests and screenshots)."""
        while self._pending:
            self._on_mesh_timer_timeout()

    def _on_mesh_timer_timeout(self) -> None:
        from medpriv_desktop.render.meshes import structure_mesh

        if not self._pending or self._labels_small is None:
            self._mesh_timer.stop()
            return
        v = self._pending.pop(0)
        poly = structure_mesh(self.mesh_source(v), v, smoothing_iterations=EXPORT_SMOOTHING)
        if poly is None or poly.GetNumberOfPolys() == 0:
            self.scene.remove_surface(v)
        else:
            self.scene.add_surface(v, poly, self.state.colors.get(v), self._opacity_of(v),
                                   self.state.shown_in_3d(v) and self.surfaces_check.isChecked())
        if not self._pending:
            self._mesh_timer.stop()
            self.render()

    # -- view to model ----------------------------------------------------------------------------------------

    def _on_preset_combo_changed(self, name: str) -> None:
        if self._scene is None:
            return  # no study yet: the preset is chosen when one opens
        self.scene.set_preset(name)
        self.render()

    def _on_surfaces_toggled(self, shown: bool) -> None:
        if self._scene is not None:
            self._scene.surfaces_shown = shown
        self._on_state_overlay_changed()

    def _opacity_of(self, value: int) -> float:
        return self.surface_opacity * self.structure_opacity.get(value, 1.0)

    def _on_opacity_changed(self, value: int) -> None:
        self.surface_opacity = value / 100.0
        if self._scene is None:
            return
        for v in self.scene.surfaces:
            self.scene.set_surface_opacity(v, self._opacity_of(v))
        self.render()

    def set_structure_opacity(self, value: int, opacity: float) -> None:
        """Opacity of one structure's surface (multiplied by the view's opacity slider)."""
        self.structure_opacity[value] = float(opacity)
        if self._scene is None:
            return
        self.scene.set_surface_opacity(value, self._opacity_of(value))
        self.render()

    def reset_camera(self) -> None:
        """Back to the anterior view with everything in sight."""
        if self._scene is None:
            return
        self.scene.reset_camera()
        self.render()

    def software_gl(self) -> bool:
        """True when the render window runs on a software OpenGL (llvmpipe, softpipe, SwiftShader)."""
        if self.interactor is None:
            return True
        if self._software_gl is None:
            rw = self.interactor.GetRenderWindow()
            if not self.isVisible():
                return True  # no context yet: assume the cautious case, decide again once shown
            rw.Render()
            caps = rw.ReportCapabilities().lower()
            self._software_gl = any(k in caps for k in ("llvmpipe", "softpipe", "swiftshader", "software rasterizer"))
        return self._software_gl

    def render(self) -> None:
        """Ask for a redraw; several requests in one event-loop turn give one frame."""
        if self.interactor is not None and self.isVisible():
            self._render_timer.start()

    def render_now(self) -> None:
        """Redraw at once (screenshots)."""
        if self.interactor is not None and self.isVisible():
            self.interactor.GetRenderWindow().Render()

    def save_screenshot(self, path: Path) -> Path | None:
        """Write the 3D view to a PNG; None when there is no render window (offscreen platform)."""
        if self.interactor is None:
            return None
        return capture_png(self.interactor.GetRenderWindow(), path)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API name
        if self.interactor is not None:
            self.interactor.Finalize()
        super().closeEvent(event)
