"""Issue 21, item 7: the reviewer edits the keyword list before Generate (typed keywords pass the PHI gate), and the
privacy message says what it checked ("none of the N detected PHI items") and asks for a review."""

from __future__ import annotations

import gc

import pytest

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.synth_jobs import SynthResult
from medpriv_desktop.gui.notes.synth_panel import privacy_message
from medpriv_desktop.gui.workspaces.notes import NotesWorkspace
from tests.qt.test_notes_deid import RegexDetector
from tests.qt.test_notes_synth import LONG_NOTE


@pytest.fixture
def ws(qtbot):
    det = RegexDetector()
    w = NotesWorkspace(ModelRegistry(), JobRunner(), engine_factory=lambda: det)
    qtbot.__dict__.setdefault("medpriv_keep", []).append(w)
    qtbot.addWidget(w, before_close_func=lambda x: (x.runner.wait(10000), gc.collect()))
    w.deid.set_text(LONG_NOTE)
    return w


def test_edited_keywords_drive_the_synthetic_note(qtbot, ws):
    synth = ws.synth
    with qtbot.waitSignal(synth.keywords_extracted, timeout=20000):
        assert synth.extract_keywords()
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=5000)
    extracted = synth.keywords()
    assert extracted and not synth.keywords_edited
    # Replace the list with the reviewer's own: one clinical word, one name, one number.
    synth.set_keywords(["pneumonia", "anna berg", "room 12"], edited=True)
    with qtbot.waitSignal(synth.synthesized, timeout=20000) as sig:
        assert synth.generate()
    res = sig.args[0]
    assert [k.text for k in res.keywords] == ["pneumonia"]  # the name and the number were refused by the gate
    assert res.refused_keywords == 2
    assert "pneumonia" in res.synthetic.lower() and "anna" not in res.synthetic.lower()
    assert synth.keywords() == ["pneumonia"]


def test_keyword_list_items_are_editable(qtbot, ws):
    from PySide6.QtCore import Qt

    ws.synth.set_keywords(["cough"])
    item = ws.synth.keyword_list.item(0)
    assert item.flags() & Qt.ItemFlag.ItemIsEditable
    item.setText("fever")
    assert ws.synth.keywords_edited and ws.synth.keywords() == ["fever"]
    ws.synth.add_keyword_button.click()
    ws.synth.keyword_list.item(1).setText("edema")
    assert ws.synth.keywords() == ["fever", "edema"]


def _res(present, leaked):
    return SynthResult("keyword", "template", "x", [], leaked, present, {}, {})


@pytest.mark.parametrize("present, leaked, reviewed, words", [
    ({"NAME": 2, "DATE": 1}, {}, False, ["None of the 3 detected PHI items", "NAME ×2", "could not be checked",
                                         "review the note"]),
    ({"NAME": 2}, {}, True, ["None of the 2 PHI items of the source as you reviewed them"]),
    ({}, {}, False, ["No PHI was detected in the source", "cannot show", "Review it"]),
    ({"NAME": 2}, {"NAME": 1}, False, ["PHI of the source occurred: NAME ×1", "Do not use"]),
])
def test_privacy_message_says_what_it_checked(present, leaked, reviewed, words):
    text = privacy_message(_res(present, leaked), reviewed)
    for w in words:
        assert w in text
    assert "No PHI of the source occurred" not in text
