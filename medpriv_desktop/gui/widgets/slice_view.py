"""One slice view (axial, coronal or sagittal) bound to an :class:`ImagingState`.

Radiological display (see :mod:`medpriv_desktop.core.imaging.display`), crosshair linked to the other views, wheel to
scroll slices (Ctrl+wheel zooms), middle drag pans, right drag changes window/level, double-click resets the zoom.
The left button depends on the tool: navigate (move the crosshair), paint, erase, or ruler. Orientation letters sit
at the edges; slice number and window in the corners; a legend lists the structures in the slice.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QSlider, QVBoxLayout, QWidget

from medpriv_desktop.core.app.imaging_state import ImagingState
from medpriv_desktop.core.imaging.display import (CT_PRESETS, DIFF_NAMES, EDGE_LABELS, VIEW_AXIS, compose,
                                                  display_to_voxel, outline_only, overlay_lut, pixel_mm, slice_2d,
                                                  voxel_to_display, window_to_uint8)
from medpriv_desktop.core.imaging.editing import distance_mm

__all__ = ["SliceViewWidget", "SliceCanvas", "CT_PRESETS", "to_display"]

_VIEW_COLOURS = {"axial": QColor(230, 80, 80), "coronal": QColor(90, 200, 90), "sagittal": QColor(235, 200, 60)}
TOOLS = ("navigate", "paint", "erase", "ruler")


def to_display(slice_xy: np.ndarray, level: float, width: float) -> np.ndarray:
    """Window an axial ``[x, y]`` slice into uint8 display rows (anterior at top, patient's right at left)."""
    return np.ascontiguousarray(window_to_uint8(slice_xy, level, width)[::-1, ::-1].T)


def _shadow_text(p: QPainter, x: int, y: int, text: str, colour: QColor) -> None:
    """Text with a dark outline, readable over bright bone as well as over black air."""
    p.setPen(QColor(0, 0, 0, 200))
    for dx, dy in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
        p.drawText(x + dx, y + dy, text)
    p.setPen(colour)
    p.drawText(x, y, text)


class SliceCanvas(QWidget):
    """The drawing surface of a slice view; :meth:`pixmap` gives the last composed slice (for tests and export)."""

    def __init__(self, view: SliceViewWidget) -> None:
        super().__init__(view)
        self.view = view
        self.setMouseTracking(True)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Tab reaches the views too: Up/Down and Page Up/Down step through slices without a mouse.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pixmap: QPixmap | None = None

    def pixmap(self) -> QPixmap | None:
        """The composed slice at voxel resolution (no zoom, no annotations)."""
        return self._pixmap

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API name
        self.view.paint(self)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        self.view.on_wheel(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.view.on_press(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.view.on_move(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.view.on_release(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.view.reset_zoom()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        step = {Qt.Key.Key_Up: 1, Qt.Key.Key_PageUp: 5, Qt.Key.Key_Down: -1, Qt.Key.Key_PageDown: -5}.get(event.key())
        if step is None:
            super().keyPressEvent(event)
        else:
            self.view.step_slice(step)


class SliceViewWidget(QWidget):
    """A slice view bound to ``state``; ``source`` "compare" shows the comparison result instead of the labels."""

    hovered = Signal(str)
    stroke_finished = Signal()
    measured = Signal(float)

    def __init__(self, state: ImagingState | None = None, orientation: str = "axial", source: str = "labels",
                 title: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state or ImagingState()
        self.orientation = orientation
        self.axis = VIEW_AXIS[orientation]
        self.source = source
        self.title = title or orientation.capitalize()
        self.image_label = SliceCanvas(self)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.image_label, 1)
        lay.addWidget(self.slider)
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.tool = "navigate"
        self.show_crosshair = True
        self.brush_radius_mm = 5.0
        self.paint_value = 1
        self.measurements: list[tuple[int, tuple[float, float], tuple[float, float]]] = []
        self._drag: tuple[str, QPointF, tuple[float, float]] | None = None
        self._ruler_start: tuple[float, float] | None = None
        self._ruler_end: tuple[float, float] | None = None
        self._image: QImage | None = None
        self._legend: list[tuple[str, tuple[int, int, int]]] = []
        s = self.state
        s.study_changed.connect(self._on_state_study_changed)
        for sig in (s.labels_changed, s.labels_edited, s.window_changed, s.overlay_changed):
            sig.connect(self.refresh)
        s.cursor_changed.connect(self._on_state_cursor_changed)

    # -- model to view ----------------------------------------------------------------------------------------

    @property
    def array(self) -> np.ndarray | None:
        """The RAS-ordered study shown (None before a study is open)."""
        return self.state.image

    @property
    def index(self) -> int:
        """The slice shown (the crosshair's coordinate across this view)."""
        return int(self.state.cursor[self.axis])

    def set_volume(self, array_ras: np.ndarray, spacing: tuple[float, float, float]) -> None:
        """Show a bare RAS array (a stand-alone view without a study file)."""
        from medpriv_desktop.core.imaging.volume import Volume

        self.state.set_study(Volume(array_ras, spacing, modality="CT"))

    def set_window(self, level: float, width: float) -> None:
        """Change the window of the bound state."""
        self.state.set_window(level, width)

    def _on_state_study_changed(self) -> None:
        self.zoom, self.pan = 1.0, QPointF(0, 0)
        self.measurements.clear()
        self._sync_slider()
        self.refresh()

    def _on_state_cursor_changed(self) -> None:
        self._sync_slider()
        self.refresh()

    def _sync_slider(self) -> None:
        arr = self.array
        self.slider.blockSignals(True)
        if arr is None:
            self.slider.setEnabled(False)
        else:
            self.slider.setEnabled(True)
            self.slider.setRange(0, arr.shape[self.axis] - 1)
            self.slider.setValue(self.index)
        self.slider.blockSignals(False)

    def _on_slider_value_changed(self, value: int) -> None:
        c = list(self.state.cursor)
        c[self.axis] = value
        self.state.set_cursor(c)

    def composed(self) -> np.ndarray | None:
        """The current slice as RGB uint8 (rows, cols, 3): windowed grey plus the overlay."""
        arr = self.array
        if arr is None:
            return None
        gray = window_to_uint8(slice_2d(arr, self.axis, self.index), self.state.level, self.state.width)
        labels, colors, visible = self.state.overlay(self.source)
        self._legend = []
        if labels is None:
            return compose(gray, None, None, None)
        lab2d = slice_2d(labels, self.axis, self.index)
        outlined = self.state.outline if labels is not self.state.diff_labels else set()
        if outlined:
            lab2d = outline_only(lab2d, outlined)  # the body: its edge, so it tints nothing inside
        n = int(max(max(colors, default=0), int(lab2d.max()) if lab2d.size else 0)) + 1
        rgb, alpha = overlay_lut(colors, visible, self.state.opacity, n)
        for v in outlined:
            if v < n and alpha[v] > 0:
                alpha[v] = max(0.85, float(alpha[v]))  # a one-pixel line needs more than the fill's opacity
        present = [int(v) for v in np.unique(lab2d) if v and alpha[int(v)] > 0]
        names = DIFF_NAMES if labels is self.state.diff_labels else self.state.names
        self._legend = [(names.get(v, f"label {v}"), tuple(int(c) for c in rgb[v])) for v in present]
        return compose(gray, lab2d, rgb, alpha)

    def refresh(self, *_args) -> None:
        """Recompose the slice and repaint."""
        rgb = self.composed()
        if rgb is None:
            self._image = None
            self.image_label._pixmap = None
        else:
            h, w, _ = rgb.shape
            self._image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            self.image_label._pixmap = QPixmap.fromImage(self._image)
        self.image_label.update()

    # -- geometry ---------------------------------------------------------------------------------------------

    def image_rect(self) -> QRectF:
        """Where the slice image lies on the canvas (physical aspect ratio, zoom and pan applied)."""
        if self._image is None:
            return QRectF()
        pw, ph = pixel_mm(self.axis, self.state.spacing)
        w_mm, h_mm = self._image.width() * pw, self._image.height() * ph
        cw, ch = self.image_label.width(), self.image_label.height()
        scale = min(cw / w_mm, ch / h_mm) * self.zoom
        w, h = w_mm * scale, h_mm * scale
        return QRectF((cw - w) / 2 + self.pan.x(), (ch - h) / 2 + self.pan.y(), w, h)

    def canvas_to_pixel(self, pos: QPointF) -> tuple[float, float]:
        """Canvas position to display pixel coordinates (col, row) of the slice image."""
        r = self.image_rect()
        assert self._image is not None
        return ((pos.x() - r.left()) * self._image.width() / r.width(),
                (pos.y() - r.top()) * self._image.height() / r.height())

    def pixel_to_canvas(self, col: float, row: float) -> QPointF:
        """Display pixel coordinates to a canvas position."""
        r = self.image_rect()
        assert self._image is not None
        return QPointF(r.left() + col * r.width() / self._image.width(),
                       r.top() + row * r.height() / self._image.height())

    def voxel_at(self, pos: QPointF) -> tuple[int, int, int] | None:
        """Voxel under a canvas position, or None outside the image."""
        if self._image is None or self.array is None:
            return None
        col, row = self.canvas_to_pixel(pos)
        if not (0 <= col < self._image.width() and 0 <= row < self._image.height()):
            return None
        return display_to_voxel(self.axis, self.index, col, row, self.array.shape)

    def reset_zoom(self) -> None:
        """Fit the slice to the view again."""
        self.zoom, self.pan = 1.0, QPointF(0, 0)
        self.image_label.update()

    # -- interaction ------------------------------------------------------------------------------------------

    def set_tool(self, tool: str) -> None:
        """navigate, paint, erase or ruler."""
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        cursor = Qt.CursorShape.CrossCursor if tool != "navigate" else Qt.CursorShape.ArrowCursor
        self.image_label.setCursor(cursor)

    def step_slice(self, step: int) -> None:
        """Move ``step`` slices through this view (the crosshair follows)."""
        if self.array is None:
            return
        c = list(self.state.cursor)
        c[self.axis] = c[self.axis] + step
        self.state.set_cursor(c)

    def on_wheel(self, event: QWheelEvent) -> None:
        """Scroll slices; with Ctrl, zoom."""
        if self.array is None:
            return
        step = 1 if event.angleDelta().y() > 0 else -1
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom = float(np.clip(self.zoom * (1.15 if step > 0 else 1 / 1.15), 0.5, 20.0))
            self.image_label.update()
            return
        self.step_slice(step)

    def on_press(self, event: QMouseEvent) -> None:
        """Start a drag: pan (middle), window/level (right) or the tool's action (left)."""
        if self.array is None:
            return
        pos = event.position()
        btn = event.button()
        if btn == Qt.MouseButton.MiddleButton:
            self._drag = ("pan", pos, (self.pan.x(), self.pan.y()))
        elif btn == Qt.MouseButton.RightButton:
            self._drag = ("window", pos, (self.state.level, self.state.width))
        elif btn == Qt.MouseButton.LeftButton:
            self._drag = (self.tool, pos, (0.0, 0.0))
            if self.tool == "navigate":
                self._navigate(pos)
            elif self.tool in ("paint", "erase"):
                if self.state.labels is not None:
                    self.state.begin_stroke(self.axis, self.index)
                    self._dab(pos)
                else:
                    self._drag = None
            elif self.tool == "ruler":
                self._ruler_start = self._ruler_end = self.canvas_to_pixel(pos)

    def on_move(self, event: QMouseEvent) -> None:
        """Continue a drag and report what is under the mouse."""
        pos = event.position()
        self._report_hover(pos)
        if self._drag is None:
            return
        kind, start, ref = self._drag
        d = pos - start
        if kind == "pan":
            self.pan = QPointF(ref[0] + d.x(), ref[1] + d.y())
            self.image_label.update()
        elif kind == "window":
            width = max(1.0, ref[1] * math.exp(d.x() / 200.0))
            self.state.set_window(ref[0] - d.y() * ref[1] / 256.0, width)
        elif kind == "navigate":
            self._navigate(pos)
        elif kind in ("paint", "erase"):
            self._dab(pos)
        elif kind == "ruler":
            self._ruler_end = self.canvas_to_pixel(pos)
            self.image_label.update()

    def on_release(self, event: QMouseEvent) -> None:
        """Finish a drag: close a brush stroke or store a measurement."""
        if self._drag is None:
            return
        kind = self._drag[0]
        self._drag = None
        if kind in ("paint", "erase") and self.state.labels is not None:
            if self.state.end_stroke():
                self.stroke_finished.emit()
        elif kind == "ruler" and self._ruler_start is not None and self._ruler_end is not None:
            a, b = self._ruler_start, self._ruler_end
            self._ruler_start = self._ruler_end = None
            length = distance_mm(a, b, pixel_mm(self.axis, self.state.spacing))
            if length > 0:
                self.measurements.append((self.index, a, b))
                self.measured.emit(length)
            self.image_label.update()

    def _navigate(self, pos: QPointF) -> None:
        v = self.voxel_at(pos)
        if v is not None:
            self.state.set_cursor(v)

    def _dab(self, pos: QPointF) -> None:
        v = self.voxel_at(pos)
        if v is None or self.state.labels is None:
            return
        self.state.paint(self.axis, v, self.brush_radius_mm, self.paint_value if self.tool == "paint" else 0)

    def _report_hover(self, pos: QPointF) -> None:
        v = self.voxel_at(pos)
        if v is None:
            return
        arr = self.array
        assert arr is not None
        x, y, z = self.state.world_at(v)
        unit = " HU" if self.state.volume is not None and self.state.volume.modality == "CT" else ""
        text = (f"{self.title}  voxel ({v[0]}, {v[1]}, {v[2]})  RAS ({x:.1f}, {y:.1f}, {z:.1f}) mm  "
                f"value {float(arr[v]):g}{unit}")
        if self.state.labels is not None:
            lv = int(self.state.labels[v])
            if lv:
                text += f"  structure: {self.state.names.get(lv, lv)}"
        self.hovered.emit(text)

    # -- painting ---------------------------------------------------------------------------------------------

    def paint(self, canvas: SliceCanvas) -> None:
        """Draw the slice, crosshair, orientation letters, corner text, legend and measurements."""
        p = QPainter(canvas)
        p.fillRect(canvas.rect(), QColor(8, 8, 10))
        if self._image is None:
            p.setPen(QColor(170, 170, 170))
            p.drawText(canvas.rect().adjusted(12, 0, -12, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "Open a study: File > Open, or drop a file or DICOM folder here.")
            p.end()
            return
        rect = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 3)
        p.drawImage(rect, self._image)
        if self.show_crosshair:
            self._paint_crosshair(p)
        self._paint_measurements(p)
        self._paint_text(p, canvas)
        p.end()

    def _paint_crosshair(self, p: QPainter) -> None:
        arr = self.array
        assert arr is not None
        col, row = voxel_to_display(self.axis, tuple(self.state.cursor), arr.shape)
        c = self.pixel_to_canvas(col, row)
        rect = self.image_rect()
        gap = 10.0  # leave the voxel under the crosshair visible
        for other, colour in _VIEW_COLOURS.items():
            if VIEW_AXIS[other] == self.axis:
                continue
            pen = QPen(colour, 1)
            pen.setColor(QColor(colour.red(), colour.green(), colour.blue(), 170))
            p.setPen(pen)
            from medpriv_desktop.core.imaging.display import in_plane_axes

            ca, _ra = in_plane_axes(self.axis)
            if VIEW_AXIS[other] == ca:  # that view's plane is a vertical line here
                p.drawLine(QPointF(c.x(), rect.top()), QPointF(c.x(), c.y() - gap))
                p.drawLine(QPointF(c.x(), c.y() + gap), QPointF(c.x(), rect.bottom()))
            else:
                p.drawLine(QPointF(rect.left(), c.y()), QPointF(c.x() - gap, c.y()))
                p.drawLine(QPointF(c.x() + gap, c.y()), QPointF(rect.right(), c.y()))

    def _paint_measurements(self, p: QPainter) -> None:
        lines = [(a, b) for k, a, b in self.measurements if k == self.index]
        if self._ruler_start is not None and self._ruler_end is not None:
            lines.append((self._ruler_start, self._ruler_end))
        pm = pixel_mm(self.axis, self.state.spacing)
        p.setPen(QPen(QColor(255, 230, 0), 1.5))
        for a, b in lines:
            pa, pb = self.pixel_to_canvas(*a), self.pixel_to_canvas(*b)
            p.drawLine(pa, pb)
            p.drawText(pb + QPointF(6, -6), f"{distance_mm(a, b, pm):.1f} mm")

    def _paint_text(self, p: QPainter, canvas: SliceCanvas) -> None:
        w, h = canvas.width(), canvas.height()
        font = QFont(p.font())
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        p.setFont(font)
        colour = _VIEW_COLOURS[self.orientation]
        n = self.array.shape[self.axis] if self.array is not None else 0
        where = ""
        if self.state.volume_ras is not None:
            # Slice position along the view's normal in patient mm (RAS+: R/A/S positive, L/P/I negative).
            mm = float(self.state.world_at(tuple(self.state.cursor))[self.axis])
            pos, neg = ("R", "L") if self.axis == 0 else (("A", "P") if self.axis == 1 else ("S", "I"))
            where = f"   {pos if mm >= 0 else neg} {abs(mm):.1f} mm"
        _shadow_text(p, 8, 16, f"{self.title}   {self.index + 1} / {n}{where}", colour)
        _shadow_text(p, 8, h - 8, f"W {self.state.width:.0f}  L {self.state.level:.0f}"
                     + (f"   zoom {self.zoom:.1f}x" if abs(self.zoom - 1) > 1e-3 else ""), QColor(220, 220, 220))
        left, right, top, bottom = EDGE_LABELS[self.orientation]
        bold = QFont(font)
        bold.setBold(True)
        p.setFont(bold)
        letters = QColor(240, 240, 160)
        _shadow_text(p, 6, h // 2 + 5, left, letters)
        _shadow_text(p, w - 16, h // 2 + 5, right, letters)
        _shadow_text(p, w // 2 - 4, 32, top, letters)
        _shadow_text(p, w // 2 - 4, h - 24, bottom, letters)
        p.setFont(font)
        y = 16
        # A short legend: the structures in this slice, at most eight (the table lists them all).
        shown = self._legend[:8]
        if len(self._legend) > 8:
            shown = self._legend[:7] + [(f"+{len(self._legend) - 7} more", (90, 90, 90))]
        # Right of the top orientation letter in a narrow view, so the legend never covers it; names are elided to
        # the room left before the right edge.
        x0 = max(w - 170, w // 2 + 12)
        metrics = QFontMetrics(font)
        for name, rgb in shown:
            p.fillRect(x0, y - 10, 10, 10, QColor(*rgb))
            text = metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(w - x0 - 22, 20))
            _shadow_text(p, x0 + 16, y, text, QColor(230, 230, 230))
            y += 14
