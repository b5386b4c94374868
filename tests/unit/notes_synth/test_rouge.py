"""Our ROUGE against hand-computed values (the cross-check with rouge-score lives in tests/training)."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.notes.synth.rouge import lcs_length, rouge_scores, rouge_tokens


def test_tokens_follow_rouge_score_default():
    assert rouge_tokens("The cat's 2 HATS!") == ["the", "cat", "s", "2", "hats"]


def test_hand_computed_scores():
    s = rouge_scores("the cat sat on the mat", "the cat on the mat")
    assert s["rouge1"].precision == pytest.approx(1.0)
    assert s["rouge1"].recall == pytest.approx(5 / 6)
    assert s["rouge2"].precision == pytest.approx(3 / 4)  # the cat, on the, the mat
    assert s["rouge2"].recall == pytest.approx(3 / 5)
    assert s["rougeL"].fmeasure == pytest.approx(2 * 1 * (5 / 6) / (1 + 5 / 6))
    assert rouge_scores("a b", "")["rouge1"].fmeasure == 0.0


def test_lcs():
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], ["a"]) == 0
