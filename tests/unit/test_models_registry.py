"""Model cards and the registry: strict schema, three roots, integrity and allow-list, import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.card import ModelCard, card_json_schema
from medpriv_desktop.core.models.registry import ModelRegistry, read_card
from tests.helpers import segmentation_card, write_bundle

REPO = Path(__file__).resolve().parents[2]
SHA = "a" * 64


def _registry(tmp: Path) -> ModelRegistry:
    return ModelRegistry(bundled_dir=tmp / "bundled", user_dir=tmp / "user", site_dir=tmp / "site")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"surprise": 1}, "surprise"),
        ({"id": "Bad_Id"}, "kebab"),
        ({"sha256": "abc"}, "sha256"),
        ({"image_input": None}, "image_input"),
        ({"version": "one"}, "version"),
        ({"task": "report-classification", "image_input": None}, "text_input"),
    ],
)
def test_card_refuses_invalid(change, fragment):
    card = segmentation_card("seg-test", SHA)
    card.update(change)
    with pytest.raises(ValidationError) as info:
        ModelCard.model_validate(card)
    assert fragment in str(info.value)


def test_card_refuses_unknown_nested_field_and_bad_colour():
    card = segmentation_card("seg-test", SHA)
    card["outputs"]["labels"][1]["colour"] = [1, 2, 3]
    with pytest.raises(ValidationError):
        ModelCard.model_validate(card)
    card = segmentation_card("seg-test", SHA)
    card["outputs"]["labels"][1]["color"] = [300, 0, 0]
    with pytest.raises(ValidationError):
        ModelCard.model_validate(card)


def test_report_card_needs_thresholds_for_supported_labels():
    base = segmentation_card("cxr-test", SHA, task="report-classification", image_input=None,
                             text_input={"max_tokens": 128})
    base["outputs"] = {"activation": "sigmoid", "labels": [
        {"value": 0, "name": "Effusion", "threshold": 0.4},
        {"value": 1, "name": "Hernia", "supported": False, "unsupported_reason": "no positives"}]}
    assert ModelCard.model_validate(base).outputs.labels[1].supported is False
    base["outputs"]["labels"][0].pop("threshold")
    with pytest.raises(ValidationError, match="threshold"):
        ModelCard.model_validate(base)


def test_schema_file_in_resources_matches_code():
    shipped = json.loads((REPO / "resources" / "schema" / "model_card.schema.json").read_text())
    assert shipped == json.loads(json.dumps(card_json_schema()))


def test_registry_lists_three_roots_with_precedence(tmp_path):
    reg = _registry(tmp_path)
    write_bundle(reg.bundled_dir, "seg-a", "1.0.0", seed=1)
    write_bundle(reg.user_dir, "seg-a", "1.1.0", seed=2)
    write_bundle(reg.bundled_dir, "seg-b", "1.0.0", seed=3)
    write_bundle(reg.site_dir, "seg-b", "1.0.0", seed=4)
    write_bundle(reg.site_dir, "seg-c", "1.0.0", seed=5)
    write_bundle(reg.user_dir, "seg-c", "2.0.0", seed=6)
    write_bundle(reg.user_dir, "seg-d", "1.0.0", seed=7)
    write_bundle(reg.bundled_dir, "seg-e", "1.0.0", seed=8)
    write_bundle(reg.site_dir, "seg-e", "1.1.0", seed=9)
    entries = {e.card.id: e for e in reg.entries()}
    # A user bundle never replaces a bundled or site model of the same id, whatever its version (no --allow-shadow)
    assert entries["seg-a"].root == "bundled" and entries["seg-a"].card.version == "1.0.0"
    assert entries["seg-c"].root == "site" and entries["seg-c"].card.version == "1.0.0"
    assert sorted(p.path.name for p in reg.shadowed) == ["seg-a-1.1.0", "seg-c-2.0.0"]
    assert all("--allow-shadow" in p.message for p in reg.shadowed)
    assert entries["seg-d"].root == "user"  # an id nobody else provides
    assert entries["seg-b"].root == "site"  # same version: site beats bundled
    assert entries["seg-e"].root == "site" and entries["seg-e"].card.version == "1.1.0"  # IT may replace bundled
    assert [e.card.id for e in reg.entries("segmentation")] == ["seg-a", "seg-b", "seg-c", "seg-d", "seg-e"]
    assert reg.entries("phi-ner") == []


def test_registry_skips_broken_bundle_with_reason(tmp_path):
    reg = _registry(tmp_path)
    bad = reg.bundled_dir / "broken"
    bad.mkdir(parents=True)
    (bad / "model_card.json").write_text("{not json")
    write_bundle(reg.bundled_dir, "seg-ok")
    assert [e.card.id for e in reg.entries()] == ["seg-ok"]
    assert len(reg.problems) == 1 and "not valid JSON" in reg.problems[0].message


def test_get_unknown_model_suggests_close_id(tmp_path):
    reg = _registry(tmp_path)
    write_bundle(reg.bundled_dir, "seg-torso-student")
    with pytest.raises(ModelError, match="did you mean 'seg-torso-student'"):
        reg.get("seg-torso-studnt")


def test_sha_mismatch_refuses_to_load(tmp_path):
    reg = _registry(tmp_path)
    write_bundle(reg.bundled_dir, "seg-x", tamper=True)
    with pytest.raises(ModelError, match="does not match the sha256"):
        reg.verified_model_path(reg.get("seg-x"))


def test_site_allowlist_limits_loading(tmp_path):
    reg = _registry(tmp_path)
    write_bundle(reg.bundled_dir, "seg-x")
    entry = reg.get("seg-x")
    assert reg.verified_model_path(entry).name == "model.onnx"  # no allow-list: allowed
    reg.site_dir.mkdir(parents=True, exist_ok=True)
    (reg.site_dir / "allowlist.json").write_text(json.dumps({"sha256": ["b" * 64]}))
    with pytest.raises(ModelError, match="allow-list"):
        reg.verified_model_path(entry)
    (reg.site_dir / "allowlist.json").write_text(json.dumps({"sha256": [entry.card.sha256]}))
    assert reg.verified_model_path(entry).is_file()
    (reg.site_dir / "allowlist.json").write_text("garbage")  # unreadable list allows nothing
    with pytest.raises(ModelError):
        reg.verified_model_path(entry)


def test_import_validates_and_copies(tmp_path):
    reg = _registry(tmp_path)
    src = write_bundle(tmp_path / "incoming", "seg-new")
    entry = reg.import_bundle(src)
    assert entry.root == "user" and (entry.path / "model.onnx").is_file()
    assert reg.get("seg-new").root == "user"
    with pytest.raises(ModelError, match="already imported"):
        reg.import_bundle(src)
    tampered = write_bundle(tmp_path / "incoming2", "seg-bad", tamper=True)
    with pytest.raises(ModelError, match="sha256"):
        reg.import_bundle(tampered)
    assert not any(p.name.startswith("seg-bad") for p in reg.user_dir.iterdir())
    with pytest.raises(ModelError, match="no model_card.json"):
        reg.import_bundle(tmp_path)


def test_bundled_models_in_resources_are_valid():
    """Every bundle shipped in resources/models parses and matches its sha256."""
    reg = ModelRegistry(bundled_dir=REPO / "resources" / "models", user_dir=Path("/nonexistent"), site_dir=None)
    reg.refresh()
    assert reg.problems == []
    for e in reg.entries():
        assert read_card(e.path).id == e.card.id
        reg.verified_model_path(e)



def test_student_that_lost_its_teachers_accuracy_is_not_the_default(tmp_path):
    """A student is the default only while its card shows Dice ratio >= 0.9 to its teacher (or shows none)."""
    reg = _registry(tmp_path)

    def metrics(ratio):
        return {"values": [{"name": "dice_ratio_to_teacher", "value": ratio, "split": "held-out"}]}

    write_bundle(reg.bundled_dir, "seg-a-student", seed=1, card_overrides={"role": "student", "metrics": metrics(0.21)})
    write_bundle(reg.bundled_dir, "seg-b-teacher", seed=2, card_overrides={"role": "teacher"})
    assert reg.default_for("segmentation", prefer_role="student").card.id == "seg-b-teacher"
    write_bundle(reg.bundled_dir, "seg-c-student", seed=3, card_overrides={"role": "student", "metrics": metrics(0.95)})
    reg = _registry(tmp_path)
    assert reg.default_for("segmentation", prefer_role="student").card.id == "seg-c-student"
    write_bundle(reg.bundled_dir, "seg-0-student", seed=4, card_overrides={"role": "student"})  # no ratio: trusted
    reg = _registry(tmp_path)
    assert reg.default_for("segmentation", prefer_role="student").card.id == "seg-0-student"
    cards = {e.card.id: e.card for e in reg.entries()}
    assert not cards["seg-a-student"].preferred_student and not cards["seg-b-teacher"].preferred_student
    ranks = {i: c.default_rank for i, c in cards.items()}
    assert ranks == {"seg-0-student": 0, "seg-c-student": 0, "seg-b-teacher": 2, "seg-a-student": 3}
