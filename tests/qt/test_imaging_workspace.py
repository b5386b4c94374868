"""The Imaging workspace end to end offscreen: open, segment as a job, structures table, 3D pipeline, compare, export.

The 3D view cannot render under the offscreen platform; its VTK pipeline (actors, visibility, opacity, strided copy)
is checked instead, and real rendering is checked by the Xvfb test in tests/e2e.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.qt._imaging_support import make_workspace, tiny_registry, wait_idle, write_phantom
from tests.unit.imaging._imaging_fixtures import expected_tiny_labels, write_dicom_series

pytest.importorskip("onnx")


@pytest.fixture
def opened(qtbot, tmp_path):
    reg = tiny_registry(tmp_path / "models", teacher=True)
    ws = make_workspace(qtbot, reg)
    path, hu = write_phantom(tmp_path)
    ws.open_path(path)
    wait_idle(qtbot, ws)
    return ws, hu


def test_open_segment_table_and_3d_pipeline(qtbot, opened):
    ws, hu = opened
    st = ws.state
    assert ws.view.array is not None and ws.view.array.shape == hu.shape
    assert "phantom_ct.nii.gz" in ws.info_label.text() and "CT" in ws.info_label.text()
    panel = ws.segment_panel
    assert panel.current_entry().card.id == "seg-tiny-student"  # the student is the default
    assert panel.run_button.isEnabled() and panel.compare_button.isEnabled()
    assert ws.run_segmentation(panel.current_entry())
    wait_idle(qtbot, ws)
    # The labels are the tiny model's known answer (nearest intensity centre), shown on the views.
    assert st.labels is not None
    expected = expected_tiny_labels(hu)
    agree = float((st.labels == expected).mean())
    assert agree > 0.9, agree
    assert set(st.names.values()) >= {"soft_tissue", "bone"}
    # Structures table: one row per found structure, volume and mean HU, QC filled in.
    names = [ws.structures.table.item(r, 0).text() for r in range(ws.structures.table.rowCount())]
    assert "soft_tissue" in names and "bone" in names
    r = names.index("bone")
    vol_ml = float(ws.structures.table.item(r, 1).text())
    voxel_ml = 3 * 3 * 4 / 1000
    assert abs(vol_ml - (st.labels == 2).sum() * voxel_ml) < 0.2
    assert float(ws.structures.table.item(r, 2).text().split()[0]) > 200  # bone HU
    assert ws.structures.table.item(r, 3).text() in ("pass", "warn", "fail")
    # Clicking the bone row centres the crosshair inside the spine column.
    ws.structures._on_table_cell_clicked(r, 0)
    bone_idx = np.argwhere(st.labels == 2)
    assert np.linalg.norm(np.asarray(st.cursor) - bone_idx.mean(0)) < 3
    # Unticking hides it in the overlays and in the 3D surfaces.
    ws.view3d.build_pending_surfaces()
    scene = ws.view3d.scene
    assert 2 in scene.surfaces and scene.surface_visible(2)
    item = ws.structures.table.item(r, 0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert st.visible[2] is False and not scene.surface_visible(2)
    item.setCheckState(Qt.CheckState.Checked)
    assert scene.surface_visible(2)
    ws.view3d.opacity_slider.setValue(40)
    assert abs(scene.surfaces[2].GetProperty().GetOpacity() - 0.4) < 1e-6
    ws.structures.surface_opacity_requested.emit(2, 0.5)  # the row's context menu: one structure only
    assert abs(scene.surfaces[2].GetProperty().GetOpacity() - 0.2) < 1e-6
    # the body (soft tissue) is hidden in 3D until asked for (changed for issue 21, item 5)
    assert 1 not in scene.surfaces
    st.set_shown_in_3d(1, True)
    ws.view3d.build_pending_surfaces()
    assert abs(scene.surfaces[1].GetProperty().GetOpacity() - 0.4) < 1e-6
    ws.view3d.preset_combo.setCurrentText("CT bone")
    assert scene.preset == "CT bone" and scene.volume.GetVisibility()
    ws.view3d.preset_combo.setCurrentText("Off")
    assert not scene.volume.GetVisibility()
    ws.structures.opacity_slider.setValue(20)
    assert abs(st.opacity - 0.2) < 1e-6
    ws.crosshair_check.setChecked(False)
    assert not ws.view.show_crosshair and not ws.views["sagittal"].show_crosshair
    ws.crosshair_check.setChecked(True)
    ws.set_layout("Coronal")
    assert ws.views["coronal"].isVisible() and not ws.view.isVisible() and not ws.top_right.isVisible()
    ws.set_layout("Four-up")
    assert ws.view.isVisible() and ws.top_right.isVisible()


def test_render_copy_is_bounded():
    from medpriv_desktop.render.volume_view import render_step, strided

    step = render_step((512, 512, 300), 256**3)
    assert step == 2 and np.prod(strided(np.zeros((512, 512, 300), np.uint8), step).shape) <= 256**3
    assert render_step((100, 100, 100), 256**3) == 1
    assert np.prod([-(-n // render_step((600, 600, 900), 64**3)) for n in (600, 600, 900)]) <= 64**3


def test_compare_student_teacher_difference_and_side_by_side(qtbot, opened):
    ws, _hu = opened
    panel = ws.segment_panel
    # QC with a second opinion grades agreement with the installed teacher.
    panel.second_opinion_check.setChecked(True)
    assert ws.run_segmentation(panel.current_entry())
    wait_idle(qtbot, ws)
    assert ws.last_run.qc.second_opinion == "teacher:seg-tiny-teacher"
    assert any(it.check == "agreement" for it in ws.last_run.qc.items)
    reasons = [ws.structures.table.item(r, 4).text() for r in range(ws.structures.table.rowCount())]
    assert any("agreement" in t for t in reasons)
    student = panel.current_entry()
    teacher = panel.teacher_for(student)
    assert teacher is not None and teacher.card.id == "seg-tiny-teacher"
    assert ws.run_comparison(student, teacher)
    wait_idle(qtbot, ws)
    run = ws.last_compare
    assert run is not None and set(run.dice) >= {"soft_tissue", "bone"}
    assert 0 <= run.mean_dice <= 1 and run.teacher.seconds > 0
    assert panel.dice_table.rowCount() == len(run.dice)
    assert "mean Dice" in panel.compare_label.text() and "Teacher" in panel.compare_label.text()  # issue 21 wording
    st = ws.state
    assert st.compare_labels is not None and st.diff_labels is not None and st.diff_labels.any()
    panel.mode_group.button(1).setChecked(True)  # difference
    labels, colors, _vis = st.overlay()
    assert labels is st.diff_labels and st.overlay_mode == "difference"
    panel.mode_group.button(2).setChecked(True)  # side by side
    assert ws.top_right.currentWidget() is ws.compare_view and st.overlay_mode == "result"
    assert ws.compare_view.image_label.pixmap() is not None


def test_brush_edit_marks_table_and_exports_follow_edits(qtbot, opened, tmp_path):
    ws, _hu = opened
    ws.run_segmentation(ws.segment_panel.current_entry())
    wait_idle(qtbot, ws)
    st = ws.state
    # Erase a patch by hand, as a person would with the Erase tool.
    ws.set_tool("erase")
    ws.brush_spin.setValue(9.0)
    st.set_cursor((24, 20, 16))
    v = ws.view
    before = int((st.labels > 0).sum())
    from medpriv_desktop.core.imaging.display import voxel_to_display

    col, row = voxel_to_display(2, (24, 20, 16), st.image.shape)
    qtbot.mouseClick(v.image_label, Qt.MouseButton.LeftButton, pos=v.pixel_to_canvas(col, row).toPoint())
    after = int((st.labels > 0).sum())
    assert after < before and ws.undo_action.isEnabled()
    assert any("edited" in ws.structures.table.item(r, 3).text() for r in range(ws.structures.table.rowCount()))
    assert ws.structures.recompute_button.isEnabled()
    ws.structures.recompute_button.click()
    wait_idle(qtbot, ws)
    vox_ml = 3 * 3 * 4 / 1000
    tbl = ws.structures.table
    vols = {tbl.item(r, 0).text(): float(tbl.item(r, 1).text()) for r in range(tbl.rowCount())}
    assert abs(sum(vols.values()) - after * vox_ml) < 0.1 * len(vols)
    assert any("before edits" in tbl.item(r, 3).text() for r in range(tbl.rowCount()))
    out = tmp_path / "out"
    assert ws.export_labelmap(out / "edited_seg.nii.gz")
    wait_idle(qtbot, ws)
    from medpriv_desktop.core.imaging.io import read_labelmap

    lm = read_labelmap(out / "edited_seg.nii.gz")
    assert int((lm.array > 0).sum()) == after and (out / "edited_seg_labels.json").is_file()
    assert ws.export_stats(out / "stats.csv")
    wait_idle(qtbot, ws)
    rows = list(csv.DictReader(open(out / "stats.csv")))
    assert sum(int(r["voxels"]) for r in rows if r["value"] != "0") == after
    assert ws.export_meshes(out / "meshes")
    wait_idle(qtbot, ws)
    assert (out / "meshes" / "scene.vtp").is_file() and list((out / "meshes").glob("*.stl"))
    assert ws.export_meshes(out / "scene_only", scene_only=True)
    wait_idle(qtbot, ws)
    assert [p.name for p in (out / "scene_only").iterdir()] == ["scene.vtp"]
    shots = ws.save_screenshots(out / "shots")
    assert len(shots) == 3 and all(p.stat().st_size > 500 for p in shots)  # no 3D offscreen
    # Undo brings the model's result back.
    ws.undo()
    assert int((st.labels > 0).sum()) == before and ws.redo_action.isEnabled()
    # Re-opening the exported label map shows the edited labels with their names.
    ws.open_segmentation(out / "edited_seg.nii.gz")
    wait_idle(qtbot, ws)
    assert int((st.labels > 0).sum()) == after and "bone" in st.names.values()


def test_dicom_series_picker_identity_seg_round_trip(qtbot, tmp_path):
    from medpriv_desktop.core.settings import Settings
    from tests.unit.imaging._imaging_fixtures import phantom_volume

    vol, _ = phantom_volume((32, 28, 12), (3.0, 3.0, 4.0))
    folder = tmp_path / "dicom"
    write_dicom_series(folder, vol.array, spacing=(3.0, 3.0, 4.0), description="big", patient_name="DOE^JANE")
    write_dicom_series(folder, vol.array[:, :, :6], spacing=(3.0, 3.0, 4.0), description="small")
    (folder / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")
    reg = tiny_registry(tmp_path / "models")
    ws = make_workspace(qtbot, reg)
    asked = []

    def pick(series):
        asked.append([s.description for s in series])
        return series[0].uid

    ws.choose_series = pick
    ws.open_path(folder / "DICOMDIR")  # a DICOMDIR opens its folder
    wait_idle(qtbot, ws)
    qtbot.waitUntil(lambda: ws.state.volume is not None, timeout=30000)
    wait_idle(qtbot, ws)
    assert asked and sorted(asked[0]) == ["big", "small"]
    from medpriv_desktop.core.imaging.dicom import list_dicom_series
    from medpriv_desktop.gui.workspaces.imaging import SeriesPickerDialog

    series = list_dicom_series(folder)
    dlg = SeriesPickerDialog(series)
    qtbot.addWidget(dlg)
    dlg.list.setCurrentRow(1)
    assert dlg.chosen_uid() == series[1].uid and "DOE" not in dlg.list.item(0).text()
    assert ws.state.volume.shape == (32, 28, 12)
    # Identity hidden by default; shown only when the preference is on.
    assert "DOE" not in ws.identity_label.text() and "hidden" in ws.identity_label.text()
    assert "DOE" not in ws.info_label.text()
    ws.settings = Settings(show_patient_identity=True)
    ws.update_identity()
    assert "DOE^JANE" in ws.identity_label.text()
    # Segment, export a DICOM SEG, and open it again onto the study.
    ws.run_segmentation(ws.segment_panel.current_entry())
    wait_idle(qtbot, ws)
    original = ws.state.labels.copy()
    assert ws.export_actions["dicom_seg"].isEnabled()
    assert ws.export_dicom_seg(tmp_path / "seg.dcm")
    wait_idle(qtbot, ws)
    assert (tmp_path / "seg.dcm").is_file()
    ws.state.labels[:] = 0
    ws.open_segmentation(tmp_path / "seg.dcm")
    wait_idle(qtbot, ws)
    names = ws.state.names
    back = ws.state.labels
    inv = {n: v for v, n in names.items()}
    found = [int(v) for v in np.unique(original) if v]
    assert found
    for v in found:
        n = {1: "soft_tissue", 2: "bone"}[v]
        assert np.array_equal(back == inv[n], original == v), n


def test_cancel_leaves_the_study_unsegmented(qtbot, tmp_path):
    from tests.unit.imaging._imaging_fixtures import build_conv_model, make_bundle
    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(tmp_path / "m", "seg-slow", builder=build_conv_model, builder_kwargs={"width": 16},
                spacing=(1.0, 1.0, 1.0), patch=(48, 48, 48))
    reg = ModelRegistry(bundled_dir=tmp_path / "m", user_dir=tmp_path / "u", site_dir=None)
    ws = make_workspace(qtbot, reg)
    path, _hu = write_phantom(tmp_path)
    ws.open_path(path)
    wait_idle(qtbot, ws)
    cancelled = []
    ws.runner.cancelled.connect(lambda: cancelled.append(True))
    assert ws.run_segmentation(ws.segment_panel.current_entry())
    qtbot.waitUntil(lambda: ws.runner.busy, timeout=5000)
    assert not ws.segment_panel.run_button.isEnabled()
    ws.runner.cancel()
    wait_idle(qtbot, ws)
    assert cancelled and ws.state.labels is None and ws.last_run is None
    assert ws.segment_panel.run_button.isEnabled()


def test_dropping_a_dicom_folder_on_the_window_opens_it_and_recent_files_reopen(qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    from medpriv_desktop.core.settings import Settings
    from medpriv_desktop.gui.main_window import MainWindow
    from tests.unit.imaging._imaging_fixtures import phantom_volume

    vol, _ = phantom_volume((24, 20, 8), (3.0, 3.0, 4.0))
    folder = tmp_path / "dicom"
    write_dicom_series(folder, vol.array, spacing=(3.0, 3.0, 4.0))
    win = MainWindow(Settings(), tiny_registry(tmp_path / "models"))
    qtbot.addWidget(win)
    ws = win.workspaces["imaging"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    win.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                             Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: ws.state.volume is not None and not win.runner.busy, timeout=30000)
    assert win.tabs.currentWidget() is ws and ws.state.volume.shape == (24, 20, 8)
    assert ws.state.volume.meta.get("source_format") == "dicom"
    assert win.settings.recent_files[0] == str(folder.resolve())
    # Re-open from File > Open Recent after another study replaced it.
    path, _hu = write_phantom(tmp_path)
    win.open_path(path)
    qtbot.waitUntil(lambda: ws.study_path == path and not win.runner.busy, timeout=30000)
    act = next(a for a in win.recent_menu.actions() if a.text() == str(folder.resolve()))
    act.trigger()
    qtbot.waitUntil(lambda: ws.study_path == folder.resolve() and not win.runner.busy, timeout=30000)
    assert ws.state.volume.shape == (24, 20, 8)


def test_structures_the_model_did_not_find_are_listed_greyed(qtbot, tmp_path):
    from tests.unit.imaging._imaging_fixtures import make_bundle
    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(tmp_path / "m", "seg-four", spacing=(3.0, 3.0, 4.0), labels=("background", "soft_tissue", "bone",
                                                                            "implant"),
                builder_kwargs={"centres": (-0.95, 0.05, 0.7, 3.0)})  # no voxel is near 3000 HU: never found
    ws = make_workspace(qtbot, ModelRegistry(bundled_dir=tmp_path / "m", user_dir=tmp_path / "u", site_dir=None))
    path, _hu = write_phantom(tmp_path)
    ws.open_path(path)
    wait_idle(qtbot, ws)
    ws.run_segmentation(ws.segment_panel.current_entry())
    wait_idle(qtbot, ws)
    tbl = ws.structures.table
    rows = {tbl.item(r, 0).text(): r for r in range(tbl.rowCount())}
    assert "implant" in rows and rows["implant"] == tbl.rowCount() - 1
    r = rows["implant"]
    assert tbl.item(r, 1).text() == "0" and "not found" in tbl.item(r, 4).text()
    assert not (tbl.item(r, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable)
    ws.structures.opacity_slider.setValue(30)  # an overlay change must not give the row a checkbox
    assert tbl.item(r, 0).data(Qt.ItemDataRole.CheckStateRole) is None
    assert "1 not found" in ws.structures.summary_label.text()
