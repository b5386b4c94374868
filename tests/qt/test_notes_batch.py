"""Notes workspace, batch: a folder or CSV routed to the Batch tab, the job's counts table, outputs, Cancel."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.output_paths import user_output_dir
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
from tests.qt.test_notes_deid import NOTE, RegexDetector


def _workspace(qtbot, det):
    ws = NotesWorkspace(ModelRegistry(), JobRunner(), engine_factory=lambda: det)
    # Keep the workspace (and its runner) alive until teardown, which waits for the job thread to end.
    qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
    qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
    return ws


def test_folder_batch_counts_and_outputs(qtbot, tmp_path):
    src = tmp_path / "notes"
    src.mkdir()
    (src / "a.txt").write_text(NOTE)
    (src / "b.txt").write_text("Seen 1/2/2020. No PHI otherwise.")
    (src / "c.txt").write_text("Nothing to hide here.")
    ws = _workspace(qtbot, RegexDetector())
    ws.open_path(src)
    assert ws.tabs.currentWidget() is ws.batch
    # the output goes to the user output folder, never beside the input (changed for issue 21, item 4)
    out = Path(ws.batch.output_edit.text())
    assert out.name == "notes_deid" and out.parent == user_output_dir() and src.parent != out.parent
    with qtbot.waitSignal(ws.batch.batch_finished, timeout=5000) as sig:
        assert ws.batch.run_batch()
    result = sig.args[0]
    assert result.done == 3 and not result.failed
    assert ws.batch.table_counts() == {"NAME": 3, "DATE": 3, "PHONE": 1}
    assert dict(result.counts) == ws.batch.table_counts()
    assert sorted(p.name for p in out.glob("*.txt")) == ["a.txt", "b.txt", "c.txt"]
    # the window's batch writes the same audit entry as `medpriv deid` (action, counts, no text)
    import json

    from medpriv_desktop.core.audit import AuditLog

    last = json.loads(AuditLog().path.read_text(encoding="utf-8").splitlines()[-1])
    assert last["action"] == "notes.deid" and last["notes_done"] == 3 and "Anna" not in json.dumps(last)
    assert "Anna" not in (out / "a.txt").read_text() and "[DATE]" in (out / "b.txt").read_text()
    assert (out / "c.txt").read_text() == "Nothing to hide here."


def test_csv_batch_replaces_only_the_text_column(qtbot, tmp_path):
    src = tmp_path / "notes.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["note_id", "text"])
        w.writerow(["N1", NOTE])
        w.writerow(["N2", "Seen 1/2/2020."])
    ws = _workspace(qtbot, RegexDetector())
    ws.open_path(src)
    assert ws.batch.column_combo.currentText() == "text"
    ws.batch.operator_combo.setCurrentIndex(ws.batch.operator_combo.findData("mask"))
    with qtbot.waitSignal(ws.batch.batch_finished, timeout=5000):
        ws.batch.run_batch()
    rows = list(csv.DictReader(open(user_output_dir() / "notes_deid.csv")))
    assert [r["note_id"] for r in rows] == ["N1", "N2"]
    assert "Anna" not in rows[0]["text"] and "****" in rows[0]["text"]


def test_cancel_keeps_finished_notes_and_rerun_resumes(qtbot, tmp_path):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(40):
        (src / f"n{i:02d}.txt").write_text(NOTE)
    det = RegexDetector(delay=0.05)
    ws = _workspace(qtbot, det)
    ws.open_path(src)
    with qtbot.waitSignal(ws.runner.cancelled, timeout=10000):
        ws.batch.run_batch()
        qtbot.waitUntil(lambda: det.calls >= 2, timeout=5000)
        ws.batch.cancel_button.click()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    assert det.calls < 40
    out = Path(ws.batch.output_edit.text())
    written = sorted(out.glob("*.txt"))
    assert len(written) < 40
    assert all("Anna" not in p.read_text() and "[NAME]" in p.read_text() for p in written)  # no half-written note
    assert "Cancelled" in ws.batch.status_label.text()
    assert ws.batch.run_button.isEnabled()
    det.delay = 0.0
    with qtbot.waitSignal(ws.batch.batch_finished, timeout=10000) as sig:
        ws.batch.run_batch()
    assert sig.args[0].already_done == len(written) and sig.args[0].done == 40 - len(written)
    assert len(list(out.glob("*.txt"))) == 40


def test_missing_text_column_is_one_clear_error(qtbot, tmp_path):
    from medpriv_desktop.gui.notify import notifications

    src = tmp_path / "x.csv"
    src.write_text("id,body\n1,hello\n")
    ws = _workspace(qtbot, RegexDetector())
    ws.batch.set_source(src)
    ws.batch.column_combo.clear()
    ws.batch.column_combo.addItem("nope")
    before = len(notifications().history)
    ws.batch.run_batch()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    msgs = notifications().history[before:]
    assert len(msgs) == 1 and "nope" in msgs[0].text and "x.csv" in msgs[0].text


def test_long_batch_signal_emits_do_not_crash_the_process():
    """PySide6 6.12 takes a reference from True per emit(); the workspace's guard keeps a long session alive."""
    import subprocess
    import sys

    code = ("from PySide6.QtCore import QCoreApplication, QObject, Signal\n"
            "from medpriv_desktop.gui.qt_compat import guard_bool_refcounts\n"
            "app = QCoreApplication([])\n"
            "class A(QObject):\n    s = Signal(object)\n"
            "guard_bool_refcounts()\n"
            "a = A()\n"
            "for i in range(20000):\n    a.s.emit(i)\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-500:]
