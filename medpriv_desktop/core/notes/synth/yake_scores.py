"""A small YAKE keyword scorer (Campos et al., Information Sciences 2020) so the app needs no extra package.

YAKE ranks candidate n-grams by statistics of the one text alone: casing, position of first sentences, normalised
frequency, how many different words surround a word (relatedness) and how many sentences it appears in. Lower score
is better. This implementation follows the published formulas; a test under ``tests/training`` compares its ranking
with the ``yake`` package where that is installed.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict

from medpriv_desktop.core.notes.synth.terms import STOPWORDS

_SENT = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n|\n(?=[A-Z][A-Z /]{1,30}:)")
_TOKEN = re.compile(r"\[[A-Z_]+\]|[A-Za-z][A-Za-z'/-]*[A-Za-z]|[A-Za-z]|\d[\d.,/:-]*|[^\w\s]")


def _sentences(text: str) -> list[list[str]]:
    out = []
    for s in _SENT.split(text):
        toks = _TOKEN.findall(s)
        if toks:
            out.append(toks)
    return out


def _is_word(tok: str) -> bool:
    return tok[:1].isalpha()


def yake_keywords(text: str, top: int = 20, max_ngram: int = 3, dedup: float = 0.8) -> list[tuple[str, float]]:
    """Top ``top`` keywords of ``text`` as ``(phrase, score)``, lower score = more relevant. Tokens in brackets
    (de-identification tags) and numbers break candidates and never appear in one."""
    sents = _sentences(text)
    if not sents:
        return []
    tf: dict[str, int] = defaultdict(int)
    tf_upper: dict[str, int] = defaultdict(int)
    tf_acro: dict[str, int] = defaultdict(int)
    where: dict[str, list[int]] = defaultdict(list)
    left: dict[str, list[str]] = defaultdict(list)
    right: dict[str, list[str]] = defaultdict(list)
    for si, toks in enumerate(sents):
        prev = None
        for ti, tok in enumerate(toks):
            if not _is_word(tok):
                prev = None
                continue
            w = tok.lower()
            tf[w] += 1
            where[w].append(si)
            if len(tok) > 1 and tok.isupper():
                tf_acro[w] += 1
            elif tok[0].isupper() and ti > 0:
                tf_upper[w] += 1
            if prev is not None:
                left[w].append(prev)
                right[prev].append(w)
            prev = w
    content = [tf[w] for w in tf if w not in STOPWORDS]
    if not content:
        return []
    mean_tf = statistics.mean(content)
    std_tf = statistics.pstdev(content)
    max_tf = max(content)
    n_sent = len(sents)
    score: dict[str, float] = {}
    for w, f in tf.items():
        t_case = max(tf_upper[w], tf_acro[w]) / (1.0 + math.log(f))
        t_pos = math.log(math.log(3.0 + statistics.median(where[w])))
        t_norm = f / (mean_tf + std_tf)
        dl = len(set(left[w])) / len(left[w]) if left[w] else 0.0
        dr = len(set(right[w])) / len(right[w]) if right[w] else 0.0
        t_rel = 1.0 + (dl + dr) * f / max_tf
        t_sent = len(set(where[w])) / n_sent
        score[w] = (t_rel * t_pos) / (t_case + t_norm / t_rel + t_sent / t_rel)
    cand_tf: dict[str, int] = defaultdict(int)
    cand_words: dict[str, tuple[str, ...]] = {}
    for toks in sents:
        for i in range(len(toks)):
            words: list[str] = []
            for j in range(i, min(i + max_ngram, len(toks))):
                if not _is_word(toks[j]):
                    break
                words.append(toks[j].lower())
                if words[0] in STOPWORDS or words[-1] in STOPWORDS or len(words[-1]) < 2:
                    continue
                key = " ".join(words)
                cand_tf[key] += 1
                cand_words[key] = tuple(words)
    scored = []
    for key, words in cand_words.items():
        prod, total = 1.0, 0.0
        for k, w in enumerate(words):
            if w in STOPWORDS and 0 < k < len(words) - 1:
                # YAKE's treatment of inner stop words: use the bigram probabilities around them.
                p_left = right[words[k - 1]].count(w) / max(tf[words[k - 1]], 1)
                p_right = left[words[k + 1]].count(w) / max(tf[words[k + 1]], 1)
                prob = p_left * p_right
                prod *= 1 + (1 - prob)
                total -= 1 - prob
            else:
                prod *= score[w]
                total += score[w]
        scored.append((key, prod / (cand_tf[key] * (1.0 + total))))
    scored.sort(key=lambda x: (x[1], x[0]))
    chosen: list[tuple[str, float]] = []
    for key, s in scored:
        if any(_similar(key, c) > dedup for c, _ in chosen):
            continue
        chosen.append((key, s))
        if len(chosen) >= top:
            break
    return chosen


def _similar(a: str, b: str) -> float:
    """Character-trigram overlap (YAKE's sequence-matcher dedup, cheaper)."""
    if a in b or b in a:
        return 1.0
    ta = {a[i:i + 3] for i in range(max(1, len(a) - 2))}
    tb = {b[i:i + 3] for i in range(max(1, len(b) - 2))}
    return len(ta & tb) / max(1, len(ta | tb))
