"""Import records, no shadowing, the pinned table of bundled models, and the audit fields of a model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.bundled_manifests import BUNDLED_MANIFESTS
from medpriv_desktop.core.models.manifest import bundle_manifest
from medpriv_desktop.core.models.registry import ModelRegistry, read_card
from medpriv_desktop.core.models.user_index import INDEX_FILE, read_index
from tests.helpers import write_bundle

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "resources" / "models"


def _registry(tmp: Path, **kw) -> ModelRegistry:
    return ModelRegistry(bundled_dir=tmp / "bundled", user_dir=tmp / "user", site_dir=tmp / "site", **kw)


def _text_bundle(root: Path, model_id: str, seed: int = 0, version: str = "1.0.0") -> Path:
    """A PHI-style bundle with a tokenizer and an external weights file."""
    b = write_bundle(root, model_id, version=version, seed=seed, card_overrides={
        "task": "phi-ner", "image_input": None, "text_input": {"max_tokens": 64}})
    (b / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"[UNK]": 0, "name": 1}}}))
    (b / "weights.bin").write_bytes(bytes(range(256)))
    return b


# -- the pinned table ---------------------------------------------------------------------------------------------


def test_pinned_table_matches_resources_models():
    """A retrained or edited bundle that was not re-pinned (scripts/pin_bundled_models.py) fails here."""
    found = {}
    for b in sorted(p for p in SHIPPED.iterdir() if p.is_dir()):
        card = read_card(b)
        found[(card.id, card.version)] = bundle_manifest(b).sha256
    assert found == BUNDLED_MANIFESTS
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "pin_bundled_models.py"), "--check"],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pins_apply_to_the_apps_own_folder_only():
    assert ModelRegistry(bundled_dir=SHIPPED, site_dir=None).bundled_pins is BUNDLED_MANIFESTS
    assert ModelRegistry(site_dir=None).bundled_pins is BUNDLED_MANIFESTS


def test_edited_bundled_card_is_refused_by_the_pinned_table(tmp_path):
    """The issue's case: same model file, edited card -> the bundled model refuses to load."""
    reg = _registry(tmp_path, bundled_pins=BUNDLED_MANIFESTS)
    b = reg.bundled_dir / "seg-torso-student-q"
    shutil.copytree(SHIPPED / "seg-torso-student-q", b)
    entry = reg.get("seg-torso-student-q")
    assert reg.verified_model_path(entry).is_file() and entry.manifest in BUNDLED_MANIFESTS.values()
    card = json.loads((b / "model_card.json").read_text())
    card["outputs"]["labels"][1]["name"] = "renamed"
    (b / "model_card.json").write_text(json.dumps(card))
    reg.refresh()
    with pytest.raises(ModelError, match="does not match the manifest pinned"):
        reg.verified_model_path(reg.get("seg-torso-student-q"))
    card["version"] = "9.9.9"
    (b / "model_card.json").write_text(json.dumps(card))
    reg.refresh()
    with pytest.raises(ModelError, match="not pinned in this app"):
        reg.verified_model_path(reg.get("seg-torso-student-q"))


def test_pin_script_check_fails_on_a_changed_bundle(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(SHIPPED / "seg-torso-student-q", models / "seg-torso-student-q")
    (models / "seg-torso-student-q" / "README.md").write_text("retrained\n")
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "pin_bundled_models.py"), "--check",
                        "--models", str(models)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 1 and "out of date" in r.stdout


# -- import records -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("victim", ["model_card.json", "tokenizer.json", "weights.bin", "LICENSE"])
def test_user_bundle_changed_after_import_is_refused(tmp_path, victim):
    reg = _registry(tmp_path)
    entry = reg.import_bundle(_text_bundle(tmp_path / "in", "phi-mine"))
    assert read_index(reg.user_dir)[entry.path.name].manifest_sha256 == entry.manifest
    assert reg.verified_model_path(reg.get("phi-mine")).is_file()
    target = entry.path / victim
    if victim == "model_card.json":  # a still-valid card with another threshold of meaning
        card = json.loads(target.read_text())
        card["description"] = "swapped"
        target.write_text(json.dumps(card))
    elif victim == "tokenizer.json":  # a swapped tokenizer would silently turn the PHI model off
        target.write_text(json.dumps({"model": {"vocab": {"[UNK]": 0}}}))
    else:
        target.write_bytes(target.read_bytes()[::-1])
    reg.refresh()
    with pytest.raises(ModelError, match="changed since it was imported"):
        reg.verified_model_path(reg.get("phi-mine"))


def test_symlinked_model_is_refused_on_import_and_on_load(tmp_path):
    reg = _registry(tmp_path)
    src = _text_bundle(tmp_path / "in", "phi-link")
    real = tmp_path / "real.onnx"
    os.replace(src / "model.onnx", real)
    (src / "model.onnx").symlink_to(real)
    with pytest.raises(ModelError, match="symbolic link"):
        reg.import_bundle(src)
    assert not (reg.user_dir / "phi-link-1.0.0").exists()
    shutil.copytree(src, reg.site_dir / "phi-link", symlinks=True)  # placed by hand: refused at discovery
    assert reg.entries() == [] and "symbolic link" in reg.problems[0].message
    good = reg.import_bundle(_text_bundle(tmp_path / "in2", "phi-ok"))  # swapped for a link after import
    os.replace(good.path / "model.onnx", tmp_path / "moved.onnx")
    (good.path / "model.onnx").symlink_to(tmp_path / "moved.onnx")
    with pytest.raises(ModelError, match="symbolic link"):
        reg.verified_model_path(good)


def test_bundle_placed_by_hand_in_the_user_folder_loads_without_a_record(tmp_path):
    reg = _registry(tmp_path)
    write_bundle(reg.user_dir, "seg-hand")
    assert reg.verified_model_path(reg.get("seg-hand")).is_file()
    assert not (reg.user_dir / INDEX_FILE).exists()


def test_damaged_import_records_refuse_user_bundles_and_imports(tmp_path):
    reg = _registry(tmp_path)
    entry = reg.import_bundle(write_bundle(tmp_path / "in", "seg-a"))
    (reg.user_dir / INDEX_FILE).write_text("{broken")
    with pytest.raises(ModelError, match="import records"):
        reg.verified_model_path(entry)
    with pytest.raises(ModelError, match="import records"):
        reg.import_bundle(write_bundle(tmp_path / "in", "seg-b", seed=2))


# -- no shadowing -------------------------------------------------------------------------------------------------


def test_import_cannot_shadow_a_bundled_model_without_the_flag(tmp_path, capsys):
    """The issue's case: same model file, edited card (version bumped) imported by a user to replace a shipped one."""
    reg = _registry(tmp_path)
    orig = _text_bundle(reg.bundled_dir, "phi-shipped", seed=1)
    evil = tmp_path / "in" / "phi-shipped"
    shutil.copytree(orig, evil)
    card = json.loads((evil / "model_card.json").read_text())
    card["version"] = "9.0.0"
    (evil / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError) as info:
        reg.import_bundle(evil)
    assert "--allow-shadow" in info.value.message and "bundled" in info.value.message
    assert not (reg.user_dir / "phi-shipped-9.0.0").exists()
    write_bundle(reg.user_dir, "phi-shipped", version="9.0.0", seed=1)  # copied in by hand: still not used
    reg.refresh()
    assert reg.get("phi-shipped").root == "bundled" and reg.shadowed
    entry = reg.import_bundle(evil, overwrite=True, allow_shadow=True)
    assert read_index(reg.user_dir)[entry.path.name].allow_shadow
    assert reg.get("phi-shipped").root == "user" and reg.get("phi-shipped").card.version == "9.0.0"


def test_cli_import_allow_shadow_is_audited(tmp_path, capsys, monkeypatch):
    site = tmp_path / "site"
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(site))
    write_bundle(site, "seg-site", seed=1)
    mine = write_bundle(tmp_path / "in", "seg-site", version="2.0.0", seed=2)
    assert main(["models", "import", str(mine)]) == 2
    assert "--allow-shadow" in capsys.readouterr().err
    assert main(["models", "import", "--allow-shadow", str(mine)]) == 0
    assert "allow-shadow" in capsys.readouterr().out
    from medpriv_desktop.core import paths

    lines = (paths.audit_dir() / "audit.jsonl").read_text().splitlines()
    entry = json.loads(lines[-1])
    assert entry["action"] == "models.import" and entry["allow_shadow"] is True
    assert entry["model_id"] == "seg-site" and entry["model_root"] == "user"
    assert entry["model_manifest"] == bundle_manifest(paths.user_models_dir() / "seg-site-2.0.0").sha256
    assert main(["models", "verify", "seg-site"]) == 0
    assert f"manifest {entry['model_manifest']}  user" in capsys.readouterr().out


def test_audit_fields_name_manifest_and_root(tmp_path):
    reg = _registry(tmp_path)
    b = write_bundle(reg.site_dir, "seg-a")
    e = reg.get("seg-a")
    fields = e.audit_fields()  # computed on demand when the model was not verified yet
    assert fields == {"model_id": "seg-a", "model_version": "1.0.0", "model_manifest": bundle_manifest(b).sha256,
                      "model_root": "site"}
    assert len(fields["model_manifest"]) == 64 and fields["model_manifest"] == fields["model_manifest"].lower()


def test_entry_file_refuses_names_outside_the_bundle(tmp_path):
    reg = _registry(tmp_path)
    write_bundle(reg.site_dir, "seg-a")
    e = reg.get("seg-a")
    assert e.file("LICENSE") == e.path / "LICENSE"
    for bad in ("../x", "/etc/passwd", "..", "a/b"):
        with pytest.raises(ModelError, match="plain names"):
            e.file(bad)
