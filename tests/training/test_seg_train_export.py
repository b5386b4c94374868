"""Tiny deterministic training, resume, distillation (incl. pseudo-labels), ONNX parity, bundle card, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from medpriv_desktop.core.jobs import run_job  # noqa: E402
from medpriv_desktop.core.models.card import ModelCard  # noqa: E402
from training.seg.config import load_config  # noqa: E402
from training.seg.data import generate_phantoms  # noqa: E402
from training.seg.phantom import PhantomSpec  # noqa: E402

TINY = {"model.n_stages": 3, "model.base": 4, "model.patch": [16, 16, 16], "optim.batch_size": 1,
        "optim.steps": 3, "optim.ckpt_every": 2, "optim.log_every": 1, "data.n_phantoms": 3,
        "data.n_val_phantoms": 1, "data.patches_per_volume": 1, "data.phantom_spacing_mm": 6.0}


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("phantoms")
    run_job(generate_phantoms(d, 3, seed=5, spec=PhantomSpec(spacing=6.0)))
    return d


def _cfg(phantom_dir: Path, run_dir: Path, **extra):
    return load_config(None, {**TINY, "data.phantom_dir": str(phantom_dir), "run_dir": str(run_dir), **extra})


def _losses(run_dir: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run_dir / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def teacher(phantom_dir, tmp_path_factory) -> Path:
    from training.seg.train import train_teacher

    run = tmp_path_factory.mktemp("teacher")
    return run_job(train_teacher(_cfg(phantom_dir, run)))


def test_teacher_run_is_deterministic_and_resumes(phantom_dir, teacher, tmp_path):
    from training.seg.train import train_teacher

    first = _losses(teacher.parent)
    assert len(first) == 3 and all(np.isfinite(first))
    again = run_job(train_teacher(_cfg(phantom_dir, tmp_path / "again")))
    assert _losses(again.parent) == pytest.approx(first, rel=1e-5)
    # Resume: continuing the finished run to 5 steps adds exactly two more steps from the checkpoint.
    run_job(train_teacher(_cfg(phantom_dir, teacher.parent, **{"optim.steps": 5})))
    assert len(_losses(teacher.parent)) == 5
    assert torch.load(teacher, weights_only=False)["step"] == 5


def test_interrupted_run_resumes_the_data_stream(phantom_dir, tmp_path):
    # An interrupted run resumed from its checkpoint must give the same losses as an uninterrupted one. Before the
    # data generator's state was checkpointed, a resumed run replayed the data stream from its first batch.
    from training.seg.train import train_teacher

    extra = {"optim.steps": 4, "optim.warmup": 1}
    straight = run_job(train_teacher(_cfg(phantom_dir, tmp_path / "straight", **extra)))
    job = train_teacher(_cfg(phantom_dir, tmp_path / "cut", **extra))
    for p in job:
        if "step 2/4" in p.message:  # the checkpoint of step 2 is on disk: stop here (a killed run)
            break
    job.close()
    assert len(_losses(tmp_path / "cut")) == 2
    run_job(train_teacher(_cfg(phantom_dir, tmp_path / "cut", **extra)))
    assert _losses(tmp_path / "cut") == pytest.approx(_losses(straight.parent), rel=1e-5)


@pytest.mark.parametrize("pseudo", [False, True])
def test_distillation_trains_only_the_student(phantom_dir, teacher, tmp_path, pseudo):
    from training.seg.train import distill_student, load_checkpoint

    before = {k: v.clone() for k, v in load_checkpoint(teacher)["model"].items()}
    cfg = _cfg(phantom_dir, tmp_path / "student", **{"distill.teacher_checkpoint": str(teacher),
                                                     "distill.width_fraction": 0.5, "distill.pseudo_label": pseudo,
                                                     "distill.context_levels": [0, 1], "distill.min_channels": 4})
    ck = run_job(distill_student(cfg))
    st = load_checkpoint(ck)
    assert st["kind"] == "student" and st["net"]["width_fraction"] == 0.5
    assert st["net"]["min_channels"] == 4  # base 4 x 1/2 = [2, 4, 8] floored to [4, 4, 8]
    after = load_checkpoint(teacher)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)  # the teacher file is untouched
    rec = json.loads((ck.parent / "log.jsonl").read_text().splitlines()[0])
    assert {"seg", "kd", "region", "context"} <= set(rec)


def test_export_parity_and_bundle_card(phantom_dir, teacher, tmp_path):
    from medpriv_desktop.core.models.registry import ModelRegistry  # noqa: F401  (import check of the app side)
    from training.seg.bundle import sha256_file
    from training.seg.export import export_onnx, parity
    from training.seg.report import export_bundle
    from training.seg.train import model_from_checkpoint

    net = model_from_checkpoint(teacher)
    path = export_onnx(net, tmp_path / "m.onnx", (16, 16, 16))
    assert parity(net, path, (16, 16, 16)) < 1e-4
    assert parity(net, path, (32, 16, 16)) < 1e-4  # dynamic spatial size
    half = export_onnx(net, tmp_path / "h.onnx", (16, 16, 16), fp16_weights=True)
    assert parity(net, half, (16, 16, 16)) < 5e-2
    cfg = _cfg(phantom_dir, teacher.parent)
    out = tmp_path / "bundle"
    card = export_bundle(cfg, teacher, "seg-test-teacher", out, "Test teacher", command="medpriv-train seg export")
    loaded = ModelCard.model_validate_json((out / "model_card.json").read_text())
    assert loaded == card
    assert loaded.sha256 == sha256_file(out / "model.onnx")
    assert loaded.image_input.modalities == ["CT", "MR"]
    assert set(loaded.image_input.intensity) == {"CT", "MR"}
    assert loaded.image_input.intensity["CT"].kind == "ct-clip-zscore"
    assert loaded.image_input.orientation == "RAS"
    assert "not for diagnostic use" in loaded.intended_use
    labels = loaded.label_by_value()
    assert labels[0].name == "background" and len(labels) == 16
    assert labels[6].reference_volume is not None and labels[6].reference_volume.source
    assert "liver" in labels[6].mappings["totalsegmentator"]
    assert loaded.metrics.parameters > 0 and loaded.metrics.flops > 0 and loaded.metrics.cpu_latency_ms > 0
    assert loaded.role == "teacher" and loaded.family == "seg-phantom-torso"
    for name in ("LICENSE", "README.md"):
        assert (out / name).stat().st_size > 100


def test_evaluation_fills_the_card_without_changing_the_onnx(phantom_dir, teacher, tmp_path):
    from training.seg.report import evaluate_models, export_bundle

    cfg = _cfg(phantom_dir, teacher.parent)
    out = tmp_path / "bundle"
    first = export_bundle(cfg, teacher, "seg-test-teacher", out, "Test teacher")
    res = run_job(evaluate_models(cfg, {"seg-test-teacher": str(out), "ck": str(teacher)}, tmp_path / "ev",
                                  real_data=str(tmp_path / "no-data"), n_cases=1))
    m = res["models"]["seg-test-teacher"]
    assert set(m["phantoms"]) == {"all", "CT", "MR"}
    assert all(0 <= v <= 1 for v in m["phantoms"]["all"]["dice"].values())
    assert res["models"]["ck"]["ratios"]["parameters"] == pytest.approx(1.0)
    assert "| seg-test-teacher |" in (tmp_path / "ev" / "results.md").read_text()
    card = export_bundle(cfg, teacher, "seg-test-teacher", out, "Test teacher",
                         eval_json=tmp_path / "ev" / "results.json", reuse_onnx=True)
    assert card.sha256 == first.sha256
    assert card.metrics.get("mean_dice") == pytest.approx(m["phantoms"]["all"]["mean_dice"])
    assert card.metrics.get("dice", "liver") is not None


def test_cli_generate_and_teacher_fallback_to_one_process(tmp_path, monkeypatch):
    from training.cli import main

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {n_stages: 2, base: 2, patch: [8, 8, 8]}\noptim: {steps: 1, batch_size: 1}\n"
                   f"data: {{phantom_dir: {tmp_path / 'ph'}, n_phantoms: 2, n_val_phantoms: 1, "
                   "phantom_spacing_mm: 8.0}\n"
                   f"run_dir: {tmp_path / 'run'}\n")
    assert main(["seg", "generate", "-c", str(cfg), "-q"]) == 0
    assert main(["seg", "train-teacher", "-c", str(cfg), "-q"]) == 0
    assert (tmp_path / "run" / "done.json").exists()
    assert main(["seg", "train-teacher", "-c", str(cfg), "--set", "optim.bogus=1", "-q"]) == 2


def test_ablation_runs_each_arm_with_its_terms_and_resumes(phantom_dir, teacher, tmp_path):
    from training.seg.ablation import run_ablation

    cfg = _cfg(phantom_dir, tmp_path / "unused", **{"distill.teacher_checkpoint": str(teacher),
                                                    "distill.context_levels": [0, 1], "optim.steps": 1})
    out = tmp_path / "abl"
    res = run_job(run_ablation(cfg, out, arms=["seg", "all"], n_cases=1))
    assert set(res) == {"seg", "all"}
    first = json.loads((out / "seg" / "log.jsonl").read_text().splitlines()[0])
    every = json.loads((out / "all" / "log.jsonl").read_text().splitlines()[0])
    assert set(first) & {"kd", "region", "context"} == set()
    assert {"kd", "region", "context"} <= set(every)
    assert "| all |" in (out / "ablation.md").read_text()
    again = run_job(run_ablation(cfg, out, arms=["seg", "all"], n_cases=1))  # finished arms are not rerun
    assert again == res
