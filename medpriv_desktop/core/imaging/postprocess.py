"""Label-map clean-up: largest connected component per label (when the card asks for it; pieces cut by the edge
of the scan are kept too) and hole filling.

Every operation works inside each structure's bounding box (``scipy.ndimage.find_objects``), so a 512x512x400 label
map with a hundred structures costs seconds, not minutes, and no full-size temporary per label is made.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import ndimage

from medpriv_desktop.core.models.card import ModelCard

#: 26-connectivity: voxels touching by a corner belong to one component (thin vessels stay whole).
STRUCTURE_26 = np.ones((3, 3, 3), bool)


def _boxes(labels: np.ndarray) -> list[tuple[slice, ...] | None]:
    return ndimage.find_objects(labels) if labels.size and labels.max() > 0 else []


def count_components(mask: np.ndarray) -> int:
    """Number of 26-connected components of a binary mask."""
    if not mask.any():
        return 0
    return int(ndimage.label(mask, structure=STRUCTURE_26)[1])


def component_counts(labels: np.ndarray, values: Iterable[int] | None = None) -> dict[int, int]:
    """Connected components of every label value (or of ``values``)."""
    boxes = _boxes(labels)
    wanted = set(values) if values is not None else None
    out: dict[int, int] = {}
    for idx, box in enumerate(boxes):
        v = idx + 1
        if box is None or (wanted is not None and v not in wanted):
            continue
        out[v] = count_components(labels[box] == v)
    if wanted is not None:
        for v in wanted:
            out.setdefault(v, 0)
    return out


def _edge_components(comp: np.ndarray, box: tuple[slice, ...], shape: tuple[int, ...]) -> set[int]:
    """Component ids of ``comp`` (labelled inside ``box``) that touch a face of the whole array ``shape``."""
    ids: set[int] = set()
    for axis, (sl, n) in enumerate(zip(box, shape)):
        for at_edge, index in ((sl.start == 0, 0), (sl.stop == n, -1)):
            if at_edge:
                ids.update(int(i) for i in np.unique(np.take(comp, index, axis=axis)))
    ids.discard(0)
    return ids


def keep_largest_component(labels: np.ndarray, values: Iterable[int],
                           counts: dict[int, int] | None = None, keep_cut: bool = True) -> dict[int, int]:
    """In place: keep only the largest component of each label in ``values``; return voxels removed per label.

    ``keep_cut`` (default) also keeps every component that touches the edge of the scan: a structure cut by the
    field of view can lie in the scan as several pieces that join outside it (an aortic arch cut by the top slice
    is two tubes; the lung bases of a slab through the upper abdomen wrap round the liver dome), and QC reports such
    a structure as partial, not as fragmented. Islands inside the scan are still removed.

    ``counts``, when given, receives the number of components each label had before (0 for an absent label): the
    labelling is done here anyway, and QC needs the count of the map as the model made it.
    """
    boxes = _boxes(labels)
    removed: dict[int, int] = {}
    for v in values:
        if v < 1 or v > len(boxes) or boxes[v - 1] is None:
            if counts is not None:
                counts[v] = 0
            continue
        box = boxes[v - 1]
        sub = labels[box]
        mask = sub == v
        comp, n = ndimage.label(mask, structure=STRUCTURE_26)
        if counts is not None:
            counts[v] = int(n)
        if n <= 1:
            continue
        sizes = np.bincount(comp.ravel())
        sizes[0] = 0
        keep = {int(np.argmax(sizes))}
        if keep_cut:
            keep |= _edge_components(comp, box, labels.shape)
        drop = mask & ~np.isin(comp, list(keep))
        if not drop.any():
            continue
        removed[v] = int(drop.sum())
        sub[drop] = 0  # sub is a view into labels
    return removed


def fill_holes(labels: np.ndarray, values: Iterable[int]) -> dict[int, int]:
    """In place: fill background holes fully enclosed by a label (never overwrite another label)."""
    boxes = _boxes(labels)
    filled: dict[int, int] = {}
    for v in values:
        if v < 1 or v > len(boxes) or boxes[v - 1] is None:
            continue
        sub = labels[boxes[v - 1]]
        mask = sub == v
        holes = ndimage.binary_fill_holes(mask) & ~mask & (sub == 0)
        if holes.any():
            sub[holes] = v
            filled[v] = int(holes.sum())
    return filled


def postprocess_labels(labels: np.ndarray, card: ModelCard, fill: bool | None = None) -> dict[str, dict[int, int]]:
    """Apply the card's clean-up in place: largest component where ``keep_largest_component``; holes when asked.

    ``fill`` overrides the card's ``outputs.fill_holes``. Returns voxel counts changed per label, for the report, and
    under ``components_before`` the connected components of every label that has ``keep_largest_component`` or
    ``expected_components``, counted before anything was changed.
    """
    lcc = [lb.value for lb in card.outputs.labels if lb.keep_largest_component and lb.value > 0]
    before: dict[int, int] = {}
    removed = keep_largest_component(labels, lcc, before) if lcc else {}
    # Labels with an expected count but no clean-up: counted now, before hole filling can join pieces.
    others = [lb.value for lb in card.outputs.labels
              if lb.value > 0 and lb.expected_components is not None and lb.value not in before]
    if others:
        before.update(component_counts(labels, others))
    report = {"largest_component_removed": removed, "components_before": before}
    do_fill = card.outputs.fill_holes if fill is None else fill
    if do_fill:
        report["holes_filled"] = fill_holes(labels, [lb.value for lb in card.outputs.labels if lb.value > 0])
    return report
