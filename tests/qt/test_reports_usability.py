"""Issue 21, item 4 in the window: "not assessed" instead of 0, the threshold comparison beside each bar, evidence for
negative labels, the model that fits the report, several text columns, the user output folder, decimal-comma CSV."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import pytest

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.reports.classifier import Evidence, ReportPrediction
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.output_paths import user_output_dir
from medpriv_desktop.core.app.report_jobs import ReportResult
from medpriv_desktop.core.app.report_choice import CHEST_CT, CHEST_XRAY, guess_report_modality
from medpriv_desktop.gui.workspaces.reports import ReportsWorkspace
from tests.qt.test_reports_workspace import LABELS, REPORT, build_tiny_report_bundle

CT_REPORT = "FINDINGS: Axial CT images of the chest with contrast. The heart is enlarged.\nIMPRESSION: Cardiomegaly."
XRAY_REPORT = "FINDINGS: PA and lateral radiographs. The heart is enlarged.\nIMPRESSION: Cardiomegaly."


@pytest.fixture
def ws(qtbot, medpriv_home):
    build_tiny_report_bundle(medpriv_home / "site_models")  # cxr-tiny-gui: a chest X-ray model
    build_tiny_report_bundle(medpriv_home / "site_models", "ctrate-tiny-gui")  # read as a chest CT model
    w = ReportsWorkspace(ModelRegistry(bundled_dir=medpriv_home / "no_bundled"), JobRunner())
    qtbot.__dict__.setdefault("medpriv_keep", []).append(w)
    qtbot.addWidget(w, before_close_func=lambda x: (x.runner.wait(10000), gc.collect()))
    w.refresh_models()
    w.resize(1300, 800)
    return w


def _classify(qtbot, ws, text=REPORT):
    ws.report_edit.setPlainText(text)
    assert ws.classify()
    qtbot.waitUntil(lambda: not ws.runner.busy and ws.result is not None, timeout=10000)
    return ws.result


def test_bars_state_the_threshold_and_not_assessed(qtbot, ws):
    _classify(qtbot, ws)
    rows = {r.label: r for r in ws.result_panel.bars.rows}
    assert rows["Cardiomegaly"].status_text().startswith(f"{rows['Cardiomegaly'].probability:.2f} ≥ 0.50")
    assert "POSITIVE" in rows["Cardiomegaly"].status_text()
    assert rows["Pneumothorax"].status_text() == f"{rows['Pneumothorax'].probability:.2f} < 0.40  negative"
    assert rows["Fracture"].status_text() == "not assessed" and not rows["Fracture"].assessed
    assert "1 label(s) not assessed" in ws.result_panel.model_label.text()


def test_empty_report_is_not_assessed_rather_than_negative(qtbot, ws):
    empty = ReportPrediction({lb: None for lb in LABELS}, {lb: 0 for lb in LABELS}, empty=True)
    res = ReportResult("cxr-tiny-gui", LABELS, [0.5, 0.6, 0.4, None], empty)
    ws.result_panel.show_result(res, "")
    assert all(r.status_text() == "not assessed" for r in ws.result_panel.bars.rows)
    assert all(ws.result_panel.bars.threshold_x(i) is None for i in range(len(LABELS)))


def test_negative_label_shows_its_evidence(qtbot, ws):
    text = "FINDINGS: Lungs are clear. Small pneumothorax not excluded."
    start = text.index("Small")
    pred = ReportPrediction({"Cardiomegaly": 0.1, "Pleural Effusion": 0.2, "Pneumothorax": 0.3, "Fracture": None},
                            {"Cardiomegaly": 0, "Pleural Effusion": 0, "Pneumothorax": 0, "Fracture": 0},
                            {"Pneumothorax": [Evidence("Pneumothorax", start, len(text), 0.25)]})
    ws.report_edit.setPlainText(text)
    ws._on_classified(text, ReportResult("cxr-tiny-gui", LABELS, [0.5, 0.6, 0.4, None], pred))
    assert ws.result_panel.evidence_list.count() == 0  # no positive label: nothing highlighted yet
    ws.result_panel.bars.setFocus()
    for _ in range(3):  # Up/Down walk the labels: Cardiomegaly, Pleural Effusion, Pneumothorax
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.keyClick(ws.result_panel.bars, Qt.Key.Key_Down)
    assert ws.result_panel.bars.selected == "Pneumothorax"
    lines = [ws.result_panel.evidence_list.item(i).text() for i in range(ws.result_panel.evidence_list.count())]
    assert lines == ["Pneumothorax: Small pneumothorax not excluded.   (probability 0.25 lower without it)"]
    spans = [text[s.cursor.selectionStart():s.cursor.selectionEnd()] for s in ws.report_edit.extraSelections()]
    assert spans == ["Small pneumothorax not excluded."]
    ws.result_panel.bars.select("Cardiomegaly")
    assert "no sentence raises" in ws.result_panel.evidence_list.item(0).text()


@pytest.mark.parametrize("text, modality", [(CT_REPORT, CHEST_CT), (XRAY_REPORT, CHEST_XRAY), (REPORT, None),
                                            ("Portable AP chest film. Lines in place.", CHEST_XRAY),
                                            ("Non-contrast CT. Ground-glass opacity, 4 mm.", CHEST_CT)])
def test_report_words_tell_chest_ct_from_chest_xray(text, modality):
    assert guess_report_modality(text).modality == modality


def test_model_follows_the_report_and_the_setting(qtbot, ws, tmp_path, medpriv_home):
    from medpriv_desktop.core.settings import load_settings, save_settings

    for name, text in (("ct.txt", CT_REPORT), ("cxr.txt", XRAY_REPORT)):
        (tmp_path / name).write_text(text)
    ws.open_path(tmp_path / "ct.txt")
    assert ws.model_combo.currentData() == "ctrate-tiny-gui" and "chest ct" in ws.choice_label.text()
    ws.open_path(tmp_path / "cxr.txt")
    assert ws.model_combo.currentData() == "cxr-tiny-gui"
    # Words that do not decide: the default report model of Preferences.
    s = load_settings()
    s.default_report_model = "ctrate-tiny-gui"
    save_settings(s)
    (tmp_path / "plain.txt").write_text(REPORT)
    ws.open_path(tmp_path / "plain.txt")
    assert ws.model_combo.currentData() == "ctrate-tiny-gui" and "Preferences" in ws.choice_label.text()
    # A model picked by hand stays for this report, even when its words say otherwise.
    ws.report_edit.setPlainText(CT_REPORT)
    ws.model_combo.setCurrentIndex(ws.model_combo.findData("cxr-tiny-gui"))
    ws.model_combo.activated.emit(ws.model_combo.currentIndex())
    assert ws.classify()
    qtbot.waitUntil(lambda: not ws.runner.busy and ws.result is not None, timeout=10000)
    assert ws.result.model_id == "cxr-tiny-gui"


def test_batch_joins_sections_writes_to_the_output_folder_for_the_locale(qtbot, ws, tmp_path):
    src = tmp_path / "data" / "openi.csv"
    src.parent.mkdir()
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["uid", "indication", "findings", "impression"])
        w.writerow(["1", "pneumothorax?", "Lungs are clear.", "Cardiomegaly."])
        w.writerow(["2", "cough", "The heart is enlarged.", ""])
    ws.open_path(src)
    b = ws.batch
    assert b.text_columns() == ["findings", "impression"]  # both sections read, the indication not
    out = Path(b.output_edit.text())
    assert out == user_output_dir() / "openi_labels.csv" and src.parent not in out.parents
    b.comma_check.setChecked(True)
    with qtbot.waitSignal(b.batch_finished, timeout=10000) as sig:
        assert b.run_batch()
    summary = sig.args[0]
    assert summary.positives["Cardiomegaly"] == 2 and summary.positives["Pneumothorax"] == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    row = dict(zip(header, lines[1].split(";")))
    assert row["Fracture"] == "" and row["Cardiomegaly"] == "1" and "," in row["Cardiomegaly probability"]
    cells = {b.table.item(r, 0).text(): b.table.item(r, 1).text() for r in range(b.table.rowCount())}
    assert cells["Fracture"].startswith("not assessed") and cells["Pneumothorax"] == "0"
