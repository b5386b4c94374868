"""ROUGE-N and ROUGE-L (Lin 2004) F-measure, written here so the app needs no ``rouge-score`` at run time.

Tokenisation follows rouge-score's default (lower case, every run of non-alphanumeric characters is a separator, no
stemming); a test under ``tests/training`` checks the numbers against ``rouge-score`` itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokens: lower-cased alphanumeric runs."""
    return [t for t in _NON_ALNUM.split(text.lower()) if t]


@dataclass(frozen=True)
class RougeScore:
    """Precision, recall and F-measure of one ROUGE variant."""

    precision: float
    recall: float
    fmeasure: float


def _prf(overlap: int, n_pred: int, n_ref: int) -> RougeScore:
    p = overlap / n_pred if n_pred else 0.0
    r = overlap / n_ref if n_ref else 0.0
    return RougeScore(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def rouge_n(reference: list[str], prediction: list[str], n: int) -> RougeScore:
    """ROUGE-N from clipped n-gram counts."""
    ref = Counter(tuple(reference[i:i + n]) for i in range(len(reference) - n + 1))
    pred = Counter(tuple(prediction[i:i + n]) for i in range(len(prediction) - n + 1))
    overlap = sum((ref & pred).values())
    return _prf(overlap, sum(pred.values()), sum(ref.values()))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (two-row dynamic programme)."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(reference: list[str], prediction: list[str]) -> RougeScore:
    """Sentence-level ROUGE-L (whole text as one sequence, as rouge-score's ``rougeL``)."""
    return _prf(lcs_length(reference, prediction), len(prediction), len(reference))


def rouge_scores(reference: str, prediction: str) -> dict[str, RougeScore]:
    """ROUGE-1, ROUGE-2 and ROUGE-L of ``prediction`` against ``reference``."""
    ref, pred = rouge_tokens(reference), rouge_tokens(prediction)
    return {"rouge1": rouge_n(ref, pred, 1), "rouge2": rouge_n(ref, pred, 2), "rougeL": rouge_l(ref, pred)}
