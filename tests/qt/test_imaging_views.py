"""Slice views bound to the imaging state: orientation, crosshair, scroll, window/level, overlays, brushes, ruler."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from medpriv_desktop.core.app.imaging_state import ImagingState
from medpriv_desktop.core.imaging import display as d
from medpriv_desktop.core.imaging.volume import LabelMap, Volume
from medpriv_desktop.gui.widgets.slice_view import SliceViewWidget


def _study(shape=(20, 16, 12), spacing=(1.0, 1.5, 2.0)) -> Volume:
    arr = np.zeros(shape, np.int16) - 1000
    arr[5:15, 4:12, 3:9] = 40
    # LPS-ordered file on disk: the state must show it in RAS order whatever the file's axis order.
    vol = Volume(arr, spacing, (0, 0, 0), np.eye(3), "CT")
    return vol.reoriented("LPS")


def _shown_view(qtbot, st: ImagingState, orientation: str = "axial", size: int = 300) -> SliceViewWidget:
    """A slice view of ``st``, shown at ``size`` x ``size`` pixels."""
    v = SliceViewWidget(st, orientation)
    qtbot.addWidget(v)
    v.resize(size, size)
    v.show()
    return v


def test_slice_view_binds_both_ways(qtbot):
    st = ImagingState()
    views = {o: _shown_view(qtbot, st, o) for o in ("axial", "coronal", "sagittal")}
    st.set_study(_study())
    ax = views["axial"]
    assert ax.array is st.image
    pix = ax.image_label.pixmap()
    assert pix is not None and (pix.width(), pix.height()) == (20, 16)  # columns x, rows y
    assert views["sagittal"].image_label.pixmap().width() == 16
    # Model -> view: the crosshair's k is the axial slider's value.
    st.set_cursor((3, 4, 7))
    assert ax.slider.value() == 7 and views["coronal"].slider.value() == 4
    # View -> model: moving the coronal slider moves the crosshair.
    views["coronal"].slider.setValue(9)
    assert st.cursor == [3, 9, 7]
    # A click on the axial view moves the crosshair to the voxel under the mouse.
    col, row = d.voxel_to_display(2, (12, 6, 7), st.image.shape)
    pos = ax.pixel_to_canvas(col, row).toPoint()
    qtbot.mouseClick(ax.image_label, Qt.MouseButton.LeftButton, pos=pos)
    assert st.cursor[:2] == [12, 6] and views["sagittal"].slider.value() == 12


def test_window_level_drag_and_overlay_visibility(qtbot):
    st = ImagingState()
    v = _shown_view(qtbot, st, size=300)
    st.set_study(_study())
    st.set_cursor((10, 8, 5))
    level0, width0 = st.level, st.width
    c = v.image_label.rect().center()
    qtbot.mousePress(v.image_label, Qt.MouseButton.RightButton, pos=c)
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtCore import QEvent

    ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(c + QPoint(60, -30)), QPointF(c + QPoint(60, -30)),
                     Qt.MouseButton.NoButton, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier)
    v.on_move(ev)
    qtbot.mouseRelease(v.image_label, Qt.MouseButton.RightButton, pos=c + QPoint(60, -30))
    assert st.width > width0 and st.level > level0
    st.set_window(40, 400)
    vol = st.volume
    lab = LabelMap.like(vol, (vol.array > 0).astype(np.uint8), {1: "box"}, {1: (255, 0, 0)})
    st.set_labels(lab)
    st.set_opacity(1.0)
    col, row = d.voxel_to_display(2, (10, 8, 5), st.image.shape)
    img = v.image_label.pixmap().toImage()
    assert img.pixelColor(int(col), int(row)) == QColor(255, 0, 0)
    assert v._legend and v._legend[0][0] == "box"
    st.set_visible(1, False)
    img = v.image_label.pixmap().toImage()
    px = img.pixelColor(int(col), int(row))
    assert px.red() == px.green() == px.blue()


def test_brush_undo_redo_and_ruler(qtbot):
    st = ImagingState()
    v = _shown_view(qtbot, st, size=400)
    vol = _study()
    st.set_study(vol)
    st.set_labels(LabelMap.like(vol, np.zeros(vol.shape, np.uint8), {1: "box"}))
    st.set_cursor((10, 8, 5))
    v.set_tool("paint")
    v.paint_value, v.brush_radius_mm = 1, 2.0
    col, row = d.voxel_to_display(2, (10, 8, 5), st.image.shape)
    pos = v.pixel_to_canvas(col, row).toPoint()
    qtbot.mouseClick(v.image_label, Qt.MouseButton.LeftButton, pos=pos)
    painted = int((st.labels == 1).sum())
    assert painted > 1 and st.labels[10, 8, 5] == 1 and (st.labels[:, :, 4] == 0).all()
    assert st.history.can_undo
    st.notify_edited(st.history.undo(st.labels))
    assert (st.labels == 0).all()
    st.notify_edited(st.history.redo(st.labels))
    assert int((st.labels == 1).sum()) == painted
    v.set_tool("erase")
    qtbot.mouseClick(v.image_label, Qt.MouseButton.LeftButton, pos=pos)
    assert (st.labels == 0).all()
    # Ruler: 6 voxels along x at 1 mm spacing is 6 mm.
    v.set_tool("ruler")
    got = []
    v.measured.connect(got.append)
    a = v.pixel_to_canvas(2.5, 3.5).toPoint()
    b = v.pixel_to_canvas(8.5, 3.5).toPoint()
    qtbot.mousePress(v.image_label, Qt.MouseButton.LeftButton, pos=a)
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    v.on_move(QMouseEvent(QEvent.Type.MouseMove, QPointF(b), QPointF(b), Qt.MouseButton.NoButton,
                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    qtbot.mouseRelease(v.image_label, Qt.MouseButton.LeftButton, pos=b)
    assert got and abs(got[0] - 6.0) < 0.6 and len(v.measurements) == 1


def test_mr_window_is_automatic_and_keys_scroll(qtbot):
    rng = np.random.default_rng(0)
    arr = rng.gamma(2.0, 150.0, (24, 24, 10)).astype(np.float32)
    st = ImagingState()
    v = _shown_view(qtbot, st, size=200)
    st.set_study(Volume(arr, (1, 1, 1), modality="MR"))
    lo, hi = np.percentile(arr, [1, 99])
    assert abs(st.level - (lo + hi) / 2) < 0.05 * hi and abs(st.width - (hi - lo)) < 0.05 * hi
    k = v.index
    qtbot.keyClick(v.image_label, Qt.Key.Key_Up)
    assert v.index == k + 1 and st.cursor[2] == k + 1
    qtbot.keyClick(v.image_label, Qt.Key.Key_PageDown)
    assert v.index == k - 4


def test_the_legend_never_covers_the_top_orientation_letter(qtbot):
    """Issue 21 follow-up (seen in the e2e screenshot): in a narrow view the legend's swatches and names sat over
    the "A" at the top centre. Every legend entry now starts right of that letter."""
    st = ImagingState()
    v = _shown_view(qtbot, st, size=300)
    st.set_study(_study())
    vol = st.volume
    arr = np.zeros(vol.shape, np.uint8)
    for i in range(1, 9):  # eight structures in the slice: a full legend
        arr[i + 4, 4:12, 3:9] = i
    names = {i: f"structure_with_a_long_name_{i}" for i in range(1, 9)}
    colours = {i: (0, 255, 0) for i in range(1, 9)}  # pure green: not in the image, the letters or the text
    st.set_labels(LabelMap.like(vol, arr, names, colours))
    st.set_cursor((10, 8, 5))
    img = v.image_label.grab().toImage()
    w = img.width()
    # the top letter's band: 12 px either side of the centre, the first 40 rows
    green_near_letter = [(x, y) for x in range(w // 2 - 12, w // 2 + 12) for y in range(0, 40)
                         if img.pixelColor(x, y) == QColor(0, 255, 0)]
    assert not green_near_letter
    swatches = [(x, y) for x in range(w) for y in range(0, 140) if img.pixelColor(x, y) == QColor(0, 255, 0)]
    assert swatches, "the legend was not drawn"
    assert min(x for x, _ in swatches) >= w // 2 + 12


def test_the_segment_panel_leaves_the_slice_views_their_room(qtbot):
    """A check box does not wrap: its long label once widened the side panel past 590 px and squeezed the slice
    views of a 1280 px window. The panel's minimum width stays moderate; the full explanation is the tooltip."""
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.gui.imaging.segment_panel import SegmentPanel

    panel = SegmentPanel(ModelRegistry())
    qtbot.addWidget(panel)
    assert panel.minimumSizeHint().width() <= 480
    assert "flipped image" in panel.second_opinion_check.toolTip()
