"""Synthetic-note speed: keyword path against one-shot, our ROUGE against rouge-score, MiniLM int8 embeddings, and
the ONNX causal-LM engine's decoding rate on a tiny exported GPT-2.

Notes come from ``../shared/data/notes/physionet-deid`` when present (made-up notes otherwise); nothing generated is
written. Prints a table and writes ``benchmarks/results/synth.json``. Targets: keyword path >= 5 notes/s (de-identifier
included), our ROUGE within 3x of rouge-score's speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))


def _notes(n: int) -> tuple[list[str], str]:
    env = os.environ.get("MEDPRIV_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    folder = root / "notes" / "physionet-deid"
    if folder.is_dir():
        from medpriv_desktop.core.notes.synth.corpus import read_physionet

        return [s.text for s in read_physionet(folder, n)], "PhysioNet deid (shared data)"
    body = ("Pt resting comfortably overnight. Afebrile, lungs with crackles at bases. Given lasix and aspirin. "
            "Foley draining clear urine. Plan: monitor urine output, fall precautions. ")
    return [body * 4 for _ in range(n)], "made-up notes"


def _rate(fn, items) -> float:
    t = time.perf_counter()
    for x in items:
        fn(x)
    return len(items) / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=100)
    ap.add_argument("--lm-tokens", type=int, default=64)
    args = ap.parse_args()
    from _machine import write_result

    from medpriv_desktop.core.notes.engine import DeidEngine
    from medpriv_desktop.core.notes.synth.engines import get_engine
    from medpriv_desktop.core.notes.synth.keywords import KeywordGate
    from medpriv_desktop.core.notes.synth.methods import prepare_request
    from medpriv_desktop.core.notes.synth.quality import load_embedding_encoder
    from medpriv_desktop.core.notes.synth.rouge import rouge_scores

    notes, source = _notes(args.notes)
    t = time.perf_counter()
    det = DeidEngine()
    build_s = time.perf_counter() - t
    eng, gate = get_engine("template"), KeywordGate(det)
    rows = {"deid_build_s": build_s, "source": source, "n_notes": len(notes)}
    cold_gate = KeywordGate(det)
    rows["keyword_notes_per_s_cold_gate"] = _rate(
        lambda x: eng.generate(prepare_request(x, "keyword", det, gate=cold_gate).request), notes)
    # same notes again through the same gate: its keyword decisions are memoised
    rows["keyword_notes_per_s_warm_gate"] = _rate(
        lambda x: eng.generate(prepare_request(x, "keyword", det, gate=cold_gate).request), notes)
    rows["one_shot_raw_notes_per_s"] = _rate(
        lambda x: eng.generate(prepare_request(x, "one-shot", det, source_mode="raw").request), notes)
    rows["one_shot_tagged_notes_per_s"] = _rate(
        lambda x: eng.generate(prepare_request(x, "one-shot", det).request), notes)
    synth = [eng.generate(prepare_request(x, "keyword", det, gate=gate).request) for x in notes]
    pairs = list(zip(notes, synth))
    rows["rouge_ours_pairs_per_s"] = _rate(lambda p: rouge_scores(*p), pairs)
    try:
        from rouge_score.rouge_scorer import RougeScorer

        sc = RougeScorer(["rouge1", "rouge2", "rougeL"])
        rows["rouge_score_pairs_per_s"] = _rate(lambda p: sc.score(*p), pairs)
    except ImportError:
        rows["rouge_score_pairs_per_s"] = None
    enc = load_embedding_encoder()
    t = time.perf_counter()
    enc.embed(notes)
    rows["minilm_int8_notes_per_s"] = len(notes) / (time.perf_counter() - t)
    try:
        import torch  # noqa: F401

        rows.update(_lm_rate(args.lm_tokens))
    except ImportError:
        rows["lm_tokens_per_s"] = None
    path = write_result("synth", {"results": rows})
    print(f"{'measure':38s} value")
    for k, v in rows.items():
        print(f"{k:38s} {v if isinstance(v, str) or v is None else round(v, 2)}")
    r = rows.get("rouge_score_pairs_per_s")
    if r:
        print(f"{'rouge ours / rouge-score speed':38s} {rows['rouge_ours_pairs_per_s'] / r:.2f}")
    print(f"wrote {path}")
    return 0


def _lm_rate(n_tokens: int) -> dict:
    """Decode ``n_tokens`` greedily with a tiny random GPT-2 (6 layers, 256 wide) exported to ONNX."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from medpriv_desktop.core.notes.synth.engines.onnx_lm import OnnxCausalLMEngine
    from training.synth.export_lm import export_causal_lm

    vocab = {f"w{i}": i for i in range(2000)}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="w0"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="w0", eos_token="w1")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=2000, n_positions=256, n_embd=256, n_layer=6, n_head=4,
                                       bos_token_id=1, eos_token_id=1)).eval()
    with tempfile.TemporaryDirectory() as d:
        export_causal_lm(model, tok, d)
        eng = OnnxCausalLMEngine.from_files(Path(d) / "model.onnx", Path(d) / "tokenizer.json", max_context=256)
        prompt = [5] * 32
        t = time.perf_counter()
        eng.generate_ids(prompt, n_tokens)
        onnx_rate = n_tokens / (time.perf_counter() - t)
    ids = list(prompt)
    t = time.perf_counter()
    with torch.no_grad():
        for _ in range(n_tokens):
            x = torch.tensor([ids])
            ids.append(int(model(input_ids=x, use_cache=False).logits[0, -1].argmax()))
    torch_rate = n_tokens / (time.perf_counter() - t)
    return {"lm_onnx_tokens_per_s_no_cache": onnx_rate, "lm_torch_tokens_per_s_no_cache": torch_rate,
            "lm_params": float(statistics.fsum(p.numel() for p in model.parameters()))}


if __name__ == "__main__":
    sys.exit(main())
