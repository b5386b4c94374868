"""Notes workspace, Synthesize tab: a synthetic note beside its keywords, privacy check and quality; the batch
assessment with its occurrence chart. The template engine (no model) and a regex detector keep it fast."""

from __future__ import annotations

import gc

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notes.chart import METHOD_COLOURS
from medpriv_desktop.core.app.synth_jobs import synthesize_one
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
from tests.qt.test_notes_deid import NOTE, RegexDetector

LONG_NOTE = NOTE + ("Patient Anna Berg reports shortness of breath and chest pain overnight; started furosemide. "
                    "Exam notable for crackles and bilateral edema. Plan: daily weights, monitor potassium.\n")


def _workspace(qtbot):
    det = RegexDetector()
    ws = NotesWorkspace(ModelRegistry(), JobRunner(), engine_factory=lambda: det)
    # Keep the workspace (and its runner) alive until teardown, which waits for the job thread to end.
    qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
    qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
    ws.resize(1200, 800)
    return ws


def _run(gen):
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def test_keyword_synthesis_shows_keywords_privacy_and_quality(qtbot):
    ws = _workspace(qtbot)
    ws.deid.set_text(LONG_NOTE)
    synth = ws.synth
    synth.refresh_engines()
    assert "template" in [synth.engine_combo.itemText(i) for i in range(synth.engine_combo.count())]
    synth.method_combo.setCurrentIndex(synth.method_combo.findData("keyword"))
    with qtbot.waitSignal(synth.synthesized, timeout=20000) as sig:
        assert synth.generate()
    res = sig.args[0]
    out = synth.synthetic_edit.toPlainText()
    assert out == res.synthetic and out.strip()
    for phi in ("Anna Berg", "3/14/2019", "555-201-3344"):
        assert phi not in out
    assert synth.keyword_list.count() == len(res.keywords) > 0
    assert all("anna" not in k.text and "berg" not in k.text for k in res.keywords)
    # the message says what it checked and recommends review (changed for issue 21, item 7)
    assert "None of the" in synth.privacy_label.text() and "review the note" in synth.privacy_label.text()
    assert "ROUGE-1" in synth.quality_label.text() and 0.0 <= res.quality["rouge1"] <= 1.0


def test_reviewed_source_needs_a_review(qtbot):
    from medpriv_desktop.gui.notify import notifications

    ws = _workspace(qtbot)
    ws.deid.set_text(LONG_NOTE)
    ws.synth.source_combo.setCurrentIndex(ws.synth.source_combo.findData("reviewed"))
    before = len(notifications().history)
    assert not ws.synth.generate()
    assert "De-identify first" in notifications().history[before].text


def test_privacy_check_catches_copied_phi():
    # One-shot on the raw note: the template engine copies source sentences, names and dates with them.
    det = RegexDetector()
    res = _run(synthesize_one(LONG_NOTE, "one-shot", "template", lambda: det, source_mode="raw",
                              with_cosine=False))
    assert "Anna Berg" in res.synthetic
    assert res.leaked.get("NAME", 0) >= 1
    res_kw = _run(synthesize_one(LONG_NOTE, "keyword", "template", lambda: det, with_cosine=False))
    assert not any(res_kw.leaked.values())


def test_batch_assessment_chart_per_category_per_method(qtbot, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(3):
        (folder / f"n{i}.txt").write_text(LONG_NOTE)
    ws = _workspace(qtbot)
    ws.open_path(folder)
    synth = ws.synth
    assert synth.batch_source_edit.text() == str(folder)
    synth.method_checks["normalized"].setChecked(False)
    with qtbot.waitSignal(synth.assessed, timeout=30000) as sig:
        assert synth.assess()
    result = sig.args[0]
    chart = synth.chart
    assert chart.methods == ["keyword/tagged", "one-shot/raw"]
    assert "NAME" in chart.categories and "DATE" in chart.categories
    name = chart.categories.index("NAME")
    assert chart.rates[0][name] == 0.0 and chart.rates[1][name] > 0.0
    assert result["configs"]["one-shot/raw"]["privacy"]["categories"]["NAME"]["notes_leaking"] >= 1
    img = chart.grab().toImage()
    bar = chart.bar_rect(1, name)
    assert bar.height() > 5
    px = img.pixelColor(int(bar.center().x()), int(bar.bottom()) - 2)
    assert px.name() == METHOD_COLOURS[1]
    assert synth.table.columnCount() == 2 and synth.table.item(0, 0).text() == "3"


def test_write_batch_of_synthetic_notes(qtbot, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(2):
        (folder / f"n{i}.txt").write_text(LONG_NOTE)
    ws = _workspace(qtbot)
    ws.synth.set_batch_source(folder)
    out = tmp_path / "synthetic"
    with qtbot.waitSignal(ws.synth.batch_written, timeout=30000) as sig:
        assert ws.synth.write_batch(out)
    assert sig.args[0].written == 2
    written = sorted(p.name for p in out.glob("*.txt"))
    assert written == ["n0.txt", "n1.txt"]
    assert all("Anna Berg" not in (out / n).read_text() for n in written)
    assert "2 synthetic notes written" in ws.synth.batch_status.text()


def test_surrogate_source_mode(qtbot):
    ws = _workspace(qtbot)
    ws.deid.set_text(LONG_NOTE)
    synth = ws.synth
    synth.source_combo.setCurrentIndex(synth.source_combo.findData("surrogate"))
    synth.method_combo.setCurrentIndex(synth.method_combo.findData("one-shot"))
    with qtbot.waitSignal(synth.synthesized, timeout=20000) as sig:
        assert synth.generate()
    res = sig.args[0]
    # One-shot copies its context; the context held surrogates, so the real name and phone cannot appear.
    assert "Anna Berg" not in res.synthetic and "555-201-3344" not in res.synthetic
    assert not res.leaked.get("NAME") and not res.leaked.get("PHONE")
