"""The tagger's window merge and word growing are numpy code; they must give exactly what the plain loops they
replaced gave (the loops are written out here as the reference): per token the window where it sits most centrally
(the earlier one on a tie), every piece grown to its whole ``str.isalnum`` word, per word its best piece (the first
among equals)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from medpriv_desktop.core.notes.model_recognizer import PhiModelRecognizer, WordScore
from medpriv_desktop.core.text.encoder import Chunk, ChunkLogits, merge_token_scores

LABELS = ["O", "B-NAME", "I-NAME", "B-DATE", "I-DATE", "B-LOCATION", "I-LOCATION"]


def reference_merge(chunks):
    best = {}
    for cl in chunks:
        content = [i for i in range(len(cl.chunk.ids)) if not cl.chunk.special[i]]
        for k, i in enumerate(content):
            g = cl.chunk.first_token + k
            margin = min(k, len(content) - 1 - k)
            if g not in best or margin > best[g][0]:
                best[g] = (margin, cl.chunk.offsets[i], cl.logits[i])
    order = sorted(best)
    return [best[g][1] for g in order], np.stack([best[g][2] for g in order])


def reference_words(rec, text, chunks):
    offsets, logits = reference_merge(chunks)
    p_phi, per_type = rec._type_probs(logits.astype(np.float32))
    words = {}
    for (s, e), p, pt in zip(offsets, p_phi, per_type):
        if e <= s:
            continue
        ws, we = s, e
        while ws > 0 and text[ws - 1].isalnum():
            ws -= 1
        while we < len(text) and text[we].isalnum():
            we += 1
        kind = rec.type_names[int(np.argmax(pt))]
        if (ws, we) not in words or words[(ws, we)][0] < p:
            words[(ws, we)] = (float(p), kind)
    return [WordScore(s, e, p, k) for (s, e), (p, k) in sorted(words.items())]


def windows(text: str, rng: random.Random, body: int, stride: int, quantised: bool):
    """Word-piece-like tokens of ``text`` (pieces of 1-4 characters, some zero-length), cut into overlapping
    windows with [CLS]/[SEP], random logits (from three values when ``quantised``, so that ties between windows and
    between the pieces of one word happen)."""
    offs, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        n = rng.randint(1, 4)
        offs.append((i, min(len(text), i + n)))
        if rng.random() < 0.05:
            offs.append((i, i))  # a zero-width piece (some tokenizers emit them)
        i += n
    chunks, start = [], 0
    while True:
        end = min(start + body, len(offs))
        part = offs[start:end]
        draw = (lambda: rng.choice([-2.0, 0.0, 2.0])) if quantised else (lambda: rng.gauss(0, 3))
        logits = np.asarray([[draw() for _ in LABELS] for _ in range(len(part) + 2)], dtype=np.float32)
        chunk = Chunk([0] * (len(part) + 2), [(0, 0)] + part + [(0, 0)], [True] + [False] * len(part) + [True], start)
        chunks.append(ChunkLogits(chunk, logits))
        if end >= len(offs):
            break
        start += body - stride
    return chunks


TEXTS = [
    "Pt seen by Dr. Jane O'Neil-Smith on 10/13; f/u w/ husband tomas 617-555-0199 x23.",
    "ÉLODIE Müller (née Søren) transferred from Sainte-Anne, 3rd floor; BP 120/80.",
    "x",
    "ALL CAPS NOTE WITH NAME JOHN DOE AND DATE 2/3/91",
    "trailing word at the end",
    "   leading blanks and ½ a tablet, ①②, café au lait",
]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("text", TEXTS)
def test_merge_and_words_equal_the_plain_loops(text, seed):
    rng = random.Random(seed)
    rec = PhiModelRecognizer(None, LABELS)
    chunks = windows(text, rng, body=rng.choice([3, 5, 8, 40]), stride=rng.choice([0, 1, 2]), quantised=seed % 2 == 0)
    ref_offsets, ref_logits = reference_merge(chunks)
    offsets, logits = merge_token_scores(chunks)
    assert offsets == ref_offsets
    assert np.array_equal(logits, ref_logits)
    assert rec._words(text, chunks) == reference_words(rec, text, chunks)


def test_a_piece_grows_to_its_whole_word_and_the_word_keeps_its_best_piece():
    text = "seen by ODILE-Ruiz today"
    rec = PhiModelRecognizer(None, LABELS)
    # pieces "OD", "ILE" (one word), "-", "Ruiz"; "ILE" scores highest as a NAME
    offs = [(8, 10), (10, 13), (13, 14), (14, 18)]
    logits = np.full((6, len(LABELS)), -5.0, dtype=np.float32)
    logits[:, 0] = 5.0
    logits[2, 0], logits[2, 1] = -5.0, 5.0  # "ILE": B-NAME
    chunk = Chunk([0] * 6, [(0, 0)] + offs + [(0, 0)], [True, False, False, False, False, True], 0)
    words = rec._words(text, [ChunkLogits(chunk, logits)])
    # a lone hyphen touches letters on both sides, so it grows to the whole hyphenated run
    assert [text[w.start:w.end] for w in words] == ["ODILE", "ODILE-Ruiz", "Ruiz"]
    odile = words[0]
    assert (odile.start, odile.end, odile.kind) == (8, 13, "NAME") and odile.p_phi > 0.99
    assert all(w.p_phi < 0.01 for w in words[1:])


def test_pieces_of_one_word_that_score_the_same_keep_the_first_pieces_type():
    text = "Marlowe"
    rec = PhiModelRecognizer(None, LABELS)
    logits = np.zeros((4, len(LABELS)), dtype=np.float32)
    logits[1, LABELS.index("B-NAME")] = 2.0  # "Mar": NAME
    logits[2, LABELS.index("B-DATE")] = 2.0  # "lowe": DATE, the same 1 - P(O)
    chunk = Chunk([0] * 4, [(0, 0), (0, 3), (3, 7), (0, 0)], [True, False, False, True], 0)
    words = rec._words(text, [ChunkLogits(chunk, logits)])
    assert [(w.start, w.end, w.kind) for w in words] == [(0, 7, "NAME")]
    assert words == reference_words(rec, text, [ChunkLogits(chunk, logits)])
