"""The one-run canary audit: the bound's arithmetic, the fixed canary design, and an end-to-end run on a tiny
dataset where the non-private model must leak and the DP one must stay under its epsilon (no encoder: fake
features)."""

from __future__ import annotations

import csv
import hashlib
import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("opacus")
pytest.importorskip("scipy")

from medpriv_desktop.core.reports.labels import CTRATE18  # noqa: E402
from training.reports import audit  # noqa: E402


def test_all_correct_guesses_match_the_closed_form():
    # With delta = 0 and every guess right, p = q^r, so the bound solves q = beta^(1/r).
    r, beta = 100, 0.05
    q = beta ** (1 / r)
    assert audit.epsilon_lower_bound(1000, r, r, 0.0, beta) == pytest.approx(math.log(q / (1 - q)), abs=1e-4)


def test_delta_weakens_and_chance_gives_no_bound():
    strong = audit.epsilon_lower_bound(1000, 200, 180, 0.0, 0.05)
    assert 0 < audit.epsilon_lower_bound(1000, 200, 180, 1e-4, 0.05) < strong
    assert audit.epsilon_lower_bound(1000, 200, 100, 0.0, 0.05) == 0.0
    assert audit.p_value(1000, 200, 100, 0.0, 0.0) > 0.4


@pytest.mark.parametrize("separation,expect_bound", [(0.0, False), (10.0, True)])
def test_audit_scores_from_random_and_separating_scores(separation, expect_bound):
    rng = np.random.default_rng(0)
    member = rng.random(1000) < 0.5
    scores = rng.normal(size=1000) + separation * member
    res = audit.audit_scores(scores, member, delta=1e-5)
    assert (res["epsilon_lower_bound"] > 3.0) == expect_bound
    assert res["epsilon_lower_bound"] >= 0 and len(res["per_k"]) == len(audit.GUESSES)


def test_canary_design_is_fixed_unique_and_invisible_to_the_rules():
    from medpriv_desktop.core.reports.rule_features import RuleFeatures

    texts = audit.canary_texts()
    assert len(texts) == audit.M_CANARIES == len(set(texts)) and texts == audit.canary_texts()
    assert RuleFeatures("CT-RATE")(texts).sum() == 0 and RuleFeatures("ChestX-ray14")(texts).sum() == 0
    y = audit.canary_labels(audit.M_CANARIES, 18)
    assert (y.sum(1) == 1).all() and (y.argmax(1) == np.arange(audit.M_CANARIES) % 18).all()
    inc = audit.inclusion()
    assert 450 < inc.sum() < 550 and (inc == audit.inclusion()).all()


def _fake_pooled(texts, num_layers, max_tokens, backbone=None, cache_dir=None, **kw):
    rows = [np.random.default_rng(int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big")).normal(size=384)
            for t in texts]
    return np.asarray(rows, dtype=np.float32)


def test_end_to_end_non_private_leaks_and_dp_stays_under_epsilon(tmp_path, monkeypatch):
    from training.reports import features, hybrid_run

    recipe = hybrid_run.hybrid_recipe
    monkeypatch.setattr(features, "pooled_features", _fake_pooled)
    monkeypatch.setattr(hybrid_run, "pooled_features", _fake_pooled)
    # RDP finds the noise in well under a second; PRV (the recipe's accountant) takes half a minute here.
    monkeypatch.setattr(hybrid_run, "hybrid_recipe",
                        lambda d, **kw: recipe(d, **{"accountant": "rdp", "steps": 120, **kw}))
    monkeypatch.setattr(audit, "M_CANARIES", 300)
    monkeypatch.setattr(audit, "GUESSES", (20, 60, 150))
    rng = np.random.default_rng(0)
    path = tmp_path / "train.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["AccessionNo", "report_text", *CTRATE18])
        for i in range(300):
            w.writerow([f"r{i}", "No pleural effusion. Mild cardiomegaly." if i % 2 else "Lungs are clear."]
                       + list(rng.integers(0, 2, 18) * (rng.random(18) < 0.2)))
    out = tmp_path / "audit"
    recs = audit.run_audit(str(path), tmp_path, out, epsilons=(0.1, math.inf), log=lambda m: None)
    by = {r["target_epsilon"]: r for r in recs}
    assert by["inf"]["epsilon_lower_bound"] > 0.5  # the design can see leakage
    assert by["0.1"]["epsilon_lower_bound"] <= 0.1 + 1e-9
    assert (out / "audit_table.md").read_text().count("| CT-RATE |") == 2 and (out / "audit_plot.png").exists()
