"""Stand-ins shared by the synthesis tests: a rule PHI detector and a tiny ONNX causal LM with its tokenizer."""

from __future__ import annotations

import re
from pathlib import Path

from medpriv_desktop.core.notes.spans import PhiSpan


class ListDetector:
    """Finds the given phrases (case-insensitive) as PHI of the given category; counts its calls."""

    def __init__(self, phrases: dict[str, str] | None = None) -> None:
        self.phrases = phrases or {}
        self.calls = 0

    def analyze(self, text: str) -> list[PhiSpan]:
        self.calls += 1
        out = []
        for phrase, cat in self.phrases.items():
            for m in re.finditer(re.escape(phrase), text, re.I):
                out.append(PhiSpan(m.start(), m.end(), cat, 1.0, "list"))
        return sorted(out)


def tiny_lm_bundle(folder: Path, vocab: list[str], next_of: dict[str, str]) -> tuple[Path, Path]:
    """An ONNX 'language model' whose logits make ``next_of[w]`` follow ``w`` (a lookup table through Gather),
    and a word-level tokenizer.json over ``vocab``. Returns (model path, tokenizer path)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    index = {w: i for i, w in enumerate(vocab)}
    table = np.full((len(vocab), len(vocab)), -5.0, dtype=np.float32)
    for w, nxt in next_of.items():
        table[index[w], index[nxt]] = 5.0
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["logits"], axis=0)], "tiny_lm",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", len(vocab)])],
        [numpy_helper.from_array(table, "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    mp = folder / "model.onnx"
    onnx.save(model, str(mp))
    tok = Tokenizer(models.WordLevel(index, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tp = folder / "tokenizer.json"
    tok.save(str(tp))
    return mp, tp
