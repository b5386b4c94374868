"""Issue 21, items 6 and 8: messages name the written path with "Open folder"; default output names come from the
input in the user output folder; "Mouse and keys" help and a status-bar hint; message boxes take focus; workspace
actions reachable from the keyboard; the date-shift box shows the shift in effect."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QTabBar

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.settings import Settings
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.main_window import MainWindow
from medpriv_desktop.gui.notify import notify_error, notify_written
from medpriv_desktop.core.app.output_paths import default_output, user_output_dir
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
from tests.qt.test_notes_deid import NOTE, RegexDetector


@pytest.fixture
def win(qtbot, tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=tmp_path / "site")
    w = MainWindow(settings=Settings(), registry=reg)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_written_message_names_the_path_and_opens_its_folder(qtbot, win, tmp_path):
    opened = []
    win.open_folder = opened.append
    out = tmp_path / "out" / "note_deid.txt"
    out.parent.mkdir()
    out.write_text("x")
    notify_written("Saved the de-identified note", out)
    box = win.message_box
    assert box is not None and str(out) in box.text()
    assert str(out) in win.statusBar().currentMessage()
    qtbot.waitUntil(box.isActiveWindow, timeout=2000)  # the box takes the focus, it does not hide behind
    box.open_folder_button.click()
    assert opened == [out]
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)  # the folder opened and the box went
    assert win.message_box is None


def test_a_box_with_open_folder_closes_with_escape(qtbot, win, tmp_path):
    win.open_folder = lambda p: None
    notify_written("Wrote the labels", tmp_path / "labels.csv")
    box = win.message_box
    qtbot.waitUntil(box.isActiveWindow, timeout=2000)
    QTest.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)
    assert win.message_box is None


def test_error_box_takes_focus(qtbot, win):
    from medpriv_desktop.core.errors import InputError

    notify_error(InputError("file is empty", path=Path("/tmp/x.txt")))
    box = win.message_box
    assert box is not None and "x.txt" in box.text()
    qtbot.waitUntil(box.isActiveWindow, timeout=2000)
    assert QApplication.focusWidget() in box.buttons()


def test_mouse_and_keys_help_and_status_hint(qtbot, win):
    assert win.mouse_keys_action.shortcut().toString() == "F1"
    box = win.show_mouse_and_keys()
    text = box.text()
    for words in ("Right-drag", "Ctrl + wheel", "Middle-drag", "Ctrl+1, 2, 3", "Ctrl+Enter"):
        assert words in text
    assert "right-drag: window/level" in win.hint_label.text()  # Imaging is shown first
    win.tabs.setCurrentWidget(win.workspaces["notes"])
    assert "De-identify" in win.hint_label.text()


def test_workspaces_and_their_actions_are_keyboard_reachable(qtbot, win):
    from PySide6.QtCore import Qt

    for i, name in enumerate(("imaging", "notes", "reports")):
        assert win.workspace_actions[i].shortcut().toString() == f"Ctrl+{i + 1}"
        win.workspace_actions[i].trigger()
        assert win.tabs.currentWidget() is win.workspaces[name]
    main = {"imaging": win.workspaces["imaging"].segment_panel.run_button,
            "notes": win.workspaces["notes"].deid.detect_button,
            "reports": win.workspaces["reports"].classify_button}
    for name, button in main.items():
        assert button.shortcut().toString() == "Ctrl+Return", name
    # Every button of every workspace can take the keyboard focus (Tab), none is mouse-only.
    for ws in win.workspaces.values():
        for b in ws.findChildren(QAbstractButton):
            if b.objectName().startswith("qt_") or isinstance(b.parent(), QTabBar):
                continue  # Qt's own corner and scroll buttons: their views have keys for the same
            assert b.focusPolicy() & Qt.FocusPolicy.TabFocus, (ws.machine_name, b.text())
    # The slice views take Tab focus too (Up/Down then step through slices).
    assert win.workspaces["imaging"].view.image_label.focusPolicy() & Qt.FocusPolicy.TabFocus


def test_default_output_names_come_from_the_input(tmp_path):
    out = user_output_dir()
    assert default_output(tmp_path / "data" / "n01.txt", "_deid", ".txt") == out / "n01_deid.txt"
    assert default_output(tmp_path / "ct.nii.gz", "_seg", ".nii.gz") == out / "ct_seg.nii.gz"
    assert default_output(None, "_deid", ".txt") == out / "note_deid.txt"
    s = Settings(output_dir=str(tmp_path / "mine"))
    assert default_output(tmp_path / "a.csv", "_labels", ".csv", s) == tmp_path / "mine" / "a_labels.csv"


@pytest.fixture
def notes(qtbot):
    det = RegexDetector()
    w = NotesWorkspace(ModelRegistry(), JobRunner(), engine_factory=lambda: det)
    qtbot.__dict__.setdefault("medpriv_keep", []).append(w)
    qtbot.addWidget(w, before_close_func=lambda x: (x.runner.wait(10000), gc.collect()))
    return w


def test_save_proposes_input_name_in_the_output_folder(qtbot, notes, tmp_path):
    src = tmp_path / "data" / "visit_07.txt"
    src.parent.mkdir()
    src.write_text(NOTE)
    notes.open_path(src)
    assert notes.deid.default_save_path() == user_output_dir() / "visit_07_deid.txt"


def test_shift_box_shows_the_shift_in_effect(qtbot, notes):
    import datetime as dt

    notes.deid.set_text(NOTE, source_name="a.txt")
    assert notes.deid.run_detection()
    qtbot.waitUntil(lambda: not notes.runner.busy and notes.deid.review is not None, timeout=5000)
    deid = notes.deid
    deid.set_operator("tag")
    assert "days" not in deid.shift_label.text() and "none" in deid.shift_label.text()
    deid.set_operator("date-shift")
    for typed in ("", "p7", "MRN-2"):
        deid.patient_edit.setText(typed)
        days = int(deid.shift_label.text().split(": ")[1].split()[0])
        shifted = dt.date(2019, 3, 14) + dt.timedelta(days=days)
        assert f"{shifted.month}/{shifted.day}/{shifted.year}" in deid.output_text  # the box says what was done


def test_ctrl_enter_presses_only_the_shown_workspace_main_button(qtbot, win):
    """Several buttons carry Ctrl+Enter (one per workspace and tab); only the one on screen may answer, and it must
    answer (an ambiguous shortcut in Qt triggers none)."""
    notes, reports = win.workspaces["notes"], win.workspaces["reports"]
    buttons = {"imaging": win.workspaces["imaging"].segment_panel.run_button, "notes": notes.deid.detect_button,
               "notes batch": notes.batch.run_button, "notes synth": notes.synth.generate_button,
               "reports": reports.classify_button,
               "reports batch": reports.batch.run_button}
    pressed: list[str] = []
    for name, b in buttons.items():
        b.setEnabled(True)
        b.clicked.disconnect()  # record the press only; the jobs themselves are tested elsewhere
        b.clicked.connect(lambda _=False, n=name: pressed.append(n))
    shown = [("imaging", None), ("notes", notes.deid), ("notes batch", notes.batch), ("notes synth", notes.synth),
             ("reports", None), ("reports batch", reports.batch), ("reports", None)]
    for name, tab in shown:
        ws = win.workspaces[name.split()[0]]
        win.tabs.setCurrentWidget(ws)
        if tab is not None:
            tab.parentWidget().parentWidget().setCurrentWidget(tab)
        elif name == "reports":
            reports.tabs.setCurrentIndex(0)
        pressed.clear()
        QTest.keyClick(win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.wait(250)  # a button's shortcut clicks it through a short animation
        assert pressed == [name]
