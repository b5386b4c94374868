"""How much a note's PHI spans would move if the tagger's windows were batched, as the encoder did before 2026-12-06.

The bundled int8 tagger quantizes activations with one scale per input tensor, so a padded batch of windows shares
that scale. ``core/text/encoder.py`` now runs every window by itself; this benchmark rebuilds the old way beside it,
with the same session: the windows of all the notes sorted by length, cut into batches of ``--batch`` (16 then),
padded to the longest. For each note it compares the tagger's spans (after the veto, at the card's thresholds) with
the per-window ones and reports how many notes and spans differ, and the largest change in a word's PHI probability.
Speed is not measured here (see ``benchmarks/run.py deid``).

Notes: the PhysioNet development notes of the tuning part (scoring only, nothing is printed of a note; the locked
part is not read), from ``../shared/data`` or ``MEDPRIV_DATA``; skips with a message when they are absent.
Usage: ``python benchmarks/run.py text_batching [--batch=16]``.
"""

from __future__ import annotations

import medpriv_desktop  # noqa: F401  - offline switches before anything else

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks._machine import write_result  # noqa: E402
from benchmarks.bench_deid import shared_dir  # noqa: E402


def batched_logits(encoder, texts: list[str], batch: int) -> list[list]:
    """The encoder's windows run the old way: length-sorted, ``batch`` at a time, padded with the [PAD] id."""
    from medpriv_desktop.core.text.encoder import ChunkLogits

    per_text = encoder.encode(texts)
    flat = sorted(((t, j, c) for t, cs in enumerate(per_text) for j, c in enumerate(cs)), key=lambda x: len(x[2].ids))
    pad = encoder.tokenizer.token_to_id("[PAD]") or 0
    out: dict[tuple[int, int], ChunkLogits] = {}
    for b in range(0, len(flat), batch):
        part = flat[b:b + batch]
        width = max(len(c.ids) for _, _, c in part)
        ids = np.full((len(part), width), pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, (_, _, c) in enumerate(part):
            ids[i, :len(c.ids)] = c.ids
            mask[i, :len(c.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in encoder.input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        res = encoder.session.run([encoder.output_name], {k: v for k, v in feed.items() if k in encoder.input_names})[0]
        for i, (t, j, c) in enumerate(part):
            out[(t, j)] = ChunkLogits(c, res[i, :len(c.ids)])
    return [[out[(t, j)] for j in range(len(cs))] for t, cs in enumerate(per_text)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16, help="windows per batch in the old way (16 before 2026-12-06)")
    a = ap.parse_args()
    data = shared_dir()
    if data is None:
        print("skipped: ../shared/data/notes/physionet-deid not found (set MEDPRIV_DATA)")
        return 0
    from medpriv_desktop.core.app.notes import keep_torch_out

    keep_torch_out()
    from medpriv_desktop.core.notes.eval_parts import select_part
    from medpriv_desktop.core.notes.evaluation import read_physionet_corpus
    from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer

    texts = [d.text for d in select_part(read_physionet_corpus(data / "notes" / "physionet-deid"), "tuning")
             if d.text.strip()]
    tagger = load_default_model_recognizer()
    alone = tagger.word_scores_many(texts)
    batched = [tagger._words(t, chunks) for t, chunks in zip(texts, batched_logits(tagger.encoder, texts, a.batch))]
    notes_differ = spans_differ = spans_total = 0
    max_dp = 0.0
    for text, w1, w2 in zip(texts, alone, batched):
        s1 = {(s.start, s.end, s.category) for s in tagger.spans_from_words(text, w1)}
        s2 = {(s.start, s.end, s.category) for s in tagger.spans_from_words(text, w2)}
        spans_total += len(s1)
        spans_differ += len(s1 ^ s2)
        notes_differ += s1 != s2
        p1 = {(w.start, w.end): w.p_phi for w in w1}
        max_dp = max([max_dp] + [abs(p1[(w.start, w.end)] - w.p_phi) for w in w2 if (w.start, w.end) in p1])
    res = {"part": "tuning", "notes": len(texts), "batch": a.batch, "model": tagger.model_id,
           "notes_whose_spans_differ": notes_differ, "span_differences": spans_differ,
           "spans_per_window_run": spans_total, "max_word_probability_change": round(max_dp, 4)}
    print(f"tuning part, {len(texts)} notes, {tagger.model_id}: batched {a.batch} at a time, "
          f"{notes_differ} notes get other spans than with each window run by itself "
          f"({spans_differ} span differences; {spans_total} spans per window); "
          f"largest change of a word's PHI probability {max_dp:.4f}")
    print(f"wrote {write_result('text_batching', res)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
