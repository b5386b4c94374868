"""The teacher: any segmentation bundle (an ONNX graph and its card), checked by the registry, with its features.

The region and context terms of ReCo-KD compare features, and an ONNX teacher (imported from nnU-Net, or ours) has
no ``return_features``. :func:`expose_features` therefore edits the graph: walking back from the logits output through
Identity / Cast nodes it looks for the final 1x1x1 convolution (the segmentation head every U-Net ends with, ours and
nnU-Net's alike) and adds that convolution's *input* as a second graph output: the last decoder feature map, at full
model resolution, with as many channels as the head's weight has inputs. Nothing else in the graph changes, so the
logits are bit for bit the bundle's. When no such head exists (a graph ending in a resize, an ensemble average, a
quantised head) the teacher has no features and the region and context terms fall back to the teacher's
log-probabilities as features (logit-derived terms): weaker, but defined for every bundle. The run records which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.card import ModelCard, Task
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry, read_card

#: Ops that pass a tensor through unchanged on the way from the head to the graph output.
_PASS_THROUGH = {"Identity", "Cast"}


def load_teacher_entry(spec: str) -> tuple[ModelEntry, ModelRegistry]:
    """The teacher bundle named by ``spec``: a bundle folder, or the id of an installed model.

    The bundle is checked as the app checks it before loading (manifest and sha256 of the weights; the site
    allow-list and the app's pins too when it is given by id). A folder given by path is checked without the
    allow-list, so a teacher imported minutes ago (not yet allow-listed by IT) can be distilled on the premises.
    """
    path = Path(spec)
    if (path / "model_card.json").exists():
        registry = ModelRegistry(bundled_dir=path.parent, site_dir=None, user_dir=path / ".no-user-models")
        entry = next((e for e in registry.entries() if e.path.resolve() == path.resolve()), None)
        if entry is None:
            entry = ModelEntry(read_card(path), path, "site")
    else:
        registry = ModelRegistry()
        entry = registry.get(spec)
    card = entry.card
    if card.task is not Task.SEGMENTATION or card.image_input is None:
        raise ModelError(f"teacher '{card.id}' is a {card.task.value} model, not a segmentation model",
                         path=entry.path)
    registry.verified_model_path(entry)
    return entry, registry


def expose_features(model_path: Path, output_name: str, out_path: Path) -> tuple[Path, str | None, int]:
    """Write a copy of the graph with the head's input as an extra output; ``(path, feature_name, channels)``.

    Returns ``(model_path, None, 0)`` unchanged when no final 1x1x1 convolution feeds ``output_name``.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    inits = {i.name: i for i in g.initializer}
    name = output_name
    node = producer.get(name)
    while node is not None and node.op_type in _PASS_THROUGH:
        node = producer.get(node.input[0])
    if node is None or node.op_type != "Conv" or len(node.input) < 2 or node.input[1] not in inits:
        return model_path, None, 0
    w = numpy_helper.to_array(inits[node.input[1]])
    if w.ndim != 5 or tuple(w.shape[2:]) != (1, 1, 1):
        return model_path, None, 0
    feat = node.input[0]
    if feat not in {o.name for o in g.output}:
        g.output.append(onnx.helper.make_tensor_value_info(feat, onnx.TensorProto.FLOAT, None))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    onnx.save(model, str(tmp))
    tmp.replace(out_path)
    return out_path, feat, int(w.shape[1])


@dataclass
class OnnxTeacher:
    """A tile predictor returning the teacher's logits and (when exposed) its last decoder features."""

    card: ModelCard
    session: object
    input_name: str
    output_name: str
    feature_name: str | None
    feature_channels: int

    @classmethod
    def open(cls, entry: ModelEntry, registry: ModelRegistry, work_dir: Path, threads: int) -> OnnxTeacher:
        """Verify the bundle, expose its features into ``work_dir`` and open one CPU session on it."""
        from medpriv_desktop.core.onnx_session import create_session

        src = registry.verified_model_path(entry)
        card = entry.card
        path, feat, channels = expose_features(src, card.outputs.output_name, work_dir / "teacher_features.onnx")
        session = create_session(path, threads, exact_int8=card.needs_exact_int8_kernels)
        return cls(card, session, card.image_input.input_name, card.outputs.output_name, feat, channels)

    @property
    def n_classes(self) -> int:
        """Output channels (one per label of the card)."""
        return len(self.card.outputs.labels)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits ``[B, K, ...]`` and features ``[B, C, ...]`` (or None) for a batch of tiles ``[B, 1, ...]``."""
        names = [self.output_name] + ([self.feature_name] if self.feature_name else [])
        outs = self.session.run(names, {self.input_name: np.ascontiguousarray(batch, np.float32)})
        return outs[0], (outs[1] if self.feature_name else None)
