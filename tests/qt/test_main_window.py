"""The main window: workspaces, menus, routing of opened and dropped files, dialogs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from medpriv_desktop.core.demo import make_demo
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.settings import Settings, load_settings
from medpriv_desktop.gui.dialogs.models_dialog import ModelsDialog
from medpriv_desktop.gui.dialogs.preferences_dialog import PreferencesDialog
from medpriv_desktop.gui.main_window import MainWindow
from medpriv_desktop.gui.notify import notifications
from tests.helpers import write_bundle


def _window(qtbot, tmp_path) -> MainWindow:
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=tmp_path / "site")
    w = MainWindow(settings=Settings(), registry=reg)
    qtbot.addWidget(w)
    w.show()
    return w


def test_three_workspaces_and_menus(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == ["Imaging", "Notes", "Reports"]
    menus = [a.text() for a in w.menuBar().actions()]
    assert menus == ["&File", "&Tools", "&View", "&Help"]  # View: Ctrl+1/2/3 to the workspaces (issue 21)
    file_actions = [a.text() for a in w.menuBar().actions()[0].menu().actions()]
    assert "&Open..." in file_actions and "Open &Recent" in file_actions
    assert w.models_action.text() == "&Models..." and w.prefs_action.text() == "&Preferences..."
    # No models installed: every workspace with a model task shows its banner.
    assert all(not ws.banner.isHidden() for ws in w.workspaces.values())


def test_banner_hides_when_model_installed(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    write_bundle(w.registry.bundled_dir, "seg-demo")
    w.refresh_models()
    assert w.workspaces["imaging"].banner.isHidden()
    assert not w.workspaces["notes"].banner.isHidden()


def test_open_and_drop_route_to_workspaces(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    demo = make_demo(tmp_path / "demo")
    note = demo / "notes" / "note_01.txt"
    assert w.open_path(note) == "notes"
    assert w.tabs.currentWidget() is w.workspaces["notes"]
    assert w.workspaces["notes"].input_edit.toPlainText() == note.read_text()
    report = demo / "reports" / "R001.txt"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(report))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    w.dropEvent(ev)
    assert w.tabs.currentWidget() is w.workspaces["reports"]
    assert "FINDINGS" in w.workspaces["reports"].report_edit.toPlainText()
    # The CT goes to Imaging and loads as a job; the slice view gets a RAS volume.
    with qtbot.waitSignal(w.runner.finished, timeout=30000):
        assert w.open_path(demo / "demo_ct.nii.gz") == "imaging"
    view = w.workspaces["imaging"].view
    assert view.array is not None and view.array.shape == (96, 96, 64)
    assert view.image_label.pixmap() is not None and not view.image_label.pixmap().isNull()
    assert load_settings().recent_files[0] == str((demo / "demo_ct.nii.gz").resolve())


def test_bad_files_give_one_clear_message(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    mgr = notifications()
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Fran\xe7ois was seen".encode("latin-1"))
    w.open_path(bad)
    assert "not UTF-8" in mgr.history[-1].text and "latin1.txt" in mgr.history[-1].text
    w.open_path(tmp_path / "missing.nii.gz")
    assert "not found" in mgr.history[-1].text
    odd = tmp_path / "photo.jpg"
    odd.write_bytes(b"jpg")
    w.open_path(odd)
    assert "not a file MedPriv can open" in mgr.history[-1].text
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"\x1f\x8b\x08garbage")
    with qtbot.waitSignal(w.runner.finished, timeout=30000):
        w.open_path(broken)
    assert "broken.nii.gz" in mgr.history[-1].text
    assert "Traceback" not in mgr.history[-1].text


def test_models_dialog_lists_cards_and_refuses_bad_import(qtbot, tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)
    write_bundle(reg.bundled_dir, "seg-listed")
    dlg = ModelsDialog(reg)
    qtbot.addWidget(dlg)
    assert dlg.list.count() == 1
    html = dlg.details.toHtml()
    assert "Intended use" in html and "Not for diagnostic use" in html and "Apache-2.0" in html
    bad = write_bundle(tmp_path / "incoming", "seg-tampered", tamper=True)
    assert not dlg.import_folder(bad)
    assert "Import refused" in dlg.status.text() and "sha256" in dlg.status.text()
    good = write_bundle(tmp_path / "incoming", "seg-good", seed=5)
    with qtbot.waitSignal(dlg.models_changed):
        assert dlg.import_folder(good)
    assert dlg.list.count() == 2


def test_preferences_dialog_edits_settings(qtbot):
    s = Settings(inference_threads=1)
    dlg = PreferencesDialog(s)
    qtbot.addWidget(dlg)
    dlg.threads_spin.setValue(4)
    dlg.operator_combo.setCurrentText("surrogate")
    dlg.identity_check.setChecked(True)
    out = dlg.result_settings()
    assert (out.inference_threads, out.deid_operator, out.show_patient_identity) == (4, "surrogate", True)
    assert s.inference_threads == 1  # the original is untouched until OK


def test_preferences_threads_default_to_automatic(qtbot):
    dlg = PreferencesDialog(Settings())
    qtbot.addWidget(dlg)
    assert dlg.threads_spin.text() == "Automatic" and dlg.result_settings().inference_threads is None
    dlg.threads_spin.setValue(3)
    assert dlg.result_settings().inference_threads == 3
    dlg.threads_spin.setValue(0)  # back to the special value
    assert dlg.result_settings().inference_threads is None


def test_slice_view_radiological_orientation():
    from medpriv_desktop.gui.widgets.slice_view import to_display

    sl = np.zeros((4, 3), np.float32)  # [x, y]
    sl[3, 0] = 1000  # max x (patient's right), min y (posterior)
    img = to_display(sl, 0, 2)
    # Patient's right appears on the screen's left; posterior at the bottom.
    assert img.shape == (3, 4) and img[2, 0] == 255 and (img == 255).sum() == 1
