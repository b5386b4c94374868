"""Segmentation and model import write the same audit entry from the CLI and from the window (issue 20, item 3).

``medpriv segment --qc`` and the Imaging workspace's Segment (second opinion on) run ``core.app.segment_study`` on
the same study; ``medpriv models import`` and the Models dialog run ``core.app.import_model`` on the same bundle.
Their entries must hold the same action and fields (chain, time and user aside). Before ``core.app`` the window's
segmentation entry had no QC counts.
"""

from __future__ import annotations

import json

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core import paths
from tests.qt._audit_support import entries as _entries
from tests.qt._audit_support import new_entry as _new_entry
from tests.qt._imaging_support import make_workspace, wait_idle, write_phantom
from tests.unit.imaging._imaging_fixtures import make_bundle

pytest.importorskip("onnx")



def test_segmentation_same_entry(qtbot, tmp_path, capsys):
    from medpriv_desktop.core.app import Context

    make_bundle(paths.user_models_dir(), "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    study, _ = write_phantom(tmp_path)
    n = len(_entries())
    assert main(["segment", str(study), "--model", "seg-tiny-test", "-o", str(tmp_path / "cli"), "--qc", "-q"]) == 0
    cli = _new_entry(n)

    ws = make_workspace(qtbot, Context.build().registry)  # the window's registry: the saved settings'
    ws.open_path(study)
    wait_idle(qtbot, ws)
    ws.segment_panel.second_opinion_check.setChecked(True)
    assert ws.run_segmentation(ws.registry.get("seg-tiny-test"))
    wait_idle(qtbot, ws)
    assert ws.last_run is not None
    gui = _new_entry(n + 1)
    assert cli["action"] == "imaging.segment" and cli["model_id"] == "seg-tiny-test"
    assert cli["structures"] == 2 and cli["kind"] == "CT" and set(cli["qc"]) >= {"pass", "warn", "fail"}
    assert gui == cli


def test_model_import_same_entry(qtbot, tmp_path, monkeypatch, capsys):
    from medpriv_desktop.core.app import Context
    from medpriv_desktop.gui.dialogs.models_dialog import ModelsDialog

    bundle = make_bundle(tmp_path / "in", "seg-imported", spacing=(3.0, 3.0, 4.0))
    n = len(_entries())
    assert main(["models", "import", str(bundle)]) == 0
    cli = _new_entry(n)
    # The same bundle into a second user's home (its own models folder and audit log), through the dialog.
    monkeypatch.setenv("MEDPRIV_HOME", str(tmp_path / "home2"))
    m = len(_entries())
    dlg = ModelsDialog(Context.build().registry)
    qtbot.addWidget(dlg)
    assert dlg.import_folder(bundle), dlg.status.text()
    gui = _new_entry(m)
    assert cli["action"] == "models.import" and cli["model_id"] == "seg-imported" and cli["model_root"] == "user"
    assert gui == cli
