"""ONNX export (opset 17) of a segmentation network and a parity check against torch.

The graph follows the app's contract: input ``image`` float32 [N, 1, X, Y, Z] (array axes in the card's
orientation, RAS), output ``logits`` float32 [N, n_labels, X, Y, Z]; batch and spatial sizes are dynamic (spatial
sizes must be multiples of ``divisible_by``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from medpriv_desktop.core.fileio import atomic_path
from training.seg.networks import UNet3D


def export_onnx(model: UNet3D, path: str | Path, patch: tuple[int, int, int], input_name: str = "image",
                output_name: str = "logits", fp16_weights: bool = False) -> Path:
    """Write ``model`` as ONNX (opset 17) to ``path`` atomically; returns the path."""
    model = model.eval().cpu()
    dummy = torch.zeros(1, model.cfg.in_channels, *patch)
    path = Path(path)
    with atomic_path(path, suffix=".onnx") as tmp:
        torch.onnx.export(
            model, (dummy,), str(tmp), dynamo=False, opset_version=17, input_names=[input_name],
            output_names=[output_name], do_constant_folding=True,
            dynamic_axes={input_name: {0: "batch", 2: "x", 3: "y", 4: "z"},
                          output_name: {0: "batch", 2: "x", 3: "y", 4: "z"}},
        )
        if fp16_weights:
            _weights_to_fp16(tmp)
    return path


def _weights_to_fp16(path: Path) -> None:
    """Store conv weights as float16 with a Cast back to float32 (halves the file; compute stays float32)."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(path))
    g = m.graph
    new_inits, casts = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.size >= 1024:
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
            new_inits.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
        else:
            new_inits.append(init)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def onnx_session(path: str | Path, threads: int = 1):
    """An onnxruntime CPU session with ``threads`` intra-op threads."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def parity(model: UNet3D, path: str | Path, patch: tuple[int, int, int], seed: int = 0) -> float:
    """Largest absolute logit difference between torch and ONNX Runtime on a random input."""
    x = torch.from_numpy(np.random.default_rng(seed).normal(0, 1, (1, 1, *patch)).astype(np.float32))
    with torch.no_grad():
        ref = model.eval()(x).numpy()
    sess = onnx_session(path)
    out = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    return float(np.abs(out - ref).max())
