"""Saved settings work end to end, through the CLI and the window (issue 20, item 5).

Each test saves a setting, runs the command or the workspace's job the way a user does, and checks something that
only holds when the setting was read: the operator and threshold of de-identification, the default report model,
the inference thread count of the de-identification and classification sessions. ``theme`` had no widget and no
reader: it is gone, and an old settings file that has it still loads.
"""

from __future__ import annotations

import gc
import json

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core import paths
from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.settings import Settings, load_settings, save_settings, settings_path

NOTE = "Pt seen by Dr. Quimbleford on 8/18/2019 for chest pain; call 410-555-1234. MRN 12345678. Lives in Springfield.\n"


def _last_entry() -> dict:
    return json.loads((paths.audit_dir() / "audit.jsonl").read_text().splitlines()[-1])


def _notes(folder):
    folder.mkdir()
    (folder / "n0.txt").write_text(NOTE)
    return folder


@pytest.fixture(autouse=True)
def _no_thread_override(monkeypatch):
    monkeypatch.delenv("MEDPRIV_ORT_THREADS", raising=False)


# -- de-identification: operator and threshold ---------------------------------------------------------------------

@pytest.mark.parametrize("operator,threshold,marker,counts", [
    ("tag", 0.0, "[PHONE]", {"DATE", "ID", "LOCATION", "NAME", "PHONE"}),
    ("mask", 0.0, "****", {"DATE", "ID", "LOCATION", "NAME", "PHONE"}),
    # the rule recognizers score a date 0.95, a name and a phone 0.9, an MRN 0.85: 0.92 keeps only the date
    ("tag", 0.92, "[DATE]", {"DATE"}),
])
def test_cli_deid_follows_the_saved_operator_and_threshold(tmp_path, capsys, operator, threshold, marker, counts):
    save_settings(Settings(deid_operator=operator, deid_threshold=threshold))
    src = _notes(tmp_path / "in")
    assert main(["deid", str(src), "-o", str(tmp_path / "out"), "--rules-only", "--quiet"]) == 0
    out = (tmp_path / "out" / "n0.txt").read_text()
    assert marker in out
    entry = _last_entry()
    assert entry["operator"] == operator and set(entry["counts"]) == counts
    if threshold:
        assert "410-555-1234" in out  # below the saved threshold: kept, as the user asked
    # an explicit option still wins over the saved default
    assert main(["deid", str(src), "-o", str(tmp_path / "out2"), "--rules-only", "--quiet",
                 "--operator", "tag", "--threshold", "0"]) == 0
    assert set(_last_entry()["counts"]) == {"DATE", "ID", "LOCATION", "NAME", "PHONE"}


def test_version_1_settings_do_not_raise_the_threshold(tmp_path):
    """Version 1 files saved an unused 0.5 on every Preferences OK; honouring it now would hide findings."""
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps({"version": 1, "deid_threshold": 0.5, "deid_operator": "mask",
                                           "theme": "dark"}))
    s = load_settings()
    assert s.deid_threshold == 0.0 and s.deid_operator == "mask" and s.version == 3
    assert "theme" not in Settings.model_fields
    save_settings(Settings(deid_threshold=0.5))
    assert load_settings().deid_threshold == 0.5  # a value saved since version 2 is the user's


@pytest.fixture
def notes_ws(qtbot, medpriv_home):
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.gui.jobs import JobRunner
    from medpriv_desktop.gui.workspaces.notes import NotesWorkspace

    def make():
        ws = NotesWorkspace(ModelRegistry.from_settings(load_settings()), JobRunner())
        qtbot.__dict__.setdefault("medpriv_keep", []).append(ws)
        qtbot.addWidget(ws, before_close_func=lambda w: (w.runner.wait(10000), gc.collect()))
        return ws

    return make


def test_window_deid_follows_the_saved_operator_threshold_and_threads(tmp_path, notes_ws):
    from medpriv_desktop.core.app.note_jobs import deidentify_batch, reset_default_engine

    save_settings(Settings(deid_operator="mask", deid_threshold=0.92, inference_threads=3))
    reset_default_engine()
    ws = notes_ws()
    assert ws.deid.operator == "mask" and ws.batch.operator_combo.currentData() == "mask"
    engine = ws.engine_factory()  # the engine every job of this window uses
    assert engine.config.threshold == 0.92 and engine.analyzer.default_score_threshold == 0.92
    assert engine.model_recognizer is not None, "the bundled PHI model should load"
    # the saved thread count: windows run side by side, each on one onnxruntime thread (core/text/encoder.py)
    assert engine.model_recognizer.encoder.workers == 3
    assert engine.model_recognizer.encoder.session.get_session_options().intra_op_num_threads == 1
    src = _notes(tmp_path / "in")
    run_job(deidentify_batch(src, tmp_path / "out", ws.batch.operator_combo.currentData(),
                             engine_factory=ws.engine_factory, registry=ws.registry))
    assert _last_entry()["operator"] == "mask" and "****" in (tmp_path / "out" / "n0.txt").read_text()
    reset_default_engine()


# -- reports: default model and threads --------------------------------------------------------------------------

def _reports_csv(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("id,report\na,FINDINGS: Small left pleural effusion.\nb,Lungs clear.\n")
    return src


def test_cli_classify_uses_the_default_report_model_setting(tmp_path, capsys):
    from medpriv_desktop.core.app import Context

    ctx = Context.build(Settings())
    ids = [e.card.id for e in ctx.registry.entries("report-classification")]
    if len(ids) < 2:
        pytest.skip("needs two report models (the bundled ones)")
    fallback = ctx.registry.default_for("report-classification").card.id
    chosen = next(i for i in ids if i != fallback)  # not what the registry would pick by itself
    save_settings(Settings(default_report_model=chosen))
    assert main(["classify", str(_reports_csv(tmp_path)), "--text-column", "report", "-o",
                 str(tmp_path / "o.csv"), "--quiet"]) == 0
    assert _last_entry()["model_id"] == chosen
    assert f"with {chosen}" in capsys.readouterr().out


@pytest.mark.parametrize("threads", [1, 3])
def test_classification_sessions_take_the_saved_thread_count(tmp_path, threads):
    from medpriv_desktop.core.app import Context, report_model_entry
    from medpriv_desktop.core.app.report_jobs import load_model

    save_settings(Settings(inference_threads=threads))
    ctx = Context.build()
    entry = report_model_entry(ctx)
    from medpriv_desktop.commands.classify import _load_model

    for model in (load_model(entry, ctx.registry), _load_model(None)[1]):  # the window's path, the command's
        assert model.encoder.workers == threads
        assert model.encoder.session.get_session_options().intra_op_num_threads == 1
