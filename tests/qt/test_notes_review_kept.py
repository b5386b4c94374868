"""Issue 21, item 1: nothing a reviewer did is lost. Re-running De-identify keeps accepted, rejected and added spans
(through an edit of the note where their text is unchanged) and asks before discarding any; a batch lists every note
with its counts and opens any of them for review; the audit entry counts the reviewer's decisions and a single
reviewed note writes the same entry as a batch."""

from __future__ import annotations

import csv
import gc
import json

import pytest

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.note_review import ACCEPTED, MANUAL, REJECTED, NoteReview, carry_decisions, lost_decisions
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
from tests.qt.test_notes_deid import NOTE, RegexDetector


@pytest.fixture
def ws(qtbot):
    det = RegexDetector()
    w = NotesWorkspace(ModelRegistry(), JobRunner(), engine_factory=lambda: det)
    qtbot.__dict__.setdefault("medpriv_keep", []).append(w)
    qtbot.addWidget(w, before_close_func=lambda x: (x.runner.wait(10000), gc.collect()))
    w.asked = []

    def answer(text):
        w.asked.append(text)
        return w.reply

    w.reply = True
    w.deid.confirm = answer
    return w


def _detect(qtbot, ws) -> bool:
    started = ws.deid.run_detection()
    if started:
        qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    return started


def _cursor(edit, offset):
    cur = edit.textCursor()
    cur.setPosition(offset)
    edit.setTextCursor(cur)


def _select(edit, start, end):
    cur = edit.textCursor()
    cur.setPosition(start)
    cur.setPosition(end, cur.MoveMode.KeepAnchor)
    edit.setTextCursor(cur)


def _review_note(qtbot, ws):
    """Detect, reject Dr. Holt, accept the first Anna Berg, mark the clinic."""
    ws.deid.set_text(NOTE)
    assert _detect(qtbot, ws)
    _cursor(ws.input_edit, NOTE.index("Holt") + 1)
    assert ws.deid.set_status_at_cursor(REJECTED)
    _cursor(ws.input_edit, NOTE.index("Anna") + 1)
    assert ws.deid.set_status_at_cursor(ACCEPTED)
    clinic = NOTE.index("Lakeside Clinic")
    _select(ws.input_edit, clinic, clinic + len("Lakeside Clinic"))
    assert ws.deid.mark_selection("HOSPITAL")


def _decisions(review: NoteReview) -> set[tuple[str, str]]:
    return {(review.text[it.span.start:it.span.end], it.status) for it in review.decisions()}


EXPECTED = {("Holt", REJECTED), ("Anna Berg", ACCEPTED), ("Lakeside Clinic", MANUAL)}


def test_rerun_keeps_every_decision_without_asking(qtbot, ws):
    _review_note(qtbot, ws)
    before = ws.deid.output_text
    assert _detect(qtbot, ws)
    assert _decisions(ws.deid.review) == EXPECTED and ws.asked == []
    assert ws.deid.output_text == before and "Dr. Holt" in before and "Lakeside" not in before


def test_edit_elsewhere_keeps_decisions_on_their_moved_text(qtbot, ws):
    _review_note(qtbot, ws)
    _cursor(ws.input_edit, 0)
    ws.input_edit.insertPlainText("Addendum, seen again.\n")
    assert ws.deid.review is None and "kept" in ws.deid.summary_label.text()
    assert _detect(qtbot, ws)
    assert ws.asked == [] and _decisions(ws.deid.review) == EXPECTED
    assert "Dr. Holt" in ws.deid.output_text and "Lakeside" not in ws.deid.output_text


def test_editing_a_decided_span_asks_before_discarding(qtbot, ws):
    _review_note(qtbot, ws)
    holt = ws.input_edit.toPlainText().index("Holt")
    _select(ws.input_edit, holt, holt + 4)
    ws.input_edit.insertPlainText("Hale")
    ws.reply = False  # keep my decisions
    assert not _detect(qtbot, ws)
    assert len(ws.asked) == 1 and "1 of your review decisions" in ws.asked[0]
    assert ws.deid.review is None  # nothing ran, nothing was replaced
    ws.reply = True
    assert _detect(qtbot, ws)
    kept = _decisions(ws.deid.review)
    assert kept == EXPECTED - {("Holt", REJECTED)}


def test_opening_another_note_asks_when_decisions_are_unsaved(qtbot, ws, tmp_path):
    _review_note(qtbot, ws)
    other = tmp_path / "other.txt"
    other.write_text("Seen 1/2/2020.")
    ws.reply = False
    ws.open_path(other)
    assert len(ws.asked) == 1 and ws.input_edit.toPlainText() == NOTE and ws.deid.review is not None
    ws.deid.save_output(tmp_path / "saved.txt")  # saved: nothing to lose any more
    ws.open_path(other)
    assert len(ws.asked) == 1 and ws.input_edit.toPlainText() == "Seen 1/2/2020."


@pytest.mark.parametrize("old, new, lost", [
    ("Anna Berg seen.", "Anna Berg seen.", 0),
    ("Anna Berg seen.", "Note. Anna Berg seen.", 0),
    ("Anna Berg seen.", "Anne Berg seen.", 1),
    ("Anna Berg seen.", "", 1),
])
def test_lost_decisions_counts_only_decisions_on_changed_text(old, new, lost):
    from medpriv_desktop.core.notes.spans import PhiSpan

    r = NoteReview.from_spans(old, [PhiSpan(0, 9, "PATIENT", 0.9, "names")])
    r.set_status(1, ACCEPTED)
    assert lost_decisions(r, new) == lost
    fresh = NoteReview.from_spans(new, [])
    assert carry_decisions(r, fresh) == lost
    assert len(fresh.decisions()) == 1 - lost


def test_reviewed_note_audit_counts_decisions_and_matches_the_batch_entry(qtbot, ws, tmp_path, medpriv_home):
    from medpriv_desktop.core.audit import AuditLog

    _review_note(qtbot, ws)
    ws.deid.save_output(tmp_path / "one.txt")
    single = json.loads(AuditLog().path.read_text(encoding="utf-8").splitlines()[-1])
    assert single["action"] == "notes.deid" and single["notes_done"] == 1
    assert single["reviewed"] == {"accepted": 1, "rejected": 1, "added": 1, "unreviewed": 4}
    assert "Anna" not in json.dumps(single) and "Lakeside" not in json.dumps(single)
    src = tmp_path / "folder"
    src.mkdir()
    (src / "a.txt").write_text(NOTE)
    ws.batch.set_source(src)
    with qtbot.waitSignal(ws.batch.batch_finished, timeout=5000):
        assert ws.batch.run_batch()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    batch = json.loads(AuditLog().path.read_text(encoding="utf-8").splitlines()[-1])
    assert batch["action"] == "notes.deid" and batch["reviewed"]["accepted"] == 0
    assert set(batch) == set(single)  # one entry shape for batch and single runs


def test_batch_lists_every_note_with_counts_and_opens_one_for_review(qtbot, ws, tmp_path):
    src = tmp_path / "notes"
    src.mkdir()
    (src / "a.txt").write_text(NOTE)
    (src / "b.txt").write_text("Seen 1/2/2020. No PHI otherwise.")
    (src / "c.txt").write_text("Nothing to hide here.")
    (src / "d.txt").write_bytes(b"\x00\x01 binary")
    ws.open_path(src)
    ws.batch.operator_combo.setCurrentIndex(ws.batch.operator_combo.findData("surrogate"))
    with qtbot.waitSignal(ws.batch.batch_finished, timeout=5000):
        assert ws.batch.run_batch()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    assert ws.batch.item_names() == ["a.txt", "b.txt", "c.txt", "d.txt"]
    table = ws.batch.files_table
    rows = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text(), table.item(r, 3).text())
            for r in range(table.rowCount())}
    assert rows["a.txt"] == ("done", "6", "NAME 3, DATE 2, PHONE 1")
    assert rows["b.txt"][:2] == ("done", "1") and rows["c.txt"][:2] == ("done", "0")
    assert rows["d.txt"][0].startswith("failed")
    # Open a.txt for review: the same operator and patient, so the review pane shows exactly the batch's output.
    table.cellDoubleClicked.emit(0, 0)
    qtbot.waitUntil(lambda: not ws.runner.busy and ws.deid.review is not None, timeout=5000)
    assert ws.tabs.currentWidget() is ws.deid and ws.deid.operator == "surrogate"
    out = (ws.batch.run.output / "a.txt").read_text()
    assert ws.deid.output_text == out
    # A failed note cannot be opened (one sentence instead).
    assert not ws.batch.open_for_review(3)


def test_csv_batch_rows_open_with_the_rows_patient(qtbot, ws, tmp_path):
    src = tmp_path / "notes.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["note_id", "text"])
        w.writerow(["N1", "Seen 1/2/2020 by Dr. Holt."])
        w.writerow(["N2", NOTE])
    ws.open_path(src)
    ws.batch.operator_combo.setCurrentIndex(ws.batch.operator_combo.findData("date-shift"))
    with qtbot.waitSignal(ws.batch.batch_finished, timeout=5000):
        ws.batch.run_batch()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    assert ws.batch.item_names() == ["row 1", "row 2"]
    assert ws.batch.open_for_review(1)
    qtbot.waitUntil(lambda: not ws.runner.busy and ws.deid.review is not None, timeout=5000)
    written = list(csv.DictReader(open(ws.batch.run.output, newline="")))
    assert ws.deid.output_text == written[1]["text"]
