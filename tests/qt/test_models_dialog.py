"""The Models dialog and the Preferences site field under the site rules (no shadowing, machine-wide config)."""

from __future__ import annotations

import json

from medpriv_desktop.core import paths
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.settings import Settings
from medpriv_desktop.gui.dialogs.models_dialog import ModelsDialog
from medpriv_desktop.gui.dialogs.preferences_dialog import PreferencesDialog
from tests.helpers import write_bundle


def test_gui_import_refuses_to_shadow_and_names_the_flag(qtbot, tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=tmp_path / "site")
    write_bundle(reg.bundled_dir, "seg-shipped", seed=1)
    dlg = ModelsDialog(reg)
    qtbot.addWidget(dlg)
    mine = write_bundle(tmp_path / "in", "seg-shipped", version="2.0.0", seed=2)
    assert not dlg.import_folder(mine)
    assert "Import refused" in dlg.status.text() and "--allow-shadow" in dlg.status.text()
    assert reg.get("seg-shipped").root == "bundled"
    good = write_bundle(tmp_path / "in", "seg-new", seed=3)
    with qtbot.waitSignal(dlg.models_changed):
        assert dlg.import_folder(good)
    assert "Imported seg-new" in dlg.status.text() and dlg.list.count() == 2


def test_dialog_reports_a_broken_allowlist(qtbot, tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=tmp_path / "site")
    write_bundle(reg.bundled_dir, "seg-a")
    (reg.site_dir / "allowlist.json").mkdir(parents=True)
    dlg = ModelsDialog(reg)
    qtbot.addWidget(dlg)
    dlg._on_verify_clicked()
    assert "every model is refused" in dlg.status.text()


def test_preferences_site_field_is_locked_by_the_machine_config(qtbot, tmp_path, monkeypatch):
    s = Settings(site_models_dir=str(tmp_path / "mine"))
    dlg = PreferencesDialog(s)
    qtbot.addWidget(dlg)
    assert dlg.site_edit.isEnabled()
    dlg.site_edit.setText(str(tmp_path / "other"))
    assert dlg.result_settings().site_models_dir == str(tmp_path / "other")
    cfg = tmp_path / "etc" / "site.json"
    cfg.parent.mkdir()
    cfg.write_text(json.dumps({"version": 1, "site_models_dir": str(tmp_path / "it")}))
    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", cfg)
    dlg = PreferencesDialog(s)
    qtbot.addWidget(dlg)
    assert not dlg.site_edit.isEnabled() and str(cfg) in dlg.site_edit.toolTip()
    assert dlg.result_settings().site_models_dir == str(tmp_path / "mine")  # left as it was, and ignored
