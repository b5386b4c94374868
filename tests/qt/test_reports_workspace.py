"""Reports workspace: classify as a job, bars with thresholds, evidence highlighted in the text, privacy line, the
rule labeler as a second opinion with disagreements, batch to CSV, errors. A tiny ONNX word-score model built here
(no torch) stands in for a trained bundle."""

from __future__ import annotations

import csv
import gc
import json
from pathlib import Path

import numpy as np
import pytest

from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.gui.notify import notifications
from medpriv_desktop.gui.reports.bars import DISAGREE_COLOUR, POSITIVE_COLOUR
from medpriv_desktop.gui.workspaces.reports import ReportsWorkspace

LABELS = ["Cardiomegaly", "Pleural Effusion", "Pneumothorax", "Fracture"]
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "heart", "is", "enlarged", "no", "pleural", "effusion",
         "pneumothorax", "lungs", "are", "clear", ".", "findings", ":", "impression", "small", "cardiomegaly"]
REPORT = ("FINDINGS: The heart is enlarged. No pleural effusion. Lungs are clear.\n"
          "IMPRESSION: Cardiomegaly.")


def build_tiny_report_bundle(root: Path, model_id: str = "cxr-tiny-gui") -> Path:
    """A report-classification bundle: logits = mean over tokens of a word->label score table + bias.

    'enlarged'/'cardiomegaly' push Cardiomegaly, 'effusion' pushes Pleural Effusion even when negated (so the
    rule labeler, which reads negation, disagrees), Fracture is marked unsupported.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    from medpriv_desktop.core.models.registry import sha256_file

    b = root / model_id
    b.mkdir(parents=True)
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tok.save(str(b / "tokenizer.json"))
    table = np.zeros((len(WORDS), len(LABELS)), dtype=np.float32)
    table[WORDS.index("enlarged"), 0] = table[WORDS.index("cardiomegaly"), 0] = 100.0
    table[WORDS.index("effusion"), 1] = 100.0
    table[WORDS.index("pneumothorax"), 2] = 100.0
    bias = np.full(len(LABELS), -1.5, dtype=np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["emb"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["emb", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["mean"]),
        helper.make_node("Add", ["mean", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_gui_report_model",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(LABELS)])],
        initializer=[numpy_helper.from_array(table, "table"), numpy_helper.from_array(bias, "bias"),
                     numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
                     numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(b / "model.onnx"))
    labels = [{"value": 0, "name": "Cardiomegaly", "threshold": 0.5},
              {"value": 1, "name": "Pleural Effusion", "threshold": 0.6},
              {"value": 2, "name": "Pneumothorax", "threshold": 0.4},
              {"value": 3, "name": "Fracture", "supported": False, "unsupported_reason": "no positives"}]
    card = {"id": model_id, "title": "Tiny chest X-ray test model", "version": "0.0.1",
            "task": "report-classification", "intended_use": "tests only; not for diagnostic use", "license": "MIT",
            "sha256": sha256_file(b / "model.onnx"),
            "text_input": {"max_tokens": 32, "stride": 8, "sections": ["findings", "impression"]},
            "outputs": {"label_set": "CheXpert", "labels": labels, "activation": "sigmoid"},
            "privacy": {"epsilon": 8.0, "delta": 1e-5, "accountant": "prv", "noise_multiplier": 0.9,
                        "max_grad_norm": 1.0, "sampling_rate": 0.01, "epochs": 3, "n_train": 1000},
            "training": {"datasets": [{"name": "generated", "license": "MIT", "synthetic": True}],
                         "command": "tests", "date": "2026-11-23"}}
    (b / "model_card.json").write_text(json.dumps(card))
    return b


@pytest.fixture
def workspace(qtbot, medpriv_home):
    build_tiny_report_bundle(medpriv_home / "site_models")
    ws = ReportsWorkspace(ModelRegistry(bundled_dir=medpriv_home / "no_bundled"), JobRunner())
    # Keep the workspace (and its runner) alive until teardown, which waits for the job thread to end.
    qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
    qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
    ws.refresh_models()
    ws.resize(1300, 800)
    return ws


def _classify(qtbot, ws, text=REPORT):
    ws.report_edit.setPlainText(text)
    assert ws.classify()
    qtbot.waitUntil(lambda: not ws.runner.busy and ws.result is not None, timeout=10000)
    return ws.result


def test_model_list_privacy_and_banner(workspace):
    assert workspace.banner.isHidden()
    assert workspace.model_combo.count() == 1
    assert workspace.model_combo.currentText().startswith("[Chest X-ray]")
    text = workspace.result_panel.privacy_label.text()
    assert "ε = 8.00" in text and "δ = 1e-5" in text
    assert "PRV accountant" in workspace.result_panel.privacy_label.toolTip()


def test_classify_bars_thresholds_and_evidence(qtbot, workspace):
    res = _classify(qtbot, workspace)
    pred = res.prediction
    assert pred.decisions["Cardiomegaly"] == 1 and pred.probabilities["Fracture"] is None
    bars = workspace.result_panel.bars
    assert [r.label for r in bars.rows] == LABELS
    # Threshold ticks sit at threshold * bar width.
    i = LABELS.index("Pleural Effusion")
    assert bars.threshold_x(i) == pytest.approx(bars.bar_rect(i).left() + 0.6 * bars.BAR_W)
    assert bars.threshold_x(LABELS.index("Fracture")) is None
    # The painted bar of a positive label is red at its start.
    img = bars.grab().toImage()
    r0 = bars.bar_rect(0)
    assert img.pixelColor(int(r0.left()) + 3, int(r0.center().y())).name() == POSITIVE_COLOUR.name()
    # Evidence sentences are highlighted in the report text.
    sels = workspace.report_edit.extraSelections()
    spans = {REPORT[s.cursor.selectionStart():s.cursor.selectionEnd()] for s in sels}
    assert any("enlarged" in s or "Cardiomegaly" in s for s in spans)
    assert workspace.result_panel.evidence_list.count() >= 1
    # Selecting a label shows only its evidence.
    workspace.result_panel.bars.select("Cardiomegaly")
    only = [REPORT[s.cursor.selectionStart():s.cursor.selectionEnd()] for s in workspace.report_edit.extraSelections()]
    ev = [REPORT[e.start:e.end] for e in pred.evidence["Cardiomegaly"]]
    assert sorted(only) == sorted(ev)
    # Clicking an evidence line selects its label the same way.
    lst = workspace.result_panel.evidence_list
    row = next(i for i in range(lst.count()) if lst.item(i).text().startswith("Pleural Effusion"))
    lst.itemClicked.emit(lst.item(row))
    assert workspace.result_panel.bars.selected == "Pleural Effusion"


def test_second_opinion_disagreement_is_highlighted(qtbot, workspace):
    res = _classify(qtbot, workspace)
    # The model reads 'No pleural effusion' as effusion; the rule labeler sees the negation.
    assert res.prediction.decisions["Pleural Effusion"] == 1
    assert res.rules.values["Pleural Effusion"] == 0 and res.rules.values["Cardiomegaly"] == 1
    assert res.disagreements() == ["Pleural Effusion"]
    bars = workspace.result_panel.bars
    i = LABELS.index("Pleural Effusion")
    assert bars.rows[i].disagree and not bars.rows[0].disagree
    img = bars.grab().toImage()
    assert img.pixelColor(bars.width() - 5, int(bars.bar_rect(i).center().y())).name() == DISAGREE_COLOUR.name()
    assert "disagrees on 1" in workspace.result_panel.agreement_label.text()
    workspace.rules_check.setChecked(False)
    res = _classify(qtbot, workspace, REPORT + " ")
    assert res.rules is None and not any(r.disagree for r in workspace.result_panel.bars.rows)


def test_editing_clears_result_and_errors_are_one_message(qtbot, workspace, tmp_path):
    _classify(qtbot, workspace)
    workspace.report_edit.insertPlainText("x")
    assert workspace.result is None and workspace.report_edit.extraSelections() == []
    before = len(notifications().history)
    workspace.report_edit.setPlainText("   ")
    assert not workspace.classify()
    bad = tmp_path / "r.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    workspace.open_path(bad)
    msgs = notifications().history[before:]
    assert [m.level for m in msgs] == ["error", "error"]
    assert "empty" in msgs[0].text and "r.txt" in msgs[1].text and "UTF-8" in msgs[1].text


def test_batch_csv_to_output_with_progress(qtbot, workspace, tmp_path):
    src = tmp_path / "reports.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", "text"])
        w.writerow(["R1", REPORT])
        w.writerow(["R2", "FINDINGS: Lungs are clear."])
        w.writerow(["R3", "FINDINGS: Small pneumothorax."])
    workspace.open_path(src)
    assert workspace.tabs.currentWidget() is workspace.batch
    assert workspace.batch.text_combo.currentText() == "text"
    assert workspace.batch.id_combo.currentData() == "report_id"
    progress = []
    workspace.runner.progressed.connect(lambda p: progress.append(p.fraction))
    with qtbot.waitSignal(workspace.batch.batch_finished, timeout=10000) as sig:
        assert workspace.batch.run_batch()
    assert sig.args[0].n_reports == 3
    assert any(f is not None and f >= 1.0 for f in progress)
    # proposed in the user output folder, never beside the input (changed for issue 21, item 4)
    rows = list(csv.DictReader(open(workspace.batch.output_edit.text())))
    assert Path(workspace.batch.output_edit.text()).parent != tmp_path
    assert [r["report_id"] for r in rows] == ["R1", "R2", "R3"]
    assert rows[0]["Cardiomegaly"] == "1" and rows[1]["Cardiomegaly"] == "0" and rows[2]["Pneumothorax"] == "1"
    assert "Cardiomegaly probability" in rows[0]
    table = {workspace.batch.table.item(r, 0).text(): workspace.batch.table.item(r, 1).text()
             for r in range(workspace.batch.table.rowCount())}
    assert table["Pneumothorax"] == "1"


def test_no_model_installed(qtbot, medpriv_home):
    ws = ReportsWorkspace(ModelRegistry(bundled_dir=medpriv_home / "no_bundled"), JobRunner())
    # Keep the workspace (and its runner) alive until teardown, which waits for the job thread to end.
    qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
    qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
    ws.refresh_models()
    assert not ws.banner.isHidden() and not ws.classify_button.isEnabled()
    before = len(notifications().history)
    ws.report_edit.setPlainText(REPORT)
    assert not ws.classify()
    assert "no report-classification model" in notifications().history[before].text


def test_privacy_line_and_modality_for_other_cards(medpriv_home):
    from types import SimpleNamespace

    from medpriv_desktop.core.models.card import Privacy
    from medpriv_desktop.core.app.report_jobs import modality_of
    from medpriv_desktop.core.app.report_privacy import privacy_summary

    none_card = SimpleNamespace(privacy=None)
    assert privacy_summary(none_card)[0] == "No differential-privacy guarantee"
    inf = Privacy(epsilon=None, delta=1e-5, accountant="rdp", noise_multiplier=0.0, max_grad_norm=1.0,
                  sampling_rate=0.1, epochs=1, n_train=10)
    assert "∞" in privacy_summary(SimpleNamespace(privacy=inf))[0]
    small = inf.model_copy(update={"epsilon": 9.9583, "delta": 0.000168})
    assert privacy_summary(SimpleNamespace(privacy=small))[0] == "ε = 9.96, δ = 1.7e-4"
    ct = SimpleNamespace(id="ctrate-dp-lora", outputs=SimpleNamespace(label_set="CT-RATE"))
    cxr = SimpleNamespace(id="cxr-dp-lora", outputs=SimpleNamespace(label_set="CheXpert"))
    assert modality_of(ct) == "Chest CT" and modality_of(cxr) == "Chest X-ray"
