"""Per-label decision thresholds: apply them, and tune them on a validation split (numpy only)."""

from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 0.5


def decide(probs: np.ndarray, thresholds: np.ndarray | list[float | None]) -> np.ndarray:
    """0/1 decisions: 1 where the probability reaches the label's threshold (``None`` = unsupported, always 0)."""
    probs = np.asarray(probs, dtype=np.float64)
    th = np.array([np.inf if t is None else float(t) for t in thresholds], dtype=np.float64)
    if probs.shape[-1] != th.shape[0]:
        raise ValueError(f"{probs.shape[-1]} probabilities per row but {th.shape[0]} thresholds")
    return (probs >= th).astype(np.int8)


def f1_binary(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of one label (0 when there are neither true nor predicted positives)."""
    tp = float(np.sum((y_true == 1) & (y_pred == 1)))
    fp = float(np.sum((y_true == 0) & (y_pred == 1)))
    fn = float(np.sum((y_true == 1) & (y_pred == 0)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def tune_thresholds(probs: np.ndarray, labels: np.ndarray, default: float = DEFAULT_THRESHOLD,
                    min_positives: int = 1) -> np.ndarray:
    """The threshold per label that maximises F1 on (``probs``, ``labels``).

    Candidates are midpoints between sorted distinct probabilities, so the chosen value separates the validation
    reports the same way on any data with the same scores. Labels with fewer than ``min_positives`` positives keep
    ``default``: a threshold fitted to no positive would be noise. Among equal F1 the higher threshold wins
    (fewer false alarms).
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    out = np.full(probs.shape[1], default, dtype=np.float64)
    for j in range(probs.shape[1]):
        y = labels[:, j]
        if y.sum() < min_positives:
            continue
        p = np.unique(probs[:, j])
        cands = np.concatenate([(p[:-1] + p[1:]) / 2, [p[0] - 1e-6 if p[0] > 1e-6 else p[0]]]) if len(p) > 1 else p
        best_f, best_t = -1.0, default
        for t in np.sort(cands):
            f = f1_binary(y, (probs[:, j] >= t).astype(int))
            if f >= best_f:
                best_f, best_t = f, float(t)
        out[j] = min(max(best_t, 0.0), 1.0)
    return out
