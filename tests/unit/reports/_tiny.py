"""A tiny word-to-label ONNX classifier and tokenizer, built in a temp folder (no torch): logits are the masked mean
of per-token label scores, so a report mentioning 'effusion' scores high on label 0, 'nodule' on label 1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

LABELS = ["Effusion", "Nodule", "Hernia"]
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "no", "small", "left", "effusion", "nodule", "lung", "clear", "heart",
         "normal", "there", "is", "a", ".", "findings", ":", "impression", "size", "the", "right", "seen"]


def build_tokenizer(path: Path) -> Path:
    """A WordLevel tokenizer with [CLS]/[SEP] post-processing, saved as tokenizer.json."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tok.save(str(path))
    return path


def build_model(path: Path) -> Path:
    """ONNX graph: logits = sum_t mask_t * E[ids_t] / sum_t mask_t + bias."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    table = np.zeros((len(WORDS), len(LABELS)), dtype=np.float32)
    table[WORDS.index("effusion"), 0] = 40.0
    table[WORDS.index("nodule"), 1] = 40.0
    bias = np.array([-2.0, -2.0, -2.0], dtype=np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["emb"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["emb", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["mean"]),
        helper.make_node("Add", ["mean", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_report_classifier",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(LABELS)])],
        initializer=[numpy_helper.from_array(table, "table"), numpy_helper.from_array(bias, "bias"),
                     numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
                     numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def build_bundle(folder: Path, model_id: str = "cxr-tiny-test", max_tokens: int = 16, stride: int = 4) -> Path:
    """A complete report-classification bundle (Hernia unsupported) in ``folder/model_id``."""
    from medpriv_desktop.core.models.registry import sha256_file

    b = folder / model_id
    b.mkdir(parents=True)
    build_model(b / "model.onnx")
    build_tokenizer(b / "tokenizer.json")
    labels = [{"value": 0, "name": "Effusion", "threshold": 0.5}, {"value": 1, "name": "Nodule", "threshold": 0.5},
              {"value": 2, "name": "Hernia", "supported": False, "unsupported_reason": "no positives"}]
    card = {"id": model_id, "title": "tiny", "version": "0.0.1", "task": "report-classification",
            "intended_use": "tests only", "license": "MIT", "sha256": sha256_file(b / "model.onnx"),
            "text_input": {"max_tokens": max_tokens, "stride": stride, "sections": ["findings", "impression"]},
            "outputs": {"label_set": "tiny", "labels": labels, "activation": "sigmoid"},
            "training": {"datasets": [{"name": "none", "license": "MIT", "synthetic": True}], "command": "tests",
                         "date": "2026-01-01"}}
    (b / "model_card.json").write_text(json.dumps(card))
    return b


def build_rules_model(path: Path, rule_width: int, rule_weights: np.ndarray) -> Path:
    """ONNX graph with a third input: logits = masked mean of E[ids] + rule_features @ R + bias (E from
    :func:`build_model` with the 'effusion' word weight removed, so Effusion comes from the rule input alone)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    table = np.zeros((len(WORDS), len(LABELS)), dtype=np.float32)
    table[WORDS.index("nodule"), 1] = 40.0
    bias = np.array([-2.0, -2.0, -2.0], dtype=np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["emb"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["emb", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["mean"]),
        helper.make_node("MatMul", ["rule_features", "rules_w"], ["from_rules"]),
        helper.make_node("Add", ["mean", "from_rules"], ["both"]),
        helper.make_node("Add", ["both", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_rules_classifier",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("rule_features", TensorProto.FLOAT, ["batch", rule_width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(LABELS)])],
        initializer=[numpy_helper.from_array(table, "table"), numpy_helper.from_array(bias, "bias"),
                     numpy_helper.from_array(rule_weights.astype(np.float32), "rules_w"),
                     numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
                     numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def build_rules_bundle(folder: Path, model_id: str = "cxr-tiny-rules", labeler_version: str | None = None,
                       width: int | None = None) -> Path:
    """A bundle whose card declares ChestX-ray14 rule inputs: Effusion positive (rules) -> +40, negated -> -40."""
    from medpriv_desktop.core.models.registry import sha256_file
    from medpriv_desktop.core.reports.labeler import LABELER_VERSION
    from medpriv_desktop.core.reports.labels import CHESTXRAY14

    n = 3 * len(CHESTXRAY14)
    w = np.zeros((n, len(LABELS)), dtype=np.float32)
    eff = CHESTXRAY14.index("Effusion")
    w[3 * eff, 0], w[3 * eff + 2, 0] = 40.0, -40.0
    b = folder / model_id
    b.mkdir(parents=True)
    build_rules_model(b / "model.onnx", n, w)
    build_tokenizer(b / "tokenizer.json")
    labels = [{"value": 0, "name": "Effusion", "threshold": 0.5}, {"value": 1, "name": "Nodule", "threshold": 0.5},
              {"value": 2, "name": "Hernia", "threshold": 0.5}]
    card = {"id": model_id, "title": "tiny rules", "version": "0.0.1", "task": "report-classification",
            "intended_use": "tests only", "license": "MIT", "sha256": sha256_file(b / "model.onnx"),
            "text_input": {"max_tokens": 16, "stride": 4, "sections": ["findings", "impression"],
                           "input_names": ["input_ids", "attention_mask", "rule_features"],
                           "rule_features": {"label_set": "ChestX-ray14", "labeler_version":
                                             labeler_version or LABELER_VERSION, "width": width or n}},
            "outputs": {"label_set": "ChestX-ray14", "labels": labels, "activation": "sigmoid"},
            "training": {"datasets": [{"name": "none", "license": "MIT", "synthetic": True}], "command": "tests",
                         "date": "2026-01-01"}}
    (b / "model_card.json").write_text(json.dumps(card))
    return b
