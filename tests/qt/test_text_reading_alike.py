"""One file, one verdict: notes, synthesis, reports and the GUI panes read text by the same rules (issue 20, item 4).

The same bytes go through every place the app reads a note or report: the de-identification batch
(``deidentify_folder``), the synthesis batch (``synthesize_notes``), the reports reader (``read_reports``, what
``medpriv classify`` and the Reports batch use) and the Notes and Reports windows (``open_path``). Each must give the
same text, or refuse with the same reason. Before the one reader, a UTF-16 note was de-identified but refused by the
Reports window, and a cp1252 report got a different message in each workspace.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.text.reading import MAX_TEXT_BYTES

TEXT = "Seen by Dr. Quill on 3/4/2020.\nPlan: rest, fluids; caf\u00e9 diet.\n"


def _cases() -> list[tuple[str, bytes, str | None]]:
    """(name, bytes, expected reason fragment or None for "reads as TEXT")."""
    return [
        ("utf8", TEXT.encode("utf-8"), None),
        ("utf8_bom", b"\xef\xbb\xbf" + TEXT.encode("utf-8"), None),
        ("utf16", TEXT.encode("utf-16"), None),
        ("cp1252", TEXT.encode("cp1252"), "not UTF-8"),
        ("binary", bytes(range(256)) * 4, "binary file"),
        ("too_big", b"a" * (MAX_TEXT_BYTES + 1), "larger than the 16.0 MB limit"),
        ("empty", b"", "file is empty"),
        ("blank", b"  \n\t\n", "file is empty"),
    ]


class _Spy:
    """A PHI detector that finds nothing and remembers the texts it was given."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def analyze(self, text: str) -> list:
        self.texts.append(text)
        return []

    analyze_many = None  # the batch then calls analyze per note


def _outcome(fn) -> tuple[str, str]:
    try:
        return ("text", fn())
    except InputError as exc:
        return ("error", exc.reason)


def _via_deid(folder: Path, out: Path) -> tuple[str, str]:
    from medpriv_desktop.core.notes.batch import deidentify_folder

    summary = run_job(deidentify_folder(folder, out, _Spy, "tag"))
    if summary.failed:
        return ("error", summary.failed[0][1])
    return ("text", next(out.glob("*.txt")).read_bytes().decode("utf-8"))


def _via_synth(folder: Path, out: Path) -> tuple[str, str]:
    from medpriv_desktop.core.notes.synth.batch import synthesize_notes
    from medpriv_desktop.core.notes.synth.engines import get_engine

    spy = _Spy()
    summary = run_job(synthesize_notes(folder, out, get_engine("template"), spy))
    if summary.failed:
        return ("error", summary.failed[0][1])
    return ("text", spy.texts[0])


def _via_gui(ws, path: Path, read_back) -> tuple[str, str]:
    from medpriv_desktop.gui.notify import notifications

    before = len(notifications().history)
    ws.open_path(path)
    new = notifications().history[before:]
    if new:
        return ("error", new[-1].text)
    return ("text", read_back())


@pytest.fixture
def panes(qtbot, medpriv_home):
    from medpriv_desktop.gui.jobs import JobRunner
    from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
    from medpriv_desktop.gui.workspaces.reports import ReportsWorkspace

    registry = ModelRegistry(bundled_dir=medpriv_home / "no_bundled")
    made = []
    for ws in (NotesWorkspace(registry, JobRunner(), engine_factory=_Spy),
               ReportsWorkspace(registry, JobRunner())):
        qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
        qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
        made.append(ws)
    return made


@pytest.mark.parametrize("name,data,refusal", _cases(), ids=[c[0] for c in _cases()])
def test_every_reader_gives_the_same_verdict(tmp_path, panes, name, data, refusal):
    from medpriv_desktop.core.reports.batch import read_reports

    notes_ws, reports_ws = panes
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / f"{name}.txt"
    path.write_bytes(data)
    results = {
        "deid": _via_deid(folder, tmp_path / "deid"),
        "synth": _via_synth(folder, tmp_path / "synth"),
        "reports": _outcome(lambda: read_reports(path).texts[0]),
        # the panes show text in a Qt editor, which keeps "\n" line breaks as they are
        "notes window": _via_gui(notes_ws, path, notes_ws.input_edit.toPlainText),
        "reports window": _via_gui(reports_ws, path, reports_ws.report_edit.toPlainText),
    }
    kinds = {k: v[0] for k, v in results.items()}
    if refusal is None:
        assert kinds == dict.fromkeys(results, "text"), results
        assert {k: v[1] for k, v in results.items()} == dict.fromkeys(results, TEXT)
        return
    assert kinds == dict.fromkeys(results, "error"), {k: v[0] for k, v in results.items()}
    reasons = {results[k][1] for k in ("deid", "synth", "reports")}
    assert len(reasons) == 1, reasons  # the very same sentence everywhere
    reason = reasons.pop()
    assert refusal in reason
    for k in ("notes window", "reports window"):
        assert reason in results[k][1] and path.name in results[k][1]
    assert "Quill" not in reason  # never the content
