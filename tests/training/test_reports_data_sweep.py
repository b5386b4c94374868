"""Data adapters on synthetic CSVs, and the sweep's resume-by-run, table and plot (no training: runs are faked)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

pytest.importorskip("torch")  # the sweep module imports the trainer

from medpriv_desktop.core.errors import InputError  # noqa: E402
from medpriv_desktop.core.reports.labels import CHEXPERT14, CTRATE18  # noqa: E402
from training.reports import sweep as sweep_mod  # noqa: E402
from training.reports.accounting import default_delta  # noqa: E402
from training.reports.data import load_chexpert_csv, load_ctrate, load_generic_csv, split_ids  # noqa: E402


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _ctrate_csv(path, n=40):
    rng = np.random.default_rng(0)
    rows = [[f"train_{i}", f"Report {i}. Lung nodule {i}." if i % 3 else ""] + list(rng.integers(0, 2, 18))
            for i in range(n)]
    return _write(path, ["AccessionNo", "report_text", *CTRATE18], rows)


def test_generic_csv_values_and_empty_rows(tmp_path):
    p = _write(tmp_path / "g.csv", ["id", "text", "A", "B"],
               [["1", "x", "1", "0"], ["2", "", "1", "1"], ["3", "y", "-1", ""], ["4", "z", "1.0", "0.0"]])
    ds = load_generic_csv(p, "text", ["A", "B"], "id", uncertain="ones")
    assert ds.ids == ["1", "3", "4"]  # the empty report is dropped
    assert ds.labels.tolist() == [[1, 0], [1, 0], [1, 0]]
    assert load_generic_csv(p, "text", ["A", "B"], "id", uncertain="zeros").labels[1].tolist() == [0, 0]


def test_chexpert_csv_and_errors(tmp_path):
    rows = [["r1", "No acute findings."] + [""] * 14, ["r2", "Effusion."] + ["-1"] + ["1"] * 13]
    p = _write(tmp_path / "m.csv", ["study", "report", *CHEXPERT14], rows)
    ds = load_chexpert_csv(p, "report", "study", uncertain="zeros")
    assert ds.label_set == "CheXpert" and ds.labels[0].sum() == 0 and ds.labels[1, 0] == 0 and ds.labels[1, 1] == 1
    with pytest.raises(InputError, match="lacks columns"):
        load_generic_csv(p, "text", ["A"])
    bad = _write(tmp_path / "b.csv", ["t", "A"], [["x", "maybe"]])
    with pytest.raises(InputError, match="non-number"):
        load_generic_csv(bad, "t", ["A"])


def test_ctrate_adapter_and_split(tmp_path):
    ds = load_ctrate(_ctrate_csv(tmp_path / "train.csv"))
    assert ds.label_names == list(CTRATE18) and len(ds) == 26  # every third report is empty
    tr, va, te = split_ids(ds.ids)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(len(ds)))
    assert default_delta(len(tr)) == pytest.approx(1 / (10 * len(tr)))


def _fake_record(cfg, train, val, test, log, save_to=None):
    f1 = 0.5 if math.isfinite(cfg.target_epsilon) else 0.7
    return {"config": {"target_epsilon": cfg.target_epsilon}, "seconds": 1.0, "steps": 3,
            "privacy": {"epsilon": cfg.target_epsilon if math.isfinite(cfg.target_epsilon) else None,
                        "noise_multiplier": 1.0, "target_epsilon_reached": True},
            "test": {"weighted_f1": f1 + 0.01 * cfg.seed, "macro_f1": f1 - 0.1, "n": len(test), "per_label": {}}}


def test_sweep_resumes_run_by_run_and_writes_table_and_plot(tmp_path, monkeypatch):
    csv_path = _ctrate_csv(tmp_path / "train.csv", n=60)
    calls = []

    def fake(*a, **k):
        calls.append(a[0].target_epsilon)
        return _fake_record(*a, **k)

    monkeypatch.setattr(sweep_mod, "run_one", fake)
    sc = sweep_mod.SweepConfig(datasets=(str(csv_path),), methods=("dp-head",), epsilons=(1.0, math.inf), seeds=(0, 1),
                               baselines=("tfidf",))
    out = tmp_path / "sweep"
    sweep_mod.run_sweep(sc, tmp_path, out, log=lambda m: None)
    assert len(calls) == 4
    (out / "runs" / "CT-RATE" / "dp-head-eps1-seed1.json").unlink()
    calls.clear()
    sweep_mod.run_sweep(sc, tmp_path, out, log=lambda m: None)
    assert calls == [1.0]  # only the missing run is trained again
    table = (out / "sweep_table.md").read_text()
    rows = json.loads((out / "sweep_table.json").read_text())
    by = {(r["method"], r["target_epsilon"]): r for r in rows}
    assert by[("dp-head", "1")]["seeds"] == 2 and by[("dp-head", "1")]["weighted_f1"] == pytest.approx(0.505)
    assert by[("head", "inf")]["weighted_f1"] == pytest.approx(0.705)
    assert any(r["method"] == "tfidf-logreg" for r in rows)
    assert "| CT-RATE | dp-head | 1 |" in table
    assert (out / "privacy_utility.png").stat().st_size > 5000


def test_load_dataset_kinds(tmp_path):
    from training.reports.data import load_dataset

    p = _write(tmp_path / "g.csv", ["id", "text", "A"], [["1", "x", "1"], ["2", "y", "0"]])
    assert load_dataset(str(p), kind="generic", text_column="text", label_columns=["A"]).labels.tolist() == [[1], [0]]
    with pytest.raises(InputError, match="needs a text column"):
        load_dataset(str(p), kind="generic")
    with pytest.raises(InputError, match="needs a data root"):
        load_dataset("openi")


def test_sweep_runs_the_informative_epsilons_first_and_resolves_configs():
    jobs = sweep_mod.job_order(("openi", "ctrate"), (0.01, 0.1, 1.0, 10.0, math.inf), (0, 1), full=True)
    assert len(jobs) == 2 * (5 * 2 + 2)
    first = [(d, e) for d, m, e, s in jobs[:4]]
    assert set(first) == {("openi", 10.0), ("ctrate", 10.0), ("openi", math.inf), ("ctrate", math.inf)}
    assert all(s == 0 for *_, s in jobs[:12]) and all(s == 1 for *_, s in jobs[12:])
    assert [e for d, m, e, s in jobs[4:6]] == [1.0, 1.0]
    assert jobs[10][1] == jobs[11][1] == "full"
    sc = sweep_mod.SweepConfig()
    assert sweep_mod.job_order(("openi",), (10.0,), (0,), full=False, methods=sc.methods) == [
        ("openi", "dp-rules-head", 10.0, 0), ("openi", "dp-lora", 10.0, 0), ("openi", "dp-head", 10.0, 0)]
    dp = sweep_mod.run_config(sc, "ctrate", "dp-head", 10.0, 0)
    nonpriv = sweep_mod.run_config(sc, "ctrate", "dp-head", math.inf, 1)
    full = sweep_mod.run_config(sc, "openi", "full", math.inf, 0)
    lora = sweep_mod.run_config(sc, "openi", "dp-lora", 10.0, 0)
    assert dp.method == "dp-head" and dp.batch_size == sweep_mod.CPU_OVERRIDES["ctrate"]["batch_size"]
    # Epsilon inf uses exactly the DP runs' hyper-parameters (only the seed and epsilon differ).
    from dataclasses import replace

    assert replace(nonpriv, seed=0, target_epsilon=10.0) == dp
    assert sweep_mod.record_method("dp-head", math.inf) == "head"
    assert sweep_mod.record_method("dp-lora", 1.0) == "dp-lora"
    assert full.method == "full" and full.lr == sweep_mod.FULL_FT["lr"]
    assert lora.method == "dp-lora" and lora.lr == sweep_mod.LORA_CPU["lr"] and lora.lora_layers == 1
    assert lora.lora_scope == "ffn-out" and lora.target_epsilon == 10.0
    # DP-LoRA at epsilon inf is the same recipe without noise and clipping (the non-private LoRA row).
    lora_inf = sweep_mod.run_config(sc, "ctrate", "dp-lora", math.inf, 0)
    assert replace(lora_inf, target_epsilon=10.0) == sweep_mod.run_config(sc, "ctrate", "dp-lora", 10.0, 0)
    assert lora_inf.max_tokens == 512 and lora_inf.physical_batch_size == 64


def test_sweep_command_flags_reach_every_run(tmp_path, monkeypatch, capsys):
    """`medpriv-train reports sweep`: --methods picks the DP methods, and explicit training flags win over the
    recipe (also over the DP-LoRA settings applied on top of it); an unknown method is refused by name."""
    from training.cli import main

    seen = {}

    def fake_sweep(sc, data_root, out_dir, log=print):
        seen["sc"] = sc
        (out_dir / "sweep_table.md").parent.mkdir(parents=True, exist_ok=True)
        (out_dir / "sweep_table.md").write_text("table\n")
        return []

    monkeypatch.setattr(sweep_mod, "run_sweep", fake_sweep)
    out = tmp_path / "sw"
    assert main(["reports", "sweep", "-o", str(out), "--methods", "dp-lora", "--lr", "0.5", "--datasets",
                 "openi"]) == 0
    sc = seen["sc"]
    assert sc.methods == ("dp-lora",) and sc.datasets == ("openi",)
    assert sweep_mod.run_config(sc, "openi", "dp-lora", 10.0, 0).lr == 0.5
    assert sweep_mod.run_config(sc, "ctrate", "dp-head", 1.0, 0).lr == 0.5
    assert main(["reports", "sweep", "-o", str(out), "--methods", "dp-lora,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["reports", "sweep", "-o", str(out), "--methods", "dp-rules-head", "--steps", "50", "--pos-weight",
                 "3"]) == 0
    assert seen["sc"].methods == ("dp-rules-head",)
    assert seen["sc"].hybrid_explicit["steps"] == 50 and seen["sc"].hybrid_explicit["pos_weight"] == 3.0


def test_sweep_runs_the_rules_head_with_its_recipe_and_explicit_flags(tmp_path, monkeypatch):
    """dp-rules-head runs go through the rules + encoder path with the dataset's recipe, explicit flags win, the
    epsilon-inf run is the same recipe without DP, and the rule labeler's own scores land beside them."""
    csv_path = _ctrate_csv(tmp_path / "train.csv", n=60)
    seen = []

    def fake_run(cfg, data, log, save_to=None):
        seen.append(cfg)
        return {"config": {}, "privacy": {"epsilon": cfg.target_epsilon if math.isfinite(cfg.target_epsilon) else
                                          None}, "test": {"weighted_f1": 0.8, "macro_f1": 0.7}, "seconds": 0.0}

    monkeypatch.setattr(sweep_mod, "load_hybrid_data", lambda ds, cfg, cache, log: object())
    monkeypatch.setattr(sweep_mod, "run_hybrid", fake_run)
    sc = sweep_mod.SweepConfig(datasets=(str(csv_path),), methods=("dp-rules-head",), epsilons=(10.0, math.inf),
                               seeds=(0,), baselines=("rules",), hybrid_explicit={"steps": 50})
    out = tmp_path / "sweep"
    sweep_mod.run_sweep(sc, tmp_path, out, log=lambda m: None)
    assert [(c.method, c.target_epsilon, c.steps, c.max_tokens) for c in seen] == [
        ("dp-rules-head", 10.0, 50, 512), ("dp-rules-head", math.inf, 50, 512)]
    names = sorted(p.name for p in (out / "runs" / "CT-RATE").glob("*.json"))
    assert names == ["dp-rules-head-eps10-seed0.json", "dp-rules-head-epsinf-seed0.json", "rules.json"]
    rows = {(r["method"], r["target_epsilon"]) for r in json.loads((out / "sweep_table.json").read_text())}
    assert {("dp-rules-head", "10"), ("rules-head", "inf"), ("rules", "-")} <= rows
