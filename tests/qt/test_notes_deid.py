"""Notes workspace, single note: detection as a job, colours and hover text per span, accept/reject/mark, operators,
save. A small regex detector stands in for the Presidio engine (the real engine runs in the e2e test)."""

from __future__ import annotations

import datetime as dt
import gc
import re
import time

import pytest

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notes.highlight import TAG_COLOURS
from medpriv_desktop.gui.notify import notifications
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace

NOTE = ("Patient Anna Berg seen on 3/14/2019 by Dr. Holt.\n"
        "Call 555-201-3344 to reach Anna Berg. Follow up 3/21/2019 at Lakeside Clinic.\n")


class RegexDetector:
    """Table-driven stand-in for DeidEngine.analyze (names, dates, phones)."""

    model_id = None
    RULES = ((r"Anna Berg", "PATIENT", 0.9, "names"), (r"\d{1,2}/\d{1,2}/\d{4}", "DATE", 0.95, "date"),
             (r"\d{3}-\d{3}-\d{4}", "PHONE", 0.85, "phone"), (r"(?<=Dr\. )Holt", "CLINICIAN", 0.8, "names"))

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    def analyze(self, text: str) -> list[PhiSpan]:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return sorted(PhiSpan(m.start(), m.end(), cat, score, src)
                      for rx, cat, score, src in self.RULES for m in re.finditer(rx, text))


@pytest.fixture
def workspace(qtbot):
    det = RegexDetector()
    runner = JobRunner()
    ws = NotesWorkspace(ModelRegistry(), runner, engine_factory=lambda: det)
    # Keep the workspace (and its runner) alive until teardown, which waits for the job thread to end.
    qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
    qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
    ws.detector = det
    return ws


def _detect(qtbot, ws, text=NOTE):
    ws.deid.set_text(text)
    assert ws.deid.run_detection()
    qtbot.waitUntil(lambda: not ws.runner.busy and ws.deid.review is not None, timeout=5000)


def test_open_txt_note_and_detect(qtbot, workspace, tmp_path):
    note = tmp_path / "n.txt"
    note.write_text(NOTE)
    with qtbot.waitSignal(workspace.file_opened):
        workspace.open_path(note)
    assert workspace.input_edit.toPlainText() == NOTE
    assert workspace.deid.run_detection()
    qtbot.waitUntil(lambda: workspace.deid.review is not None, timeout=5000)
    out = workspace.output_edit.toPlainText()
    for phi in ("Anna", "Berg", "3/14/2019", "555-201-3344", "Holt", "3/21/2019"):
        assert phi not in out
    assert out.count("[NAME]") == 3 and out.count("[DATE]") == 2 and "[PHONE]" in out
    assert "Lakeside Clinic" in out  # not detected by the stand-in: stays


def test_highlight_colour_and_hover_per_category(qtbot, workspace):
    _detect(qtbot, workspace)
    edit = workspace.input_edit
    name_at, date_at, phone_at = NOTE.index("Anna"), NOTE.index("3/14"), NOTE.index("555")
    assert edit.highlight_background(name_at).name() == TAG_COLOURS["NAME"]
    assert edit.highlight_background(date_at).name() == TAG_COLOURS["DATE"]
    assert edit.highlight_background(phone_at).name() == TAG_COLOURS["PHONE"]
    assert edit.highlight_background(NOTE.index("Lakeside")) is None
    tip = edit.tooltip_at(date_at)
    assert "DATE" in tip and "0.95" in tip and "date" in tip
    assert "PATIENT" in edit.tooltip_at(name_at) and "names" in edit.tooltip_at(name_at)
    assert edit.tooltip_at(NOTE.index("Follow")) == ""
    # The output pane colours the replacements by category too.
    out = workspace.output_edit.toPlainText()
    assert workspace.output_edit.highlight_background(out.index("[PHONE]")).name() == TAG_COLOURS["PHONE"]


def _put_cursor(edit, offset):
    cur = edit.textCursor()
    cur.setPosition(offset)
    edit.setTextCursor(cur)


def test_reject_accept_and_mark_missed_update_output(qtbot, workspace):
    _detect(qtbot, workspace)
    deid = workspace.deid
    _put_cursor(workspace.input_edit, NOTE.index("Holt") + 1)
    assert deid.set_status_at_cursor("rejected")
    assert "Dr. Holt" in workspace.output_edit.toPlainText()
    assert workspace.input_edit.highlight_background(NOTE.index("Holt")).name() != TAG_COLOURS["NAME"]
    assert deid.set_status_at_cursor("detected")
    assert "Holt" not in workspace.output_edit.toPlainText()
    # Mark the clinic the detector missed.
    start = NOTE.index("Lakeside Clinic")
    cur = workspace.input_edit.textCursor()
    cur.setPosition(start)
    cur.setPosition(start + len("Lakeside Clinic"), cur.MoveMode.KeepAnchor)
    workspace.input_edit.setTextCursor(cur)
    assert deid.mark_selection("HOSPITAL")
    out = workspace.output_edit.toPlainText()
    assert "Lakeside" not in out and "[LOCATION]" in out
    assert "added by hand" in workspace.input_edit.tooltip_at(start + 2)
    assert "1 added by hand" in deid.summary_label.text()


def test_operators_change_the_output(qtbot, workspace):
    _detect(qtbot, workspace)
    deid = workspace.deid
    deid.set_operator("mask")
    assert "*********" in workspace.output_edit.toPlainText()
    deid.set_operator("surrogate")
    out = workspace.output_edit.toPlainText()
    assert "Anna" not in out and "555-201-3344" not in out and "[" not in out
    # The same patient gets the same surrogate both times.
    first_line, second_line = out.splitlines()[:2]
    surrogate = first_line.split(" seen on")[0].removeprefix("Patient ")
    assert surrogate in second_line
    # Date shift: the patient's keyed offset (no offset to choose; updated for issue 17, item 7)
    deid.set_operator("date-shift")
    deid.patient_edit.setText("p7")
    days = deid.surrogator.date_offset("p7")
    out = workspace.output_edit.toPlainText()
    first, second = (dt.date(2019, 3, d) + dt.timedelta(days=days) for d in (14, 21))
    assert f"{first.month}/{first.day}/{first.year}" in out and f"{second.month}/{second.day}/{second.year}" in out
    assert "[NAME]" in out and deid.shift_label.text() == f"Date shift: {days:+d} days"


def test_date_shift_is_keyed_per_patient_and_matches_the_command_line(qtbot, workspace):
    """The window has no offset to choose: it shows the patient's keyed offset and renders through the engine's code
    path, so its output is what `medpriv deid` writes for the same patient."""
    from PySide6.QtWidgets import QSpinBox

    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes.batch import own_patient
    from medpriv_desktop.core.notes.operators import OperatorOptions, apply_operator
    from medpriv_desktop.core.notes.surrogates import Surrogator

    deid = workspace.deid
    assert not deid.findChildren(QSpinBox)
    deid.set_text(NOTE, source_name="a.txt")
    assert deid.run_detection()
    qtbot.waitUntil(lambda: not workspace.runner.busy and deid.review is not None, timeout=5000)
    spans = workspace.detector.analyze(NOTE)
    engine = Surrogator(load_key("deid"))
    for operator in ("date-shift", "surrogate"):
        deid.set_operator(operator)
        for typed, patient in (("", own_patient("note", "a.txt")), ("p7", "p7"), ("MRN-2", "MRN-2")):
            deid.patient_edit.setText(typed)
            assert deid.output_text == apply_operator(OperatorOptions(operator), NOTE, spans, engine, patient)
            assert deid.shift_label.text() == f"Date shift: {engine.date_offset(patient):+d} days"
            assert deid.shift_label.isEnabled()
    deid.set_operator("tag")
    assert not deid.shift_label.isEnabled()


def test_editing_the_note_drops_stale_highlights(qtbot, workspace):
    _detect(qtbot, workspace)
    workspace.input_edit.insertPlainText("x")
    assert workspace.deid.review is None
    assert workspace.input_edit.extraSelections() == []
    assert workspace.output_edit.toPlainText() == ""


def test_save_writes_output_and_audit_has_no_text(qtbot, workspace, tmp_path, medpriv_home):
    _detect(qtbot, workspace)
    target = workspace.deid.save_output(tmp_path / "out.txt")
    assert target.read_text() == workspace.output_edit.toPlainText()
    audit = "".join(p.read_text() for p in medpriv_home.rglob("*.jsonl"))
    # one reviewed note writes the batch's entry (action notes.deid; changed for issue 21, item 1)
    assert '"action":"notes.deid"' in audit and "Anna" not in audit and "3/14" not in audit


def test_empty_note_and_bad_file_give_one_clear_message(qtbot, workspace, tmp_path):
    before = len(notifications().history)
    assert not workspace.deid.run_detection()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01binary")
    workspace.open_path(bad)
    msgs = notifications().history[before:]
    assert [m.level for m in msgs] == ["error", "error"]
    assert "empty" in msgs[0].text
    assert "bad.txt" in msgs[1].text and "binary" in msgs[1].text


def test_engine_error_reaches_the_user(qtbot, tmp_path):
    def broken():
        from medpriv_desktop.core.errors import ModelError

        raise ModelError("PHI model failed its integrity check", hint="re-import it")

    ws = NotesWorkspace(ModelRegistry(), JobRunner(), engine_factory=broken)
    # Keep the workspace (and its runner) alive until teardown, which waits for the job thread to end.
    qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
    qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
    before = len(notifications().history)
    ws.deid.set_text(NOTE)
    ws.deid.run_detection()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    msgs = notifications().history[before:]
    assert len(msgs) == 1 and "integrity" in msgs[0].text
    assert ws.deid.detect_button.isEnabled()


def test_hover_event_shows_the_tooltip(qtbot, workspace):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    workspace.resize(1000, 600)
    workspace.show()
    qtbot.waitExposed(workspace)
    _detect(qtbot, workspace)
    edit = workspace.input_edit
    cur = edit.textCursor()
    cur.setPosition(NOTE.index("3/14") + 1)
    pos = edit.cursorRect(cur).center()
    QApplication.sendEvent(edit.viewport(), QHelpEvent(QEvent.Type.ToolTip, pos, edit.viewport().mapToGlobal(pos)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert "DATE" in QToolTip.text() and "found by date" in QToolTip.text()
    QToolTip.hideText()
