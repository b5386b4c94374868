"""Test helpers: tiny ONNX files and model bundles made on the fly (no weights are committed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def tiny_onnx_bytes(seed: int = 0) -> bytes:
    """A valid ONNX graph (Identity) whose bytes differ by ``seed`` (through the doc string)."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, None, None, None])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, None, None, None])
    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["logits"])], f"g{seed}", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], doc_string=f"test {seed}")
    model.ir_version = 8
    return model.SerializeToString()


def segmentation_card(model_id: str, sha: str, version: str = "1.0.0", **overrides: Any) -> dict[str, Any]:
    """A minimal valid segmentation card as a dict."""
    card: dict[str, Any] = {
        "schema_version": 1,
        "id": model_id,
        "title": f"Test model {model_id}",
        "version": version,
        "task": "segmentation",
        "intended_use": "Tests only. Not for diagnostic use.",
        "license": "Apache-2.0",
        "sha256": sha,
        "image_input": {
            "modalities": ["CT"],
            "spacing_mm": [3.0, 3.0, 3.0],
            "intensity": {"CT": {"kind": "ct-clip-zscore", "clip_min": -1000, "clip_max": 1000, "mean": 0,
                                 "std": 500}},
            "patch_size": [32, 32, 32],
        },
        "outputs": {"labels": [{"value": 0, "name": "background"},
                               {"value": 1, "name": "liver", "color": [200, 80, 60]}]},
        "training": {"datasets": [{"name": "generated phantoms", "license": "Apache-2.0", "synthetic": True}],
                     "command": "pytest", "date": "2026-11-23"},
    }
    card.update(overrides)
    return card


def write_bundle(root: Path, model_id: str, version: str = "1.0.0", seed: int = 0,
                 card_overrides: dict[str, Any] | None = None, tamper: bool = False) -> Path:
    """Write a bundle folder ``root/<model_id>-<version>`` with a tiny ONNX file and a valid card."""
    data = tiny_onnx_bytes(seed)
    sha = hashlib.sha256(data).hexdigest()
    folder = root / f"{model_id}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(data + (b"x" if tamper else b""))
    card = segmentation_card(model_id, sha, version, **(card_overrides or {}))
    (folder / "model_card.json").write_text(json.dumps(card, indent=2))
    (folder / "LICENSE").write_text("Apache-2.0\n")
    return folder
