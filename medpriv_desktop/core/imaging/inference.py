"""Segment a :class:`Volume` on the CPU with an ONNX model bundle.

The ONNX contract of a segmentation bundle (``training`` exports to it; the app checks it before running):

- one float32 input named ``card.image_input.input_name`` of shape ``[N, C, X, Y, Z]``: ``C = image_input.channels``
  (1 for every current model), spatial axes in the order of ``image_input.orientation`` (e.g. "RAS": X runs to the
  patient's right, Y anterior, Z superior), voxels of ``image_input.spacing_mm``, intensities normalised by
  ``image_input.intensity[modality]`` (:mod:`.normalize`). ``N`` may be dynamic or fixed; the tile size is
  ``image_input.patch_size`` (X, Y, Z), each divisible by ``image_input.divisible_by``;
- one output named ``card.outputs.output_name`` holding **logits** (before softmax) of shape
  ``[N, n_labels, X, Y, Z]``, channel ``c`` scoring the label whose ``value`` is ``c`` (labels are 0..n-1, 0 =
  background);
- opset 17 or lower runs on the onnxruntime the app ships.

:func:`segment_volume` is a job (generator): it yields Progress for every batch of tiles and returns a
:class:`SegmentationResult` with the label map on the input's voxel grid, the label map and the softmax entropy at
model resolution (for QC), the connected components of each checked structure *before* post-processing (QC's
component check: after keep-largest-component there is only one left to count), and the time spent in each stage.

Test-time flips (``tta``) use only the axes the card says the model was trained to mirror
(``image_input.mirror_axes``) and swap the card's left/right ``label_pairs`` on passes mirrored along the
left-right axis of the model's orientation.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.imaging.postprocess import component_counts, postprocess_labels
from medpriv_desktop.core.imaging.preprocess import check_model_fits, to_model_space
from medpriv_desktop.core.imaging.sliding_window import flip_sets, sliding_window
from medpriv_desktop.core.imaging.volume import LabelMap, Volume
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.card import ModelCard, Task
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry

_cache_lock = threading.Lock()
_SESSION_CACHE: dict[tuple[str, float, int], OnnxSegmenter] = {}
_CACHE_SIZE = 2


@dataclass
class SegmentationResult:
    """What :func:`segment_volume` returns."""

    labelmap: LabelMap  # on the input volume's grid
    labels_model: LabelMap  # at model resolution and orientation
    entropy: Volume  # normalised softmax entropy (0..1, float16) on the model grid
    model_id: str
    model_version: str
    timings: dict[str, float] = field(default_factory=dict)
    n_tiles: int = 0
    threads: int = 1
    flips: int = 1
    postprocess: dict[str, dict[int, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Connected components per label value (labels with ``expected_components`` or ``keep_largest_component``) of
    #: the map as the model made it, before post-processing; None when the result did not come from segment_volume.
    components_before: dict[int, int] | None = None


class OnnxSegmenter:
    """An onnxruntime session for one bundle, checked against the card's contract."""

    def __init__(self, model_path: Path, card: ModelCard, threads: int) -> None:
        from medpriv_desktop.core.onnx_session import create_session

        self.session = create_session(model_path, threads, exact_int8=card.needs_exact_int8_kernels)
        ii = card.image_input
        assert ii is not None
        self.input_name, self.output_name = ii.input_name, card.outputs.output_name
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name: o for o in self.session.get_outputs()}
        if self.input_name not in inputs:
            raise ModelError(f"model has no input named '{self.input_name}' (it has {sorted(inputs)})",
                             path=model_path)
        if self.output_name not in outputs:
            raise ModelError(f"model has no output named '{self.output_name}' (it has {sorted(outputs)})",
                             path=model_path)
        shape = inputs[self.input_name].shape
        if len(shape) != 5:
            raise ModelError(f"model input has {len(shape)} dimensions; [N, C, X, Y, Z] is required",
                             path=model_path)
        self.fixed_batch = shape[0] if isinstance(shape[0], int) else None
        if isinstance(shape[1], int) and shape[1] != ii.channels:
            raise ModelError(f"model takes {shape[1]} channels but its card says {ii.channels}", path=model_path)
        out_shape = outputs[self.output_name].shape
        self.n_out = out_shape[1] if len(out_shape) == 5 and isinstance(out_shape[1], int) else None
        self.threads = int(threads)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Logits for a batch of tiles ``[B, 1, X, Y, Z]``."""
        if self.fixed_batch is not None and batch.shape[0] != self.fixed_batch:
            return np.concatenate([self(batch[i: i + 1]) for i in range(batch.shape[0])])
        return self.session.run([self.output_name], {self.input_name: batch})[0]


def get_segmenter(registry: ModelRegistry, entry: ModelEntry, threads: int) -> OnnxSegmenter:
    """A (cached) session for ``entry``, after the registry's sha256 and allow-list checks."""
    path = registry.verified_model_path(entry)
    key = (str(path), path.stat().st_mtime, int(threads))
    with _cache_lock:
        seg = _SESSION_CACHE.get(key)
    if seg is None:
        seg = OnnxSegmenter(path, entry.card, threads)
        with _cache_lock:
            while len(_SESSION_CACHE) >= _CACHE_SIZE:
                _SESSION_CACHE.pop(next(iter(_SESSION_CACHE)))
            _SESSION_CACHE[key] = seg
    return seg


def resolve_threads(threads: int | None) -> int:
    """Threads for onnxruntime: the argument, else cores minus one.

    The engine reads no settings: the use cases (``core.app``) pass the Context's ``sessions.threads``, which
    follows Preferences and ``MEDPRIV_ORT_THREADS``; the fallback serves direct engine callers (benchmarks, tests).
    """
    if threads:
        return max(1, int(threads))
    from medpriv_desktop.core.settings import default_threads

    return default_threads()


def segment_volume(
    volume: Volume,
    entry: ModelEntry,
    registry: ModelRegistry,
    *,
    threads: int | None = None,
    overlap: float | None = None,
    tta: bool = False,
    flips: tuple[tuple[int, ...], ...] | None = None,
    batch_size: int | None = None,
    fill_holes: bool | None = None,
    postprocess: bool = True,
) -> Job[SegmentationResult]:
    """Segment ``volume`` with the bundle ``entry``; a job returning :class:`SegmentationResult`.

    ``overlap`` defaults to the card's; ``tta`` averages the flips along the card's ``mirror_axes`` (all 8 axis
    flips when the card does not say: 8x the time); ``flips`` gives an explicit flip set instead (QC passes the one
    flip of its second opinion). ``fill_holes`` overrides the card.
    """
    card = entry.card
    if card.task is not Task.SEGMENTATION or card.image_input is None:
        raise ModelError(f"model '{card.id}' is a {card.task.value} model, not a segmentation model")
    ii = card.image_input
    timings: dict[str, float] = {}
    n_threads = resolve_threads(threads)
    t = time.perf_counter()
    yield Progress(0.0, "loading model")
    segmenter = get_segmenter(registry, entry, n_threads)
    n_labels = len(card.outputs.labels)
    check_model_fits(ii, n_labels, segmenter.n_out, card.id)
    if sorted(lb.value for lb in card.outputs.labels) != list(range(n_labels)):
        raise ModelError(f"model '{card.id}': label values must be 0..{n_labels - 1} to match output channels")
    timings["load_model"] = time.perf_counter() - t

    t = time.perf_counter()
    yield Progress(0.02, "preprocessing")
    space = to_model_space(volume, ii, card.id)
    timings["preprocess"] = time.perf_counter() - t

    t = time.perf_counter()
    warnings = list(volume.meta.get("warnings", []))
    tta_flips, _ = flip_sets(ii.mirror_axes)
    flip_set = flips if flips is not None else (tta_flips if tta else ((),))
    if tta and flips is None and len(tta_flips) == 1:
        warnings.append(f"test-time flips not used: the card of '{card.id}' lists no mirror axes (the model was not "
                        "trained on mirrored images)")
    job = sliding_window(space.array, segmenter, ii.patch_size, n_labels,
                         overlap=ii.overlap if overlap is None else overlap,
                         batch_size=batch_size or ii.batch_size, pad_value=space.pad_value, flips=flip_set,
                         lr_axis=ii.left_right_axis, label_pairs=card.outputs.label_pairs)
    labels_m, entropy_m, n_tiles = yield from scaled(job, 0.05, 0.9, "")
    model_affine = space.volume.affine
    # The normalised image is no longer needed: free it before the full-resolution label map is made.
    space.array = None  # type: ignore[assignment]
    space.volume = None  # type: ignore[assignment]
    timings["inference"] = time.perf_counter() - t

    t = time.perf_counter()
    yield Progress(0.9, "mapping labels to the input grid")
    names = {lb.value: lb.name for lb in card.outputs.labels}
    colors = {lb.value: tuple(lb.color) for lb in card.outputs.labels if lb.color is not None}
    labelmap = space.labels_to_input(labels_m, names, colors, smooth=True)
    timings["resample"] = time.perf_counter() - t

    t = time.perf_counter()
    report: dict[str, dict[int, int]] = {}
    if postprocess:
        yield Progress(0.95, "post-processing")
        report = postprocess_labels(labelmap.array, card, fill_holes)
        before = dict(report.get("components_before", {}))
    else:
        checked = [lb.value for lb in card.outputs.labels
                   if lb.value > 0 and (lb.expected_components is not None or lb.keep_largest_component)]
        before = component_counts(labelmap.array, checked) if checked else {}
    timings["postprocess"] = time.perf_counter() - t
    yield Progress(1.0, "segmentation done")
    meta: dict[str, Any] = {"model_space": True, "model_id": card.id}
    labels_model = LabelMap.from_affine(labels_m, model_affine, volume.modality, meta)
    labels_model.labels, labels_model.colors = dict(names), dict(colors)
    return SegmentationResult(
        labelmap=labelmap,
        labels_model=labels_model,
        entropy=Volume.from_affine(entropy_m, model_affine, volume.modality, meta),
        model_id=card.id, model_version=card.version, timings=timings, n_tiles=n_tiles, threads=n_threads,
        flips=len(flip_set), postprocess=report, warnings=warnings, components_before=before)
