"""Statistics per structure: voxel count, volume (mL), intensity mean/std (HU for CT), bounding box, centroid (mm).

All sums are single passes over the arrays with ``np.bincount`` (weights = intensities), so 100+ structures cost the
same as one. Bounding boxes are in voxel indices (inclusive) and in RAS+ mm; the centroid is in RAS+ mm.

``touches_border`` means the structure reaches the edge of the field of view, so it may be cut: the edge of the
array, or, for a CT given with its image, the edge of the reconstruction circle. Outside that circle scanners write
one constant padding value (-1024 HU or lower) that the array's edge does not show; :func:`fov_cut_values` finds
the in-plane regions of that value at least :data:`PADDING_MIN_WIDTH` voxels wide (so isolated air voxels clipped to
-1024 do not count) and the structures within :data:`FOV_EDGE_MARGIN_MM` of them (a model working at several mm
per voxel stops a little short of the edge it was cut by). A structure the model spread over the air around the
patient up to the circle counts as touching it too: it does reach the edge.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.imaging.volume import LabelMap, Volume

CSV_COLUMNS = ("value", "name", "voxels", "volume_ml", "mean", "std", "min", "max", "centroid_x_mm",
               "centroid_y_mm", "centroid_z_mm", "bbox_min_i", "bbox_min_j", "bbox_min_k", "bbox_max_i", "bbox_max_j",
               "bbox_max_k", "touches_border")


@dataclass
class StructureStats:
    """Numbers for one label value."""

    value: int
    name: str
    voxels: int
    volume_ml: float
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    centroid_mm: tuple[float, float, float] | None
    bbox_min: tuple[int, int, int] | None
    bbox_max: tuple[int, int, int] | None
    touches_border: bool
    unit: str = "HU"

    def row(self) -> dict[str, object]:
        """Flat dict for one CSV row."""
        c = self.centroid_mm or (None, None, None)
        lo = self.bbox_min or (None, None, None)
        hi = self.bbox_max or (None, None, None)
        return {"value": self.value, "name": self.name, "voxels": self.voxels, "volume_ml": round(self.volume_ml, 3),
                "mean": _r(self.mean), "std": _r(self.std), "min": _r(self.min), "max": _r(self.max),
                "centroid_x_mm": _r(c[0]), "centroid_y_mm": _r(c[1]), "centroid_z_mm": _r(c[2]),
                "bbox_min_i": lo[0], "bbox_min_j": lo[1], "bbox_min_k": lo[2],
                "bbox_max_i": hi[0], "bbox_max_j": hi[1], "bbox_max_k": hi[2], "touches_border": self.touches_border}


def _r(v: float | None, nd: int = 3) -> float | None:
    return None if v is None else round(float(v), nd)


#: A CT whose minimum is at or below this (HU) may hold padding outside its reconstruction circle.
PADDING_MAX_HU = -1024.0
#: In-plane width (voxels) of the square a padding region must fill; clipped air noise is single voxels.
PADDING_MIN_WIDTH = 5
#: A structure this close (mm, in-plane) to the padding is cut by the reconstruction circle.
FOV_EDGE_MARGIN_MM = 5.0
#: Planes per slab when looking for padding (bounded memory on a 512 x 512 x 400 CT).
_SLAB_PLANES = 16


def fov_cut_values(labels: np.ndarray, image: Volume | None, n: int) -> np.ndarray:
    """Boolean per label value (``n`` of them): reaches the padding outside a CT's reconstruction circle.

    Works on slabs of :data:`_SLAB_PLANES` axial planes. The padding of a slab is where its first, middle and last
    planes all hold the padding value (a series has one reconstruction circle; isolated clipped air voxels rarely
    line up), opened in 2D; the labels are then read only in the ring inside the circle within the margin of it. A
    few 2D operations per slab: 0.3-0.7 s on a 512 x 512 x 400 CT here, whatever its memory layout.
    """
    cut = np.zeros(n, bool)
    if image is None or image.modality != "CT" or not image.array.size:
        return cut
    arr = image.array
    pad = arr.min()
    if float(pad) > PADDING_MAX_HU:
        return cut
    codes = image.orientation_codes()
    slice_axis = next((i for i, c in enumerate(codes) if c in "SI"), 2)
    plane_axes = [a for a in range(3) if a != slice_axis]
    grow = [PADDING_MIN_WIDTH + 2 * int(np.ceil(FOV_EDGE_MARGIN_MM / float(image.spacing[a]))) for a in plane_axes]
    n_planes = arr.shape[slice_axis]
    for start in range(0, n_planes, _SLAB_PLANES):
        stop = min(start + _SLAB_PLANES, n_planes)
        padding = np.ones([arr.shape[a] for a in plane_axes], bool)
        for k in sorted({start, (start + stop - 1) // 2, stop - 1}):
            plane = [slice(None)] * 3
            plane[slice_axis] = k  # a view (np.take would copy the whole volume of a Fortran-ordered array)
            padding &= arr[tuple(plane)] == pad
        core = padding.view(np.uint8)
        for axis in (0, 1):  # erosion: only regions PADDING_MIN_WIDTH wide are padding, not clipped air voxels
            core = minimum_filter1d(core, PADDING_MIN_WIDTH, axis=axis, mode="nearest")
        if not core.any():
            continue
        opened, near = core, core
        for axis in (0, 1):
            opened = maximum_filter1d(opened, PADDING_MIN_WIDTH, axis=axis, mode="nearest")
            near = maximum_filter1d(near, grow[axis], axis=axis, mode="nearest")
        ring = near.view(bool) & ~opened.view(bool)  # inside the circle, within the margin of its edge
        sl = [slice(None)] * 3
        sl[slice_axis] = slice(start, stop)
        seen = np.moveaxis(labels[tuple(sl)], slice_axis, -1)[ring]
        cut |= np.bincount(seen.ravel(), minlength=n)[:n] > 0
    cut[0] = False
    return cut


def structure_stats(labelmap: LabelMap, image: Volume | None = None, include_absent: bool = True) -> list[StructureStats]:
    """Statistics for every named label (absent ones with 0 voxels when ``include_absent``) and any unnamed value."""
    labels = labelmap.array
    if image is not None and image.shape != labelmap.shape:
        raise ValueError("image and label map are on different grids")
    n = int(labels.max()) + 1 if labels.size else 1
    counts = np.zeros(n, np.int64)
    sums = [np.zeros(n) for _ in range(3)]
    s1, s2 = np.zeros(n), np.zeros(n)
    extrema: dict[int, tuple[float, float]] = {}
    # Plane by plane along i: temporaries stay at one plane. Coordinate sums come from per-row and per-column
    # label counts (unweighted bincounts over "label + n * row"), far cheaper than weighted full-volume passes.
    nx, ny, nz = labels.shape
    j_off = np.broadcast_to((np.arange(ny, dtype=np.intp) * n)[:, None], (ny, nz)).ravel()
    k_off = np.broadcast_to((np.arange(nz, dtype=np.intp) * n)[None, :], (ny, nz)).ravel()
    j_pos, k_pos = np.arange(ny, dtype=np.float64), np.arange(nz, dtype=np.float64)
    for i in range(nx):
        f = labels[i].astype(np.intp).ravel()
        cj = np.bincount(f + j_off, minlength=ny * n).reshape(ny, n)
        c = cj.sum(axis=0)
        counts += c
        sums[0] += i * c
        sums[1] += j_pos @ cj
        sums[2] += k_pos @ np.bincount(f + k_off, minlength=nz * n).reshape(nz, n)
        if image is not None:
            vals = image.array[i].astype(np.float64).ravel()
            s1 += np.bincount(f, weights=vals, minlength=n)
            vals *= vals
            s2 += np.bincount(f, weights=vals, minlength=n)
    boxes = ndimage.find_objects(labels) if labels.size and labels.max() > 0 else []
    if image is not None:
        # Min / max inside each bounding box: scipy's labelled minimum sorts the whole volume (seconds per call).
        for v, box in enumerate(boxes, start=1):
            if box is not None:
                vals = image.array[box][labels[box] == v]
                extrema[v] = (float(vals.min()), float(vals.max()))
    unit = "HU" if (image is not None and image.modality == "CT") else "a.u."
    values = sorted(set(labelmap.labels) | {int(v) for v in np.nonzero(counts)[0]})
    out: list[StructureStats] = []
    shape = np.asarray(labels.shape)
    fov_cut = fov_cut_values(labels, image, n)
    for v in values:
        if v == 0:
            continue
        c = int(counts[v]) if v < n else 0
        if c == 0 and not include_absent:
            continue
        name = labelmap.labels.get(v, f"label_{v}")
        if c == 0:
            out.append(StructureStats(v, name, 0, 0.0, None, None, None, None, None, None, None, False, unit))
            continue
        centroid_vox = np.array([s[v] / c for s in sums])
        centroid = tuple(float(x) for x in labelmap.voxel_to_world(centroid_vox))
        box = boxes[v - 1]
        lo = tuple(int(s.start) for s in box)
        hi = tuple(int(s.stop) - 1 for s in box)
        touches = bool(min(lo) == 0 or np.any(np.asarray(hi) == shape - 1) or fov_cut[v])
        mean = std = vmin = vmax = None
        if image is not None:
            mean = float(s1[v] / c)
            std = float(np.sqrt(max(s2[v] / c - mean * mean, 0.0)))
            vmin, vmax = extrema[v]
        out.append(StructureStats(v, name, c, c * labelmap.voxel_volume_ml, mean, std, vmin, vmax, centroid, lo, hi,
                                  touches, unit))
    return out


def stats_to_csv(stats: list[StructureStats]) -> str:
    """CSV text, one row per structure."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    for s in stats:
        w.writerow(s.row())
    return buf.getvalue()


def write_stats(stats: list[StructureStats], csv_path: Path | None = None, json_path: Path | None = None,
                extra: dict | None = None) -> None:
    """Write the statistics as CSV and/or JSON (atomic)."""
    if csv_path is not None:
        atomic_write_text(csv_path, stats_to_csv(stats))
    if json_path is not None:
        body = {"structures": [asdict(s) for s in stats], **(extra or {})}
        atomic_write_text(json_path, json.dumps(body, indent=2) + "\n")
