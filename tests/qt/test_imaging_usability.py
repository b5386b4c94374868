"""Issue 21 in the Imaging workspace: state follows the study (item 6), overlays (item 5), agreement wording and QC
reasons (item 2), the study checked against the card before a model runs (item 3)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medpriv_desktop.core.imaging.display import COLOUR_BLIND_PALETTE
from medpriv_desktop.gui.notify import notifications
from medpriv_desktop.gui.workspaces.imaging import CUSTOM_WINDOW, NO_READOUT
from tests.qt._imaging_support import make_workspace, tiny_registry, wait_idle, write_phantom

pytest.importorskip("onnx")


@pytest.fixture
def ws(qtbot, tmp_path):
    w = make_workspace(qtbot, tiny_registry(tmp_path / "models", teacher=True))
    path, _hu = write_phantom(tmp_path)
    w.open_path(path)
    wait_idle(qtbot, w)
    return w


def _segment(qtbot, ws):
    assert ws.run_segmentation(ws.segment_panel.current_entry())
    wait_idle(qtbot, ws)


def test_readout_and_window_box_follow_the_study(qtbot, ws, tmp_path):
    view = ws.view
    centre = view.pixel_to_canvas(20, 20)
    view._report_hover(centre)
    assert "HU" in ws.hover_label.text()
    # A right-drag changes the window: the box says Custom, not the preset it started from.
    assert ws.preset_combo.currentText() == "Soft tissue"
    ws.preset_combo.setCurrentText("Bone")
    ws.preset_combo.activated.emit(ws.preset_combo.currentIndex())
    assert (ws.state.level, ws.state.width) == (400.0, 1800.0)
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent

    def mouse(kind, x, button):
        return QMouseEvent(kind, QPointF(x, 100), QPointF(x, 100), button, button, Qt.KeyboardModifier.NoModifier)

    view.on_press(mouse(QMouseEvent.Type.MouseButtonPress, 100, Qt.MouseButton.RightButton))
    view.on_move(mouse(QMouseEvent.Type.MouseMove, 160, Qt.MouseButton.RightButton))
    view.on_release(mouse(QMouseEvent.Type.MouseButtonRelease, 160, Qt.MouseButton.RightButton))
    assert ws.state.width != 1800.0 and ws.preset_combo.currentText() == CUSTOM_WINDOW
    # Another study: no stale value under the cursor, and the window box shows its preset again.
    other = tmp_path / "second"
    other.mkdir()
    path, _ = write_phantom(other, shape=(40, 40, 24))
    ws.open_path(path)
    wait_idle(qtbot, ws)
    assert ws.hover_label.text() == NO_READOUT and ws.preset_combo.currentText() == "Soft tissue"


def test_body_is_an_outline_in_slices_and_hidden_in_3d(qtbot, ws):
    _segment(qtbot, ws)
    st = ws.state
    body = next(v for v, n in st.names.items() if n == "soft_tissue")
    assert st.outline == {body}
    view = ws.view
    rgb = view.composed()
    from medpriv_desktop.core.imaging.display import slice_2d, window_to_uint8

    lab = slice_2d(st.labels, 2, view.index)
    grey = window_to_uint8(slice_2d(st.image, 2, view.index), st.level, st.width)
    inside = lab == body
    core = inside.copy()
    for axis in (0, 1):
        for shift in (-1, 1):
            core &= np.roll(inside, shift, axis)
    edge = inside & ~core
    r, c = np.argwhere(core)[len(np.argwhere(core)) // 2]
    assert (rgb[r, c] == grey[r, c]).all()  # the body's inside is not tinted
    er, ec = np.argwhere(edge)[0]
    assert np.abs(rgb[er, ec].astype(int) - int(grey[er, ec])).sum() > 30  # its edge is
    ws.view3d.build_pending_surfaces()
    assert body not in ws.view3d.scene.surfaces and len(ws.view3d.scene.surfaces) >= 1


def test_visibility_and_opacity_survive_a_comparison(qtbot, ws):
    _segment(qtbot, ws)
    st = ws.state
    bone = next(v for v, n in st.names.items() if n == "bone")
    r = ws.structures.values().index(bone)
    ws.structures.table.item(r, 0).setCheckState(Qt.CheckState.Unchecked)
    ws.structures.opacity_slider.setValue(25)
    student = ws.segment_panel.current_entry()
    assert ws.run_comparison(student, ws.segment_panel.teacher_for(student))
    wait_idle(qtbot, ws)
    assert ws.last_compare is not None
    bone = next(v for v, n in st.names.items() if n == "bone")
    assert st.visible[bone] is False and abs(st.opacity - 0.25) < 1e-6
    r = ws.structures.values().index(bone)
    assert ws.structures.table.item(r, 0).checkState() == Qt.CheckState.Unchecked
    ws.view3d.build_pending_surfaces()
    assert not ws.view3d.scene.surface_visible(bone)
    # The agreement is worded as agreement between two models, not accuracy.
    assert "Agreement between the two models" in ws.segment_panel.compare_label.text()
    assert "not accuracy" in ws.segment_panel.compare_box.title()


def test_table_jump_is_announced_and_reachable_by_keyboard(qtbot, ws):
    _segment(qtbot, ws)
    before = len(notifications().history)
    bone = next(v for v, n in ws.state.names.items() if n == "bone")
    r = ws.structures.values().index(bone)
    ws.structures.table.cellActivated.emit(r, 0)  # what Enter on the row sends
    msgs = [m.text for m in notifications().history[before:]]
    assert msgs and msgs[-1].startswith("Views centred on bone: axial ")


def test_colour_blind_palette_recolours_every_view(qtbot, ws):
    _segment(qtbot, ws)
    st = ws.state
    bone = next(v for v, n in st.names.items() if n == "bone")
    card_colour = st.colors[bone]
    ws.structures.palette_check.setChecked(True)
    assert st.colors[bone] in COLOUR_BLIND_PALETTE and st.colors[bone] != card_colour
    ws.view3d.build_pending_surfaces()
    actor_rgb = tuple(round(c * 255) for c in ws.view3d.scene.surfaces[bone].GetProperty().GetColor())
    assert actor_rgb == st.colors[bone]
    ws.structures.palette_check.setChecked(False)
    assert st.colors[bone] == card_colour


def test_meshes_are_built_at_full_resolution_like_the_export(qtbot, ws):
    from medpriv_desktop.gui.imaging.view3d import MESH_VOXELS, mesh_step

    _segment(qtbot, ws)
    bone = next(v for v, n in ws.state.names.items() if n == "bone")
    src = ws.view3d.mesh_source(bone)
    assert src.shape == ws.state.image.shape and tuple(src.spacing) == tuple(ws.state.spacing)
    assert mesh_step(MESH_VOXELS) == 1 and mesh_step(MESH_VOXELS * 8) == 2 and mesh_step(MESH_VOXELS * 9) == 3


def test_qc_reason_lists_every_check_and_says_when_volume_was_not_checked(qtbot, ws):
    _segment(qtbot, ws)
    panel = ws.structures
    bone = next(v for v, n in ws.state.names.items() if n == "bone")
    status, reason = panel.qc[bone]
    assert "uncertainty" in reason and "mean entropy" in reason and ("≤" in reason or ">" in reason)
    # QC itself now reports every structure's volume (issue 19): an "info" line says why no range was checked
    assert "volume info:" in reason and "volume not checked: the card gives no published adult range" in reason


def _torso_entry():
    labels = [SimpleNamespace(value=0, name="background"), SimpleNamespace(value=1, name="lung_left"),
              SimpleNamespace(value=2, name="liver")]
    return SimpleNamespace(card=SimpleNamespace(id="seg-torso-x", outputs=SimpleNamespace(labels=labels),
                                                image_input=SimpleNamespace(modalities=["CT"]), body_region=None))


def test_a_study_that_does_not_fit_the_card_asks_first(qtbot, ws):
    asked = []
    ws.confirm_fit = lambda text: asked.append(text) or False
    # The 14 cm wide phantom reads as a head; a torso model's card does not fit it.
    assert not ws.study_fits(_torso_entry())
    assert len(asked) == 1 and "looks like a head" in asked[0] and "seg-torso-x" in asked[0]
    ws.confirm_fit = lambda text: asked.append(text) or True
    assert ws.study_fits(_torso_entry())
    # The tiny model's own card (soft tissue and bone, no region) fits: nothing is asked.
    n = len(asked)
    assert ws.run_segmentation(ws.segment_panel.current_entry())
    wait_idle(qtbot, ws)
    assert len(asked) == n


def test_export_message_names_the_written_file(qtbot, ws, tmp_path):
    _segment(qtbot, ws)
    before = len(notifications().history)
    target = tmp_path / "exports" / "phantom_ct_seg.nii.gz"
    assert ws.export_labelmap(target)
    wait_idle(qtbot, ws)
    msgs = notifications().history[before:]
    written = [m for m in msgs if m.path is not None]
    assert written and written[-1].path == target and str(target) in written[-1].text and target.is_file()


def test_a_teacher_offered_first_says_which_student_it_was_chosen_over(qtbot, tmp_path):
    """A student whose card shows it below 0.9 of its teacher's Dice is not the default; the panel says why, and the
    comparison button of a teacher says how to compare instead of claiming no teacher is installed."""
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.gui.imaging.segment_panel import SegmentPanel
    from tests.qt._imaging_support import make_bundle

    root = tmp_path / "bundled"
    weak = {"metrics": {"values": [{"name": "dice_ratio_to_teacher", "value": 0.85, "split": "held-out"}]}}
    make_bundle(root, "seg-tiny-student", spacing=(3.0, 3.0, 4.0), role="student", family="tiny", card_extra=weak)
    make_bundle(root, "seg-tiny-teacher", spacing=(3.0, 3.0, 4.0), role="teacher", family="tiny")
    panel = SegmentPanel(ModelRegistry(bundled_dir=root, user_dir=tmp_path / "user", site_dir=None))
    qtbot.addWidget(panel)
    panel.set_study("CT")
    assert panel.current_entry().card.id == "seg-tiny-teacher"
    assert "chosen over student seg-tiny-student: 0.850 of this model's Dice, below 0.9" in panel.model_info.text()
    assert not panel.compare_button.isEnabled()
    assert "choose one of its students" in panel.compare_button.toolTip()
    assert panel.minimumSizeHint().width() <= 480  # the longer line wraps
