"""Site folder and allow-list: the machine-wide config wins, the allow-list fails closed, legacy lists migrate."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.models.site import resolve_site_policy
from medpriv_desktop.core.settings import Settings, save_settings
from tests.helpers import write_bundle

REPO = Path(__file__).resolve().parents[2]


def _machine_config(tmp: Path, monkeypatch, **body) -> Path:
    cfg = tmp / "etc" / "site.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps({"version": 1, **body}))
    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", cfg)
    return cfg


def _within(seconds: float, fn):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) when it blocks."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    if "error" in box:
        raise box["error"]
    return box.get("value")


# -- where the site folder comes from ---------------------------------------------------------------------------


def test_without_machine_config_env_and_setting_choose_the_site_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(tmp_path / "from-env"))
    assert resolve_site_policy().site_dir == tmp_path / "from-env"
    p = resolve_site_policy(str(tmp_path / "from-setting"))
    assert p.site_dir == tmp_path / "from-setting" and p.allowlist_path == tmp_path / "from-setting" / "allowlist.json"
    assert not p.managed and not p.allowlist_required
    monkeypatch.delenv("MEDPRIV_SITE_MODELS")
    assert resolve_site_policy().site_dir == paths.default_site_models_dir()


def test_machine_config_beats_settings_and_environment(tmp_path, monkeypatch, caplog):
    site = tmp_path / "it-site"
    cfg = _machine_config(tmp_path, monkeypatch, site_models_dir=str(site))
    write_bundle(site, "seg-it", seed=1)
    user_site = tmp_path / "my-site"
    write_bundle(user_site, "seg-mine", seed=2)
    save_settings(Settings(site_models_dir=str(user_site)))
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(user_site))
    other_cfg = tmp_path / "mine.json"
    other_cfg.write_text(json.dumps({"site_models_dir": str(user_site)}))
    monkeypatch.setenv("MEDPRIV_SITE_CONFIG", str(other_cfg))
    with caplog.at_level(logging.WARNING):
        from medpriv_desktop.core.settings import load_settings

        reg = ModelRegistry.from_settings(load_settings())
    assert reg.site_dir == site and reg.policy.config_path == cfg and reg.policy.managed
    assert set(reg.policy.ignored) == {"MEDPRIV_SITE_CONFIG", "MEDPRIV_SITE_MODELS", "the site_models_dir setting"}
    assert [e.card.id for e in reg.entries() if e.root == "site"] == ["seg-it"]
    assert "ignored: MEDPRIV_SITE_CONFIG" in caplog.text and str(cfg) not in caplog.text  # no paths in the log
    reg.site_dir = user_site  # what the window does after Preferences: still IT's folder
    assert reg.site_dir == site
    reg.apply_settings(Settings(site_models_dir=str(user_site)))
    assert reg.site_dir == site


def test_site_config_env_is_honoured_only_without_the_fixed_file(tmp_path, monkeypatch):
    env_cfg = tmp_path / "env-site.json"
    env_cfg.write_text(json.dumps({"site_models_dir": str(tmp_path / "env-site")}))
    monkeypatch.setenv("MEDPRIV_SITE_CONFIG", str(env_cfg))
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(tmp_path / "ignored"))
    p = resolve_site_policy(str(tmp_path / "ignored-too"))
    assert p.site_dir == tmp_path / "env-site" and p.config_path == env_cfg and p.source == "config-env"
    _machine_config(tmp_path, monkeypatch, site_models_dir=str(tmp_path / "machine-site"))
    p = resolve_site_policy()
    assert p.site_dir == tmp_path / "machine-site" and "MEDPRIV_SITE_CONFIG" in p.ignored


def _fifo(p: Path) -> None:
    os.mkfifo(p)


@pytest.mark.parametrize("make", [
    lambda p: p.mkdir(),
    lambda p: p.symlink_to(p.parent / "missing.json"),
    _fifo,
    lambda p: p.write_text("{not json"),
    lambda p: p.write_text("[1, 2]"),
    lambda p: p.write_text(json.dumps({"site_models_dir": "relative/path"})),
    lambda p: p.write_text(json.dumps({"site_modles_dir": "/typo"})),
    lambda p: p.write_text(json.dumps({"version": 9})),
], ids=["folder", "dangling-link", "fifo", "bad-json", "list", "relative", "unknown-key", "version"])
def test_unusable_machine_config_refuses_every_model(tmp_path, monkeypatch, make):
    cfg = tmp_path / "etc" / "site.json"
    cfg.parent.mkdir()
    make(cfg)
    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", cfg)
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u")
    write_bundle(reg.bundled_dir, "seg-a", seed=1)
    write_bundle(reg.bundled_dir, "seg-b", seed=2)
    messages = set()
    for e in _within(10, reg.entries):
        with pytest.raises(ModelError) as info:
            _within(10, lambda e=e: reg.verified_model_path(e))
        messages.add(info.value.message)
    assert len(messages) == 1 and "every model is refused" in messages.pop()


# -- the allow-list fails closed ---------------------------------------------------------------------------------


def _deep(p: Path) -> None:
    p.write_text('{"version": 2, "manifest_sha256": ' + "[" * 50 + "]" * 50 + "}")


@pytest.mark.parametrize("make", [
    lambda p: p.mkdir(),
    lambda p: p.symlink_to(p.parent / "share-unreachable" / "allowlist.json"),
    _fifo,
    lambda p: p.write_text("garbage"),
    lambda p: p.write_text(json.dumps({"sha256": "not-a-list"})),
    lambda p: p.write_text(json.dumps({"sha256": ["abc"]})),
    lambda p: p.write_text(json.dumps({"version": 2, "manifest_sha256": ["a" * 64], "extra": 1})),
    lambda p: p.write_text(json.dumps({"version": 3, "manifest_sha256": []})),
    lambda p: p.write_text(json.dumps({"models": []})),
    lambda p: p.write_text(json.dumps("a" * 64)),
    lambda p: p.write_bytes(b" " * (5 * 1024 * 1024)),
    _deep,
], ids=["folder", "dangling-link", "fifo", "bad-json", "not-list", "bad-hash", "unknown-key", "version",
        "no-hashes", "string", "too-large", "deep"])
def test_broken_allowlist_refuses_every_model_with_one_message(tmp_path, make):
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=tmp_path / "site")
    write_bundle(reg.bundled_dir, "seg-a", seed=1)
    write_bundle(reg.site_dir, "seg-b", seed=2)
    make(reg.site_dir / "allowlist.json")
    messages = set()
    for e in reg.entries():
        with pytest.raises(ModelError) as info:
            _within(10, lambda e=e: reg.verified_model_path(e))
        messages.add(info.value.message)
    assert len(messages) == 1 and "every model is refused" in messages.pop()
    with pytest.raises(ModelError, match="every model is refused"):  # imports are refused too
        _within(10, lambda: reg.import_bundle(write_bundle(tmp_path / "in", "seg-new", seed=3)))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_allowlist_refuses_every_model(tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=tmp_path / "site")
    write_bundle(reg.bundled_dir, "seg-a")
    al = reg.site_dir / "allowlist.json"
    al.parent.mkdir(parents=True)
    al.write_text(json.dumps({"version": 2, "manifest_sha256": []}))
    al.chmod(0)
    with pytest.raises(ModelError, match="every model is refused"):
        reg.verified_model_path(reg.get("seg-a"))


def test_named_allowlist_missing_refuses_all_unnamed_missing_means_none(tmp_path, monkeypatch):
    site = tmp_path / "site"
    write_bundle(site, "seg-a")
    _machine_config(tmp_path, monkeypatch, site_models_dir=str(site))
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u")
    assert reg.verified_model_path(reg.get("seg-a")).is_file()  # no allow-list named, none present: allowed
    _machine_config(tmp_path, monkeypatch, site_models_dir=str(site), allowlist=str(tmp_path / "share" / "al.json"))
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u")
    with pytest.raises(ModelError, match="missing .*every model"):
        reg.verified_model_path(reg.get("seg-a"))


def test_v2_allowlist_admits_manifests_only(tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=tmp_path / "site")
    b = write_bundle(reg.site_dir, "seg-a")
    entry = reg.get("seg-a")
    reg.verified_model_path(entry)
    (reg.site_dir / "allowlist.json").write_text(json.dumps({"version": 2, "manifest_sha256": [entry.manifest]}))
    assert reg.verified_model_path(entry).is_file()
    card = json.loads((b / "model_card.json").read_text())  # same model file, edited card
    card["outputs"]["labels"][1]["name"] = "spleen"
    (b / "model_card.json").write_text(json.dumps(card))
    reg.refresh()
    with pytest.raises(ModelError, match="allow-list"):
        reg.verified_model_path(reg.get("seg-a"))


def test_legacy_allowlist_is_read_with_a_warning_and_migrated(tmp_path, monkeypatch, capsys, caplog):
    site = tmp_path / "site"
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(site))
    monkeypatch.setenv("MEDPRIV_RESOURCES", str(tmp_path / "no-resources"))  # only the site bundles below
    good = write_bundle(site, "seg-good", seed=1)
    edited = write_bundle(site, "seg-edited", seed=2)
    gone = "c" * 64
    legacy = [json.loads((b / "model_card.json").read_text())["sha256"] for b in (good, edited)] + [gone]
    (site / "allowlist.json").write_text(json.dumps({"sha256": legacy}))
    with caplog.at_level(logging.WARNING):
        assert main(["models", "verify"]) == 0  # legacy list: model.onnx hashes admit both
    assert "legacy format, must be migrated" in caplog.text
    capsys.readouterr()
    assert main(["models", "allowlist", "migrate"]) == 0
    out = capsys.readouterr().out
    assert "admit   seg-good" in out and "admit   seg-edited" in out and f"dropped model.onnx hash {gone}" in out
    doc = json.loads((site / "allowlist.json").read_text())
    assert doc["version"] == 2 and len(doc["manifest_sha256"]) == 2
    assert main(["models", "verify"]) == 0
    card = json.loads((edited / "model_card.json").read_text())  # now an edited card is caught
    card["version"] = "9.0.0"
    (edited / "model_card.json").write_text(json.dumps(card))
    assert main(["models", "verify"]) == 1
    assert "seg-edited 9.0.0  site: " in capsys.readouterr().out
    assert main(["models", "allowlist", "migrate"]) == 0
    assert "already lists bundle manifests" in capsys.readouterr().out


def test_subprocess_site_config_env_wins_over_site_models_env(tmp_path):
    """A child process: MEDPRIV_SITE_CONFIG names an allow-list on an unreachable share -> every model refused."""
    site = tmp_path / "site"
    write_bundle(site, "seg-a")
    cfg = tmp_path / "site.json"
    cfg.write_text(json.dumps({"site_models_dir": str(site), "allowlist": str(tmp_path / "share" / "al.json")}))
    mine = tmp_path / "mine"
    write_bundle(mine, "seg-mine", seed=3)
    env = dict(os.environ, MEDPRIV_HOME=str(tmp_path / "home"), MEDPRIV_SITE_CONFIG=str(cfg),
               MEDPRIV_SITE_MODELS=str(mine), MEDPRIV_RESOURCES=str(tmp_path / "no-resources"))
    code = "import sys; from medpriv_desktop.cli import main; sys.exit(main(['models', 'verify']))"
    if paths.MACHINE_SITE_CONFIG.exists():  # pragma: no cover - a machine with IT's file
        pytest.skip("this machine has a machine-wide site config; MEDPRIV_SITE_CONFIG is ignored here")
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr[-2000:]
    assert "seg-mine" not in r.stdout and "FAILED  seg-a 1.0.0  site" in r.stdout
    assert "every model is refused" in r.stdout and "Traceback" not in r.stderr
