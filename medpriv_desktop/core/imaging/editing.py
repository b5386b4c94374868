"""Hand corrections of a label array: circular brush strokes in one slice, undo/redo by stroke, distances.

Numpy only. A stroke snapshots the slice it starts on; when it ends, the slice before and after go on the undo
stack, so one undo reverts one stroke however many dabs it took.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medpriv_desktop.core.imaging.display import in_plane_axes


def paint_disc(labels: np.ndarray, axis: int, centre: tuple[int, int, int], radius_mm: float,
               spacing: tuple[float, float, float], value: int, only_value: int | None = None,
               touched: set[int] | None = None) -> int:
    """Set voxels within ``radius_mm`` of ``centre`` in its slice across ``axis`` to ``value``; return count changed.

    ``only_value`` restricts the change to voxels currently holding that value (erasing one structure only);
    ``touched`` receives the non-zero label values that lost or gained voxels.
    """
    ca, ra = in_plane_axes(axis)
    rc = max(0, int(np.floor(radius_mm / spacing[ca])))
    rr = max(0, int(np.floor(radius_mm / spacing[ra])))
    c0, r0 = centre[ca], centre[ra]
    lo_c, hi_c = max(c0 - rc, 0), min(c0 + rc + 1, labels.shape[ca])
    lo_r, hi_r = max(r0 - rr, 0), min(r0 + rr + 1, labels.shape[ra])
    dc = (np.arange(lo_c, hi_c) - c0) * spacing[ca]
    dr = (np.arange(lo_r, hi_r) - r0) * spacing[ra]
    disc = dc[:, None] ** 2 + dr[None, :] ** 2 <= radius_mm**2 + 1e-6
    index: list[object] = [slice(None)] * 3
    index[axis] = centre[axis]
    index[ca] = slice(lo_c, hi_c)
    index[ra] = slice(lo_r, hi_r)
    patch = labels[tuple(index)]  # a view: writes go to ``labels``
    sel = disc & (patch != value)
    if only_value is not None:
        sel &= patch == only_value
    n = int(sel.sum())
    if n:
        if touched is not None:
            touched.update(int(v) for v in np.unique(patch[sel]) if v)
            if value:
                touched.add(int(value))
        patch[sel] = value
    return n


@dataclass
class _Edit:
    axis: int
    index: int
    before: np.ndarray
    after: np.ndarray


class EditHistory:
    """Undo and redo of whole strokes on one label array."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._open: tuple[int, int, np.ndarray] | None = None

    def begin(self, labels: np.ndarray, axis: int, index: int) -> None:
        """Snapshot slice ``index`` across ``axis`` before a stroke."""
        self._open = (axis, index, np.take(labels, index, axis=axis).copy())

    def end(self, labels: np.ndarray) -> bool:
        """Close the stroke; True (and pushed on the undo stack) when it changed something."""
        if self._open is None:
            return False
        axis, index, before = self._open
        self._open = None
        after = np.take(labels, index, axis=axis).copy()
        if np.array_equal(before, after):
            return False
        self._undo.append(_Edit(axis, index, before, after))
        del self._undo[: -self.limit]
        self._redo.clear()
        return True

    def clear(self) -> None:
        """Forget everything (a new segmentation replaces the array)."""
        self._undo.clear()
        self._redo.clear()
        self._open = None

    @property
    def can_undo(self) -> bool:
        """True when a stroke can be undone."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when an undone stroke can be redone."""
        return bool(self._redo)

    @staticmethod
    def _put(labels: np.ndarray, axis: int, index: int, data: np.ndarray) -> None:
        sl: list[object] = [slice(None)] * 3
        sl[axis] = index
        labels[tuple(sl)] = data

    def undo(self, labels: np.ndarray) -> set[int]:
        """Revert the last stroke; return the label values it touched (empty when nothing to undo)."""
        if not self._undo:
            return set()
        e = self._undo.pop()
        self._put(labels, e.axis, e.index, e.before)
        self._redo.append(e)
        return _touched(e)

    def redo(self, labels: np.ndarray) -> set[int]:
        """Re-apply the last undone stroke; return the label values it touched."""
        if not self._redo:
            return set()
        e = self._redo.pop()
        self._put(labels, e.axis, e.index, e.after)
        self._undo.append(e)
        return _touched(e)


def _touched(e: _Edit) -> set[int]:
    diff = e.before != e.after
    return {int(v) for v in np.unique(np.concatenate([e.before[diff], e.after[diff]]))} - {0}


def distance_mm(a: tuple[float, float], b: tuple[float, float], pixel_mm: tuple[float, float]) -> float:
    """Length in mm of a line between two display points (col, row) given one pixel's width and height in mm."""
    return float(np.hypot((b[0] - a[0]) * pixel_mm[0], (b[1] - a[1]) * pixel_mm[1]))
