"""The segmentation and model-import use cases of ``core.app`` (issue 20, item 1): one read per study, sessions from
the Context, one audit entry each, the study-fit check before the model runs."""

from __future__ import annotations

import json

import nibabel as nib
import pytest

from _imaging_fixtures import make_bundle, phantom_volume
from medpriv_desktop.cli import main
from medpriv_desktop.core import paths
from medpriv_desktop.core.app import (Context, SegmentOptions, SessionFactory, compare_student_teacher, import_model,
                                      segment_study, segmentation_model)
from medpriv_desktop.core.errors import InputError, ModelError
from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.core.settings import Settings

pytest.importorskip("onnx")


def _entries() -> list[dict]:
    f = paths.audit_dir() / "audit.jsonl"
    return [json.loads(line) for line in f.read_text().splitlines()] if f.exists() else []


@pytest.fixture
def family(tmp_path):
    """A registry with a student and a (slightly different) teacher of one family."""
    root = tmp_path / "bundled"
    make_bundle(root, "seg-tiny-student", spacing=(3.0, 3.0, 4.0), role="student")
    make_bundle(root, "seg-tiny-teacher", spacing=(3.0, 3.0, 4.0), role="teacher",
                builder_kwargs={"centres": (-0.95, 0.0, 0.5)})
    return ModelRegistry(bundled_dir=root, user_dir=tmp_path / "user", site_dir=None)


def test_the_command_reads_the_study_once(medpriv_home, ct_file, tmp_path, monkeypatch, capsys):
    """The body-region check and the segmentation share one read (the command read the study twice before)."""
    from medpriv_desktop.core.imaging import io

    make_bundle(paths.user_models_dir(), "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    reads = []
    real = io._read_any

    def counting(path, series_uid):
        reads.append(path)
        return (yield from real(path, series_uid))

    monkeypatch.setattr(io, "_read_any", counting)
    assert main(["segment", str(ct_file), "--model", "seg-tiny-test", "-o", str(tmp_path / "o"), "-q"]) == 0
    assert len(reads) == 1


@pytest.mark.parametrize(("saved", "explicit", "expected"), [(3, None, 3), (3, 1, 1), (2, None, 2)])
def test_sessions_follow_the_context_unless_the_request_names_threads(tiny_registry, phantom, monkeypatch, saved,
                                                                      explicit, expected):
    monkeypatch.delenv("MEDPRIV_ORT_THREADS", raising=False)
    ctx = Context(Settings(inference_threads=saved), tiny_registry)
    res = run_job(segment_study(ctx, phantom[0], tiny_registry.get("seg-tiny-test"),
                                options=SegmentOptions(threads=explicit, check_fit=False)))
    assert res.segmentation.threads == expected


def test_environment_thread_override_reaches_segmentation(tiny_registry, phantom):
    ctx = Context(Settings(inference_threads=3), tiny_registry, sessions=SessionFactory.from_settings(
        Settings(inference_threads=3), {"MEDPRIV_ORT_THREADS": "2"}))
    res = run_job(segment_study(ctx, phantom[0], tiny_registry.get("seg-tiny-test"),
                                options=SegmentOptions(check_fit=False)))
    assert res.segmentation.threads == 2


@pytest.mark.parametrize(("qc", "record", "qc_counts"), [(True, True, True), (False, True, False), (True, False, None)])
def test_one_segment_entry_with_qc_counts(tiny_registry, phantom, qc, record, qc_counts):
    n = len(_entries())
    ctx = Context.build(registry=tiny_registry)
    res = run_job(segment_study(ctx, phantom[0], tiny_registry.get("seg-tiny-test"), record=record,
                                options=SegmentOptions(qc=qc, second_opinion="none", check_fit=False)))
    new = _entries()[n:]
    if not record:
        assert new == []
        return
    assert [e["action"] for e in new] == ["imaging.segment"]
    e = new[0]
    assert e["model_id"] == "seg-tiny-test" and e["structures"] == 2 and e["kind"] == "CT"
    assert e["voxels"] == phantom[0].array.size
    assert (e["qc"] == res.qc.counts()) if qc_counts else e["qc"] is None


def test_study_that_does_not_fit_is_refused_before_the_model_runs(tmp_path, monkeypatch):
    """A torso model on a head: refused with the file named, nothing written, nothing recorded."""
    from medpriv_desktop.core.app import imaging
    from medpriv_desktop.core.imaging import inference

    vol, _ = phantom_volume()
    src = tmp_path / "head.nii.gz"
    nib.save(nib.Nifti1Image(vol.array, vol.affine), str(src))
    make_bundle(tmp_path / "b", "seg-torso", spacing=(3.0, 3.0, 4.0))
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=None)

    class Fit:
        region_problem = "the study shows the head; the model was made for the torso"

    monkeypatch.setattr("medpriv_desktop.core.imaging.study_fit.check_study", lambda volume, card: Fit())
    ran = []
    monkeypatch.setattr(inference, "segment_volume", lambda *a, **k: ran.append(1))
    n = len(_entries())
    with pytest.raises(InputError, match="does not fit the model") as info:
        run_job(imaging.segment_study(Context.build(registry=reg), src, reg.get("seg-torso"),
                                      output=tmp_path / "o"))
    assert info.value.path == src and not ran and not (tmp_path / "o").exists() and len(_entries()) == n


def test_compare_records_one_entry_with_both_models(family, phantom):
    ctx = Context.build(registry=family)
    n = len(_entries())
    run = run_job(compare_student_teacher(ctx, phantom[0], family.get("seg-tiny-student"),
                                          family.get("seg-tiny-teacher")))
    assert set(run.dice) == {"soft_tissue", "bone"} and 0 < run.mean_dice <= 1
    new = _entries()[n:]
    assert [e["action"] for e in new] == ["imaging.compare"]
    assert new[0]["model_id"] == "seg-tiny-student" and new[0]["structures"] == 2
    assert new[0]["teacher_manifest_hash"] == family.get("seg-tiny-teacher").audit_fields()["model_manifest"]
    assert new[0]["teacher_model_id"] == "seg-tiny-teacher"
    assert new[0]["mean_dice"] == round(run.mean_dice, 4)


@pytest.mark.parametrize(("setting", "fast", "expected"), [
    (None, False, "seg-tiny-student"),   # the registry's default: a student first
    ("seg-tiny-teacher", False, "seg-tiny-teacher"),  # the saved default
    ("seg-tiny-teacher", True, "seg-tiny-student"),   # --fast: the family's student
])
def test_segmentation_model_choice(family, setting, fast, expected):
    ctx = Context(Settings(default_segmentation_model=setting), family)
    assert segmentation_model(ctx, fast=fast).card.id == expected


@pytest.mark.parametrize("allow_shadow", [False, True])
def test_import_model_records_models_import(tmp_path, allow_shadow):
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=None)
    bundle = make_bundle(tmp_path / "in", "seg-new", spacing=(3.0, 3.0, 4.0))
    n = len(_entries())
    entry = run_job(import_model(Context.build(registry=reg), bundle, allow_shadow=allow_shadow))
    assert entry.root == "user" and reg.get("seg-new").card.id == "seg-new"
    new = _entries()[n:]
    assert [e["action"] for e in new] == ["models.import"]
    assert new[0]["model_manifest"] == entry.manifest and new[0].get("allow_shadow", False) is allow_shadow


def test_refused_import_records_nothing(tmp_path):
    reg = ModelRegistry(bundled_dir=tmp_path / "b", user_dir=tmp_path / "u", site_dir=None)
    make_bundle(reg.bundled_dir, "seg-shipped", spacing=(3.0, 3.0, 4.0))
    mine = make_bundle(tmp_path / "in", "seg-shipped", spacing=(3.0, 3.0, 4.0))
    n = len(_entries())
    with pytest.raises(ModelError, match="already provided"):
        run_job(import_model(Context.build(registry=reg), mine))
    assert len(_entries()) == n and not any((tmp_path / "u").glob("seg-shipped*"))


def _family_with_weak_student(tmp_path, ratio: float) -> ModelRegistry:
    root = tmp_path / "bundled"
    metrics = {"metrics": {"values": [{"name": "dice_ratio_to_teacher", "value": ratio, "split": "held-out"}]}}
    make_bundle(root, "seg-tiny-student", spacing=(3.0, 3.0, 4.0), role="student", card_extra=metrics)
    make_bundle(root, "seg-tiny-teacher", spacing=(3.0, 3.0, 4.0), role="teacher")
    return ModelRegistry(bundled_dir=root, user_dir=tmp_path / "user", site_dir=None)


@pytest.mark.parametrize(("ratio", "default", "passed_over"), [
    (0.85, "seg-tiny-teacher", ["seg-tiny-student"]),  # lost more than 10% of its teacher's Dice: the teacher
    (0.95, "seg-tiny-student", []),
])
def test_a_student_below_the_card_rule_is_passed_over_and_named(tmp_path, ratio, default, passed_over):
    from medpriv_desktop.core.app import passed_over_students

    ctx = Context(Settings(), _family_with_weak_student(tmp_path, ratio))
    entry = segmentation_model(ctx)
    assert entry.card.id == default
    assert [e.card.id for e in passed_over_students(ctx.registry, entry)] == passed_over


def test_the_command_says_why_the_teacher_is_the_default(medpriv_home, ct_file, tmp_path, monkeypatch, capsys):
    from medpriv_desktop.core.app import context

    reg = _family_with_weak_student(tmp_path, 0.85)
    build = context.Context.build
    monkeypatch.setattr(context.Context, "build", classmethod(lambda cls, **kw: build(registry=reg, **kw)))
    assert main(["segment", str(ct_file), "-o", str(tmp_path / "o"), "-q", "--force"]) == 0
    out = capsys.readouterr().out
    assert "model      seg-tiny-teacher" in out
    assert "chosen over student seg-tiny-student 0.0.1: its card shows 0.850 of this model's Dice, below 0.9" in out
    assert main(["segment", str(ct_file), "-o", str(tmp_path / "o2"), "-q", "--force", "--fast"]) == 0
    out = capsys.readouterr().out
    assert "model      seg-tiny-student" in out and "chosen over" not in out
