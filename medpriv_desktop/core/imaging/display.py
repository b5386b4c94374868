"""Pure numpy helpers behind the slice views: slicing in radiological display, windowing, overlays, palettes.

Every view works on one array in canonical RAS voxel order (``[x, y, z]``: +x towards the patient's right, +y
anterior, +z superior). A view is named by the voxel axis it cuts across (sagittal 0, coronal 1, axial 2). The two
remaining axes become screen columns and rows, both reversed, which gives the radiological convention in all three
views: patient's right on the screen's left, anterior (axial) or superior (coronal, sagittal) at the top, and the face
on the left in sagittal views. No Qt here, so the mapping is tested without a display.
"""

from __future__ import annotations

import colorsys

import numpy as np

VIEW_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}
#: Orientation letters at the left, right, top and bottom edges of each view.
EDGE_LABELS = {"axial": ("R", "L", "A", "P"), "coronal": ("R", "L", "S", "I"), "sagittal": ("A", "P", "S", "I")}
#: (level, width) presets in HU.
CT_PRESETS: dict[str, tuple[float, float]] = {
    "Soft tissue": (40, 400),
    "Lung": (-600, 1500),
    "Bone": (400, 1800),
    "Brain": (40, 80),
}
MR_AUTO = "MR automatic"
#: The name of a window that is no preset (after a right-drag).
CUSTOM_WINDOW = "Custom"


def window_preset_name(level: float, width: float, mr_auto: tuple[float, float] | None = None) -> str:
    """The preset whose window is ``(level, width)`` (within half a unit), else :data:`CUSTOM_WINDOW`; ``mr_auto``
    is the study's automatic MR window (computed once per study, not on every drag step)."""
    presets = dict(CT_PRESETS)
    if mr_auto is not None:
        presets[MR_AUTO] = mr_auto
    for name, (lv, wd) in presets.items():
        if abs(level - lv) < 0.5 and abs(width - wd) < 0.5:
            return name
    return CUSTOM_WINDOW


def in_plane_axes(axis: int) -> tuple[int, int]:
    """Voxel axes shown as screen columns and rows by the view across ``axis``."""
    rem = [a for a in range(3) if a != axis]
    return rem[0], rem[1]


def slice_2d(array: np.ndarray, axis: int, index: int) -> np.ndarray:
    """The display image (rows, columns) of slice ``index`` across ``axis``."""
    return np.take(array, int(index), axis=axis)[::-1, ::-1].T


def display_to_voxel(axis: int, index: int, col: float, row: float, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Voxel (i, j, k) under display pixel (col, row) of slice ``index``; clipped to the volume."""
    ca, ra = in_plane_axes(axis)
    v = [0, 0, 0]
    v[axis] = int(index)
    v[ca] = int(np.clip(shape[ca] - 1 - int(np.floor(col)), 0, shape[ca] - 1))
    v[ra] = int(np.clip(shape[ra] - 1 - int(np.floor(row)), 0, shape[ra] - 1))
    return v[0], v[1], v[2]


def voxel_to_display(axis: int, ijk: tuple[int, int, int], shape: tuple[int, ...]) -> tuple[float, float]:
    """Centre of voxel ``ijk`` in display pixel coordinates (col, row) of the view across ``axis``."""
    ca, ra = in_plane_axes(axis)
    return shape[ca] - 1 - ijk[ca] + 0.5, shape[ra] - 1 - ijk[ra] + 0.5


def pixel_mm(axis: int, spacing: tuple[float, float, float]) -> tuple[float, float]:
    """Physical width and height (mm) of one display pixel."""
    ca, ra = in_plane_axes(axis)
    return float(spacing[ca]), float(spacing[ra])


def window_to_uint8(image: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map intensities through a window (level, width) to 0..255."""
    lo = level - width / 2.0
    scale = 255.0 / max(float(width), 1e-6)
    out = (image.astype(np.float32) - lo) * scale
    return np.clip(out, 0, 255).astype(np.uint8)


def auto_window(array: np.ndarray) -> tuple[float, float]:
    """(level, width) from the 1st and 99th percentiles of a sample (MR has no fixed intensity scale)."""
    sample = array.ravel()[:: max(1, array.size // 400_000)]
    lo, hi = np.percentile(sample, [1, 99])
    return float(lo + hi) / 2.0, max(float(hi - lo), 1.0)


def palette_color(value: int) -> tuple[int, int, int]:
    """A distinct colour for a label that has none (golden-ratio hue steps)."""
    h = (value * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.65, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


#: Colour-blind-safe label colours: Okabe & Ito (2008) first, then Paul Tol's "muted" scheme; distinguishable with
#: deuteranopia, protanopia and tritanopia (neighbours in the list differ in lightness as well as hue).
COLOUR_BLIND_PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0), (204, 121, 167),
    (51, 34, 136), (136, 204, 238), (68, 170, 153), (17, 119, 51), (153, 153, 51), (221, 204, 119),
    (204, 102, 119), (136, 34, 85), (170, 68, 153))
#: Structures that wrap the whole patient: drawn as an outline in the slices and hidden in 3D until asked for,
#: since a filled body tints everything and its surface hides every organ.
BODY_NAMES = frozenset({"body", "soft_tissue", "skin", "body_trunc", "body_extremities", "body_outline"})


def colour_blind_colors(values: list[int], outline: set[int] | frozenset[int] = frozenset()
                        ) -> dict[int, tuple[int, int, int]]:
    """The colour-blind-safe palette over ``values`` in order; outlined (body) values get a neutral light grey."""
    out: dict[int, tuple[int, int, int]] = {}
    i = 0
    for v in values:
        if v in outline:
            out[v] = (210, 210, 210)
            continue
        out[v] = COLOUR_BLIND_PALETTE[i % len(COLOUR_BLIND_PALETTE)]
        i += 1
    return out


def outline_only(labels2d: np.ndarray, values: set[int] | frozenset[int]) -> np.ndarray:
    """``labels2d`` with the inside of each region of ``values`` cleared, leaving its one-pixel border."""
    if not values or labels2d.size == 0:
        return labels2d
    out = labels2d.copy()
    for v in values:
        mask = labels2d == v
        if not mask.any():
            continue
        inner = mask.copy()
        inner[1:, :] &= mask[:-1, :]
        inner[:-1, :] &= mask[1:, :]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        inner[0, :] = inner[-1, :] = False  # the image edge is no border of the structure
        inner[:, 0] = inner[:, -1] = False
        out[inner] = 0
    return out


def overlay_lut(colors: dict[int, tuple[int, int, int]], visible: dict[int, bool], opacity: float,
                n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-value RGB (uint8 [n, 3]) and alpha (float32 [n]); value 0 and hidden values are transparent."""
    rgb = np.zeros((n, 3), np.uint8)
    alpha = np.zeros(n, np.float32)
    for v in range(1, n):
        rgb[v] = colors.get(v) or palette_color(v)
        alpha[v] = opacity if visible.get(v, True) else 0.0
    return rgb, alpha


def compose(gray: np.ndarray, labels: np.ndarray | None, lut_rgb: np.ndarray | None,
            lut_alpha: np.ndarray | None) -> np.ndarray:
    """Blend a uint8 grey image with a label image through a colour table; returns RGB uint8 (rows, cols, 3)."""
    out = np.repeat(gray[:, :, None], 3, axis=2)
    if labels is None or lut_rgb is None or lut_alpha is None or not labels.any():
        return np.ascontiguousarray(out)
    lab = np.minimum(labels, len(lut_alpha) - 1).astype(np.intp)
    a = lut_alpha[lab][:, :, None]
    blended = out.astype(np.float32) * (1.0 - a) + lut_rgb[lab].astype(np.float32) * a
    return np.ascontiguousarray(np.clip(blended + 0.5, 0, 255).astype(np.uint8))


def difference_labels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two label maps disagree: 1 = only in ``a``, 2 = only in ``b``, 3 = both labelled but differently."""
    out = np.zeros(a.shape, np.uint8)
    differ = a != b
    out[differ & (a > 0) & (b == 0)] = 1
    out[differ & (a == 0) & (b > 0)] = 2
    out[differ & (a > 0) & (b > 0)] = 3
    return out


DIFF_NAMES = {1: "student only", 2: "teacher only", 3: "different structure"}
DIFF_COLORS = {1: (255, 140, 0), 2: (0, 190, 255), 3: (230, 0, 230)}
