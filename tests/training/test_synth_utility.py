"""The utility experiment on tiny made-up labelled reports: ratios are F1(synthetic) / F1(real) on real tests."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from medpriv_desktop.core.jobs import run_job  # noqa: E402
from training.reports.data import ReportDataset  # noqa: E402
from training.synth.utility import f1_scores, utility_experiment  # noqa: E402


def _dataset(n: int = 240, seed: int = 0) -> ReportDataset:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        eff, ptx = rng.random() < 0.4, rng.random() < 0.3
        parts = ["Heart size is normal."]
        parts.append("Moderate pleural effusion on the left." if eff else "No pleural effusion.")
        parts.append("Small pneumothorax at the apex." if ptx else "No pneumothorax.")
        parts.append(rng.choice(["Lungs otherwise clear.", "Mild atelectasis at the bases.", "Stable mediastinum."]))
        texts.append(" ".join(parts))
        labels.append([float(eff), float(ptx)])
    return ReportDataset("tiny", "tiny", ["effusion", "pneumothorax"], [f"r{i}" for i in range(n)], texts,
                         np.asarray(labels, dtype=np.float32))


def test_f1_scores_match_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y, p = rng.random((50, 4)) < 0.3, rng.random((50, 4)) < 0.4
    got = f1_scores(y, p)
    assert got["f1_micro"] == pytest.approx(f1_score(y, p, average="micro"))
    assert got["f1_macro"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))


def test_keyword_synthetic_reports_keep_negation_and_utility():
    res = run_job(utility_experiment([_dataset()], ["keyword", "one-shot"], detector=None))
    d = res["datasets"]["tiny"]
    assert d["real"]["f1_macro"] > 0.95
    kw = d["methods"]["keyword"]
    # negated findings survive as "No ..." sentences, so a classifier trained on synthetic reports still works
    assert kw["ratio_macro"] > 0.8 and kw["ratio_micro"] > 0.8
    assert kw["ratio_macro"] == pytest.approx(kw["f1_macro_synth"] / d["real"]["f1_macro"])
    assert d["n_test"] > 20
