"""Multi-label metrics, threshold tuning on validation, and the TF-IDF + logistic regression reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from medpriv_desktop.core.reports.thresholds import decide, f1_binary, tune_thresholds
from training.reports.data import ReportDataset


def multilabel_scores(y_true: np.ndarray, y_pred: np.ndarray, label_names: list[str]) -> dict[str, Any]:
    """Weighted F1 (by positives), macro F1 over labels that have positives, and per-label F1 and support."""
    support = y_true.sum(0)
    f1 = np.array([f1_binary(y_true[:, j], y_pred[:, j]) for j in range(y_true.shape[1])])
    has = support > 0
    weighted = float((f1 * support).sum() / support.sum()) if support.sum() else 0.0
    macro = float(f1[has].mean()) if has.any() else 0.0
    return {"weighted_f1": weighted, "macro_f1": macro, "n": int(y_true.shape[0]),
            "per_label": {n: {"f1": float(f1[j]), "support": int(support[j])} for j, n in enumerate(label_names)}}


def evaluate_probs(val_probs: np.ndarray, val: ReportDataset, test_probs: np.ndarray, test: ReportDataset,
                   min_val_positives: int = 1) -> tuple[np.ndarray, dict[str, Any]]:
    """Tune thresholds on validation, score the test split with them; return (thresholds, scores)."""
    th = tune_thresholds(val_probs, val.labels, min_positives=min_val_positives)
    scores = multilabel_scores(test.labels.astype(int), decide(test_probs, th), test.label_names)
    return th, scores


def tfidf_baseline(train: ReportDataset, val: ReportDataset, test: ReportDataset, seed: int = 0) -> dict[str, Any]:
    """Non-private reference: TF-IDF (1-2 grams) + one logistic regression per label, thresholds tuned on val."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    xtr = vec.fit_transform(train.texts)
    xva, xte = vec.transform(val.texts), vec.transform(test.texts)
    pva = np.zeros((len(val), len(train.label_names)))
    pte = np.zeros((len(test), len(train.label_names)))
    for j in range(len(train.label_names)):
        y = train.labels[:, j]
        if y.min() == y.max():  # a label with one class in training: constant prediction
            pva[:, j] = pte[:, j] = float(y[0])
            continue
        clf = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced", random_state=seed)
        clf.fit(xtr, y)
        pva[:, j] = clf.predict_proba(xva)[:, 1]
        pte[:, j] = clf.predict_proba(xte)[:, 1]
    _, scores = evaluate_probs(pva, val, pte, test)
    return scores
