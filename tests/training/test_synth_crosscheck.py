"""Our ROUGE and YAKE against the reference packages (train extra: rouge-score, yake)."""

from __future__ import annotations

import random

import pytest

from medpriv_desktop.core.notes.synth.rouge import rouge_scores
from medpriv_desktop.core.notes.synth.yake_scores import yake_keywords

WORDS = ("patient chest pain fever cough no acute effusion pneumothorax the a of with and lungs clear heart size "
         "normal stable overnight given aspirin lasix foley 2 mg left right base mild").split()


def _text(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    # punctuation and case that the tokenizer must ignore
    return " ".join(w.upper() if rng.random() < 0.2 else w for w in words).replace(" the ", ", the ") + "."


def test_rouge_matches_rouge_score_on_random_texts():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    rng = random.Random(0)
    for _ in range(60):
        ref, pred = _text(rng, rng.randint(1, 40)), _text(rng, rng.randint(1, 40))
        ref_scores = scorer.score(ref, pred)
        ours = rouge_scores(ref, pred)
        for k in ("rouge1", "rouge2", "rougeL"):
            assert ours[k].precision == pytest.approx(ref_scores[k].precision, abs=1e-9)
            assert ours[k].recall == pytest.approx(ref_scores[k].recall, abs=1e-9)
            assert ours[k].fmeasure == pytest.approx(ref_scores[k].fmeasure, abs=1e-9)


def test_yake_scores_rank_like_the_yake_package():
    yake = pytest.importorskip("yake")
    from scipy.stats import spearmanr

    # no words from our clinical stop list, so both see the same candidates; deduplication off on both sides
    text = ("Admitted with swan placement planned. Swan placement consent signed by mother after discussion. "
            "Sedated with versed; agitated overnight and needed additional medication. Mother agreed to swan "
            "placement. Lungs clear. Foley draining clear urine. Plan to continue sedation and monitor urine output.")
    ref = {k.lower(): s for k, s in yake.KeywordExtractor(lan="en", n=3, top=200, dedup_lim=1.0).extract_keywords(text)}
    ours = dict(yake_keywords(text, top=200, dedup=1.01))
    common = [k for k in ref if k in ours]
    assert len(common) >= 0.8 * len(ref)
    rho = spearmanr([ref[k] for k in common], [ours[k] for k in common]).statistic
    assert rho > 0.95, rho
    assert min(ours, key=ours.get) == min(ref, key=ref.get)
