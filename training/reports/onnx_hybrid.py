"""ONNX graph of the rules + encoder classifier, its int8 build, and scoring it through the app's own runtime.

Graph: ``input_ids``, ``attention_mask`` (int64, batch x sequence) and ``rule_features`` (float32, batch x 3L) ->
the public MiniLM encoder's first layers -> masked mean over tokens -> one linear layer over ``[pooled, rules]``
(the trained head with its standardisation folded in) -> ``logits`` (batch x L).

int8: dynamic quantisation of the encoder's weights, per output channel, with **reduce-range** (7-bit) weights. On
x64 CPUs without VNNI, ONNX Runtime's default u8 x s8 kernel adds pairs of products in 16 bits, which saturates when
a weight and an activation are both near their extremes (255 * 127 * 2 > 32767); with weights in [-64, 63] the sum
stays below 32767, so the default kernel is exact too and the same report gets the same labels on every CPU, whether
the session asks for the precise kernels (``session.x64quantprecision`` = 1, what the app does) or not. The head stays
in float32: it is tiny and sits right at the decision.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

OPSET = 17
HEAD_WEIGHT = "head.weight"


class HybridOnnx(nn.Module):
    """Encoder + masked mean pooling + the exported head (a plain linear layer over ``[pooled, rules]``)."""

    def __init__(self, encoder: nn.Module, weight: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.head.weight.copy_(torch.as_tensor(weight))
            self.head.bias.copy_(torch.as_tensor(bias))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, rule_features: torch.Tensor
                ) -> torch.Tensor:
        """Logits ``(B, L)``."""
        from training.reports.model import masked_mean

        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(torch.cat([masked_mean(hidden, attention_mask), rule_features], dim=1))


def export_onnx(model: HybridOnnx, tokenizer: Any, path: Path, rule_width: int) -> None:
    """``torch.onnx.export`` (opset 17, TorchScript exporter) with dynamic batch and sequence axes."""
    model.eval()
    enc = tokenizer(["a short example", "another example text"], padding=True, return_tensors="pt")
    rules = torch.zeros(2, rule_width)
    torch.onnx.export(model, (enc["input_ids"], enc["attention_mask"], rules), str(path),
                      input_names=["input_ids", "attention_mask", "rule_features"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"},
                                    "rule_features": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=OPSET, dynamo=False, do_constant_folding=True)


def head_nodes(path: Path) -> list[str]:
    """Names of the graph nodes that read the head's weight (kept in float32 by :func:`quantize_int8`)."""
    import onnx

    m = onnx.load(str(path))
    inits = {i.name: i for i in m.graph.initializer}
    head = {n for n, i in inits.items() if n == HEAD_WEIGHT or n.startswith("head.")}
    # The exporter may rename or transpose the weight: also match the head's shape (labels x (hidden + 3 labels)).
    out = [n.name for n in m.graph.node if any(x in head for x in n.input)]
    if not out:
        last = [n for n in m.graph.node if m.graph.output[0].name in n.output]
        out = [n.name for n in last]
    return out


def quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 weights, per channel, reduce-range; the head's node excluded (see the module docstring)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser first rewrites a Gemm into "<name>_MatMul" + "<name>_Add": exclude both spellings.
    heads = head_nodes(fp32)
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     nodes_to_exclude=heads + [f"{h}_MatMul" for h in heads])


@contextlib.contextmanager
def quant_kernels(precise: bool) -> Iterator[None]:
    """Sessions opened inside use ONNX Runtime's precise (``session.x64quantprecision`` 1) or default x64 int8
    kernels, whatever the card says."""
    from medpriv_desktop.core import onnx_session

    real = onnx_session.create_session

    def forced(path, threads, **kw):
        return real(path, threads, **{**kw, "exact_int8": precise})

    onnx_session.create_session = forced
    try:
        yield
    finally:
        onnx_session.create_session = real


def runtime_decisions(model_path: Path, tokenizer_path: Path, texts: list[str], label_names: list[str],
                      label_set: str, max_tokens: int, stride: int, precise: bool = True
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 decisions, probabilities) of full report texts through the app's :class:`ReportModel` (sections,
    windows, rule inputs, max over windows, fixed 0.5 thresholds)."""
    from medpriv_desktop.core.reports.classifier import ReportModel
    from medpriv_desktop.core.reports.rule_features import RuleFeatures
    from medpriv_desktop.core.text.encoder import TextEncoder

    with quant_kernels(precise):
        enc = TextEncoder.from_files(model_path, tokenizer_path, max_tokens, stride)
    rm = ReportModel(enc, label_names, [0.5] * len(label_names), rule_features=RuleFeatures(label_set))
    preds = rm.classify(texts)
    dec = np.array([[p.decisions[n] for n in label_names] for p in preds], dtype=int)
    prob = np.array([[p.probabilities[n] or 0.0 for n in label_names] for p in preds], dtype=np.float32)
    return dec, prob
