"""Procedural torso phantoms in the spirit of XCAT: analytic shapes, randomly varied, painted into a label map.

A phantom is a *generation* label map (tissues of :data:`training.seg.labels.TISSUES`) on a fine grid (1.5 mm by
default) in RAS+ array order: axis 0 increases towards the patient's Right, axis 1 towards Anterior, axis 2 towards
Superior (the meaning of nibabel's ``aff2axcodes`` == ("R", "A", "S")). So the liver (patient's right) sits at high
axis-0 indices and the spleen at low ones.

Variation per phantom: body habitus (width, depth, fat thickness), organ size (x0.8-1.2 per axis), organ position
(+-5-10 mm), organ orientation (+-15 degrees), a smooth random elastic warp (about 8 mm), and a global pose (rotation
of a few degrees, shift). Coordinates are in mm in a canonical frame whose z = 0 is the pelvic floor and x = 0, y = 0
the centre of the vertebral canal line's anterior neighbour (mid-body).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from training.seg.labels import GEN_BY_NAME as G


@dataclass(frozen=True)
class PhantomSpec:
    """Grid of a phantom: fine spacing (mm) and canonical extent (mm)."""

    spacing: float = 1.5
    extent_x: float = 384.0  # left-right
    extent_y: float = 288.0  # posterior-anterior
    extent_z: float = 576.0  # pelvis to lung apex


def _rot(ax: float, ay: float, az: float) -> np.ndarray:
    """Rotation matrix from three angles (radians) about x, y, z."""
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


class _Painter:
    """Holds canonical coordinates of every voxel and paints shapes into the label map, box by box.

    Shapes are evaluated only inside a box of the array around where they can be (their canonical extent plus a
    margin for pose and warp), which keeps a phantom to a few seconds.
    """

    def __init__(self, coords: tuple[np.ndarray, np.ndarray, np.ndarray], labels: np.ndarray,
                 axes_mm: tuple[np.ndarray, np.ndarray, np.ndarray]):
        self.x, self.y, self.z = coords
        self.labels = labels
        self.axes_mm = axes_mm  # approximate canonical position of each index along each axis

    def box(self, lo, hi, margin: float = 35.0) -> tuple[slice, slice, slice]:
        """Array box that can contain canonical points in [lo, hi] (per axis, mm)."""
        out = []
        for ax, a, b in zip(self.axes_mm, lo, hi):
            idx = np.nonzero((ax >= a - margin) & (ax <= b + margin))[0]
            out.append(slice(int(idx[0]), int(idx[-1]) + 1) if idx.size else slice(0, 0))
        return tuple(out)

    def ellipsoid(self, c, r, rot: np.ndarray | None = None, sl=None) -> tuple[tuple, np.ndarray]:
        """Boolean mask (within a box) of an ellipsoid with centre ``c``, radii ``r`` and rotation ``rot``."""
        rm = float(max(r))
        sl = sl if sl is not None else self.box(np.asarray(c) - rm, np.asarray(c) + rm)
        dx, dy, dz = self.x[sl] - c[0], self.y[sl] - c[1], self.z[sl] - c[2]
        if rot is not None:
            # Express the offset in the ellipsoid's own axes (inverse rotation = transpose).
            dx, dy, dz = (rot[0, 0] * dx + rot[1, 0] * dy + rot[2, 0] * dz,
                          rot[0, 1] * dx + rot[1, 1] * dy + rot[2, 1] * dz,
                          rot[0, 2] * dx + rot[1, 2] * dy + rot[2, 2] * dz)
        return sl, (dx / r[0]) ** 2 + (dy / r[1]) ** 2 + (dz / r[2]) ** 2 <= 1.0

    def capsules(self, pts: np.ndarray, radii: np.ndarray) -> tuple[tuple, np.ndarray]:
        """Union of capsules along a polyline ``pts`` (n x 3) with per-point radii (tubes: aorta)."""
        rm = float(radii.max())
        sl = self.box(pts.min(0) - rm, pts.max(0) + rm)
        x, y, z = self.x[sl], self.y[sl], self.z[sl]
        out = np.zeros(x.shape, bool)
        for a, b, ra, rb in zip(pts[:-1], pts[1:], radii[:-1], radii[1:]):
            ab = b - a
            t = ((x - a[0]) * ab[0] + (y - a[1]) * ab[1] + (z - a[2]) * ab[2]) / max(float(ab @ ab), 1e-6)
            t = np.clip(t, 0, 1)
            d2 = (x - a[0] - t * ab[0]) ** 2 + (y - a[1] - t * ab[1]) ** 2 + (z - a[2] - t * ab[2]) ** 2
            out |= d2 <= (ra + t * (rb - ra)) ** 2
        return sl, out

    def paint(self, sl: tuple, mask: np.ndarray, value: int, where: np.ndarray | None = None) -> None:
        """Set ``value`` where ``mask`` (and optionally the full-size boolean ``where``) holds, inside box ``sl``."""
        view = self.labels[sl]
        if where is not None:
            mask = mask & where[sl]
        view[mask] = value


def _jit(rng: np.random.Generator, c, mm: float) -> np.ndarray:
    return np.asarray(c, float) + rng.uniform(-mm, mm, 3)


def _rad(rng: np.random.Generator, r, lo: float = 0.8, hi: float = 1.2) -> np.ndarray:
    return np.asarray(r, float) * rng.uniform(lo, hi, 3)


def _rrot(rng: np.random.Generator, deg: float = 15.0, base=(0.0, 0.0, 0.0)) -> np.ndarray:
    return _rot(*(np.radians(np.asarray(base) + rng.uniform(-deg, deg, 3))))


def generate_phantom(seed: int, spec: PhantomSpec = PhantomSpec()) -> tuple[np.ndarray, float]:
    """Make one phantom: ``(generation label map uint8 in RAS+ order, spacing_mm)``, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    sp = spec.spacing
    shape = tuple(int(round(e / sp)) for e in (spec.extent_x, spec.extent_y, spec.extent_z))
    # World coordinates of voxel centres: x centred, y centred, z from 0.
    wx = (np.arange(shape[0]) - shape[0] / 2 + 0.5) * sp
    wy = (np.arange(shape[1]) - shape[1] / 2 + 0.5) * sp
    wz = (np.arange(shape[2]) + 0.5) * sp
    X, Y, Z = np.meshgrid(wx.astype(np.float32), wy.astype(np.float32), wz.astype(np.float32), indexing="ij")

    # Pose: a small rotation about the body centre, and a shift; canonical = R^T (world - centre - shift) + centre.
    centre = np.array([0.0, 0.0, spec.extent_z / 2])
    pose = _rot(*np.radians(rng.uniform([-4, -4, -8], [4, 4, 8])))
    shift = rng.uniform([-15, -12, -20], [15, 12, 20])
    dx, dy, dz = X - centre[0] - shift[0], Y - centre[1] - shift[1], Z - centre[2] - shift[2]
    cx = pose[0, 0] * dx + pose[1, 0] * dy + pose[2, 0] * dz
    cy = pose[0, 1] * dx + pose[1, 1] * dy + pose[2, 1] * dz
    cz = pose[0, 2] * dx + pose[1, 2] * dy + pose[2, 2] * dz + centre[2]
    del X, Y, Z, dx, dy, dz
    # Smooth elastic warp: coarse random displacements (amplitude ~4-10 mm) upsampled by separable linear
    # interpolation (three small matrix products instead of a full 3D zoom).
    amp = rng.uniform(4, 10)
    coarse = rng.normal(0, amp, (3, 5, 4, 7)).astype(np.float32)
    w = [_interp_matrix(n, c) for n, c in zip(shape, coarse.shape[1:])]
    for arr, comp in zip((cx, cy, cz), coarse):
        arr += np.einsum("ia,jb,kc,abc->ijk", w[0], w[1], w[2], comp, optimize=True)

    labels = np.zeros(shape, np.uint8)
    axes = (wx - shift[0], wy - shift[1], wz - shift[2])
    p = _Painter((cx, cy, cz), labels, axes)
    _paint_torso(p, rng)
    return labels, sp


def _interp_matrix(n: int, c: int) -> np.ndarray:
    """(n x c) matrix of linear interpolation weights from c coarse points onto n fine points."""
    pos = np.linspace(0, c - 1, n)
    lo = np.clip(np.floor(pos).astype(int), 0, c - 2)
    frac = pos - lo
    m = np.zeros((n, c), np.float32)
    m[np.arange(n), lo] = 1 - frac
    m[np.arange(n), lo + 1] = frac
    return m


def _paint_torso(p: _Painter, rng: np.random.Generator) -> None:
    """Paint body wall, cavity contents, organs and skeleton in anatomical order (later shapes win)."""
    s = rng.uniform(0.9, 1.1)  # overall size
    ax, by = 155 * s * rng.uniform(0.9, 1.1), 110 * s * rng.uniform(0.88, 1.12)
    fat_t, mus_t = rng.uniform(8, 35), rng.uniform(8, 15)
    z_top = 570.0
    x, y, z = p.x, p.y, p.z
    # Body: super-ellipse cross-section whose size varies with z (pelvis, waist, chest).
    prof_a = (np.interp(z, [0, 120, 250, 380, 570], [1.08, 1.0, 0.94, 1.04, 0.98]) * ax).astype(np.float32)
    prof_b = (np.interp(z, [0, 120, 250, 380, 570], [0.95, 1.0, 0.98, 1.0, 0.9]) * by).astype(np.float32)
    yc = -10.0
    e = np.abs(x / prof_a) ** 2.3 + np.abs((y - yc) / prof_b) ** 2.3
    inside_z = (z > 0) & (z < z_top)
    body = (e <= 1.0) & inside_z
    labels = p.labels
    labels[body] = G["fat"]
    e_mus = np.abs(x / (prof_a - fat_t)) ** 2.3 + np.abs((y - yc) / (prof_b - fat_t)) ** 2.3
    labels[(e_mus <= 1.0) & inside_z] = G["muscle"]
    inner_a, inner_b = prof_a - fat_t - mus_t, prof_b - fat_t - mus_t
    cavity = ((np.abs(x / inner_a) ** 2.3 + np.abs((y - yc) / inner_b) ** 2.3) <= 1.0) & inside_z
    labels[cavity] = G["soft_tissue"]
    del e, e_mus, prof_a, prof_b

    # Bowel loops with gas in the abdomen and pelvis.
    for _ in range(int(rng.integers(18, 30))):
        c = np.array([rng.uniform(-0.7, 0.7) * ax * 0.8, rng.uniform(-10, 0.7 * by), rng.uniform(70, 250)])
        sl, m = p.ellipsoid(c, _rad(rng, [20, 20, 20], 0.6, 1.3))
        p.paint(sl, m, G["bowel"], cavity)
        if rng.random() < 0.5:
            sl, m = p.ellipsoid(c + rng.normal(0, 5, 3), _rad(rng, [7, 7, 7], 0.5, 1.4))
            p.paint(sl, m, G["bowel_gas"], cavity)

    # Diaphragm dome height (lungs above, abdominal organs below), a little higher on the right.
    dia = 330 * s + rng.uniform(-15, 15)
    # Lungs: tapered ellipsoids, flattened medially, above the diaphragm.
    for name, sign in (("lung_left", -1), ("lung_right", 1)):
        c = _jit(rng, [sign * 72 * s, -5, dia + 120 * s], 6)
        r = _rad(rng, [60 * s, 85 * s, 150 * s], 0.9, 1.1)
        sl, m = p.ellipsoid(c, r)
        zz = p.z[sl]
        dome = dia + (12 if sign > 0 else 0) - 0.004 * ((p.x[sl] - c[0]) ** 2 + (p.y[sl]) ** 2)
        m &= (zz > dome) & (sign * p.x[sl] > 18)
        p.paint(sl, m, G[name], cavity)
    # Heart: rotated ellipsoid, anterior and to the patient's left (-x in RAS).
    hc = _jit(rng, [-22 * s, 25, dia + 65 * s], 8)
    sl, m = p.ellipsoid(hc, _rad(rng, [55 * s, 45 * s, 62 * s], 0.85, 1.15), _rrot(rng, 12, (0, 25, -35)))
    p.paint(sl, m, G["heart"], cavity)
    # Aorta: ascending, arch, descending along the spine to the bifurcation.
    top = hc[2] + 85 * s
    pts = np.array([
        [hc[0] + 15, hc[1] + 5, hc[2] + 20], [-5, 20, top - 10], [-12, 0, top + 8], [-22, -30, top - 10],
        [-24, -32, dia], [-18, -30, 200], [-12, -25, 120]]) + rng.uniform(-4, 4, (7, 3))
    radii = np.array([15, 14, 13, 12, 11, 10, 9]) * s * rng.uniform(0.85, 1.15)
    sl, m = p.capsules(pts, radii)
    p.paint(sl, m, G["aorta"], cavity)

    # Liver: right-lobe ellipsoid plus a left-lobe extension, under the diaphragm.
    lv = _jit(rng, [65 * s, 5, dia - 45 * s], 8)
    for c, r in ((lv, [95 * s, 80 * s, 70 * s]), (lv + [-80 * s, 35, 5], [55 * s, 40 * s, 38 * s])):
        sl, m = p.ellipsoid(c, _rad(rng, r, 0.88, 1.12), _rrot(rng, 10))
        m &= p.z[sl] < dia + 10
        p.paint(sl, m, G["liver"], cavity)
    sl, m = p.ellipsoid(_jit(rng, [lv[0] - 15, 55, lv[2] - 50 * s], 6), _rad(rng, [14, 14, 32], 0.75, 1.25),
                        _rrot(rng, 15, (25, 0, 0)))
    p.paint(sl, m, G["gallbladder"], cavity)
    # Stomach (tissue-only label) with gas anteriorly, left upper abdomen.
    sc = _jit(rng, [-55 * s, 30, dia - 40 * s], 8)
    sl, m = p.ellipsoid(sc, _rad(rng, [45, 35, 50], 0.8, 1.2), _rrot(rng, 15))
    p.paint(sl, m, G["stomach"], cavity)
    sl, m = p.ellipsoid(sc + [0, 25, 20], _rad(rng, [25, 12, 20], 0.6, 1.3))
    p.paint(sl, m & (labels[sl] == G["stomach"]), G["bowel_gas"])
    # Spleen: posterior left upper quadrant.
    sl, m = p.ellipsoid(_jit(rng, [-92 * s, -35, dia - 35 * s], 8), _rad(rng, [26 * s, 45 * s, 45 * s]),
                        _rrot(rng, 15, (0, 0, 30)))
    p.paint(sl, m, G["spleen"], cavity)
    # Kidneys (right lower than left), each with a medial hilum of fat, and the adrenals above them.
    for name, adr, sign, dz in (("kidney_left", "adrenal_gland_left", -1, 0.0), ("kidney_right", "adrenal_gland_right", 1, -18.0)):
        kc = _jit(rng, [sign * 65 * s, -45, dia - 95 * s + dz], 7)
        kr = _rad(rng, [24 * s, 27 * s, 52 * s], 0.85, 1.15)
        krot = _rrot(rng, 8, (-12, sign * -15, sign * -20))
        sl, m = p.ellipsoid(kc, kr, krot)
        p.paint(sl, m, G[name], cavity)
        sl, m = p.ellipsoid(kc + [-sign * 20, 8, 0], [12, 10, 18])
        p.paint(sl, m & (labels[sl] == G[name]), G["fat"])
        ac = kc + [-sign * 12, 4, kr[2] + 10] + rng.uniform(-4, 4, 3)
        sl, m = p.ellipsoid(ac, _rad(rng, [4.5, 14, 18], 0.8, 1.25), _rrot(rng, 15, (0, 0, sign * 30)))
        p.paint(sl, m, G[adr], cavity)
    # Bladder: pelvis, anterior.
    sl, m = p.ellipsoid(_jit(rng, [0, 40, 55], 8), _rad(rng, [45, 35, 35], 0.7, 1.25))
    p.paint(sl, m, G["bladder"], cavity)
    # Paraspinal muscles.
    for sign in (-1, 1):
        sl, m = p.ellipsoid([sign * 42, -95, 300], [25, 22, 330])
        p.paint(sl, m, G["muscle"], body)
    _paint_spine_and_ribs(p, rng, s, dia, body)


def _paint_spine_and_ribs(p: _Painter, rng: np.random.Generator, s: float, dia: float, body: np.ndarray,
) -> None:
    """Vertebral bodies with discs, canal and posterior elements; 12 rib pairs that slope down anteriorly."""
    z = 95.0 + rng.uniform(-8, 8)
    levels = [(28.0, 9.0)] * 5 + [(22.0, 6.0)] * 12  # (body height, disc) for L5..L1 then T12..T1
    rib_levels: list[float] = []
    sy = -55.0
    for i, (h, d) in enumerate(levels):
        h, d = h * s, d * s
        w = (24 if i < 5 else 17 + 0.3 * (16 - i)) * s
        zc = z + h / 2
        sl = p.box((-2.5 * w, sy - 0.8 * w - 55, z - d), (2.5 * w, sy + 0.8 * w, z + h + d), margin=25)
        x, y, zz = p.x[sl], p.y[sl], p.z[sl]
        in_z = (zz >= z) & (zz < z + h)
        vb = in_z & ((x / w) ** 2 + ((y - sy) / (0.8 * w)) ** 2 <= 1)
        ring = in_z & (((x / 16) ** 2 + ((y - sy + 0.8 * w + 12) / 14) ** 2) <= 1)
        canal = ((x / 8) ** 2 + ((y - sy + 0.8 * w + 12) / 7.5) ** 2) <= 1
        spinous = in_z & (np.abs(x) < 5) & (y < sy - 0.8 * w - 20) & (y > sy - 0.8 * w - 50)
        transverse = in_z & (np.abs(x) < 2.2 * w) & (np.abs(y - (sy - 0.8 * w - 8)) < 5) & (np.abs(zz - zc) < h / 3)
        disc = (zz >= z - d) & (zz < z) & ((x / w) ** 2 + ((y - sy) / (0.8 * w)) ** 2 <= 1)
        p.paint(sl, disc, G["disc"], body)
        p.paint(sl, vb | ring | spinous | transverse, G["vertebra"], body)
        p.paint(sl, canal & (zz >= z - d) & (zz < z + h), G["spinal_canal"], body)
        if i >= 5:
            rib_levels.append(zc)
        z += h + d
    # Ribs: tubes following an ellipse just inside the body wall, from the spine round to the front. The angle
    # round the ring and the elliptic radius are computed once for the whole rib cage.
    rib_levels = rib_levels[::-1]  # T1 first
    ra, rb = 120 * s, 95 * s
    cage = p.box((-1.3 * ra, -200, min(rib_levels) - 100), (1.3 * ra, 150, max(rib_levels) + 15), margin=20)
    x, y, zz = p.x[cage], p.y[cage], p.z[cage]
    yy = y - (sy - 10)
    t = np.arctan2(np.abs(x), -yy)  # 0 at the back, pi at the front, same on both sides
    z_off = p.axes_mm[2][cage[2]]
    for k, zk in enumerate(rib_levels):
        sweep = np.radians([150, 160, 165, 170, 170, 170, 165, 150, 130, 115, 80, 60][k])
        drop = [25, 40, 55, 65, 75, 80, 85, 85, 80, 70, 45, 30][k] * s
        grow = 1.0 - 0.3 * max(0, 3 - k) / 3  # the upper ribs make a smaller ring
        ks = np.nonzero((z_off >= zk - drop - 40) & (z_off <= zk + 40))[0]
        if not ks.size:
            continue
        sub = (slice(None), slice(None), slice(int(ks[0]), int(ks[-1]) + 1))
        tt = t[sub]
        rho = np.sqrt((x[sub] / (ra * grow)) ** 2 + (yy[sub] / (rb * grow * 1.1)) ** 2)
        zc = zk - drop * np.clip(tt / sweep, 0, 1) ** 1.5
        tube = (((rho - 1.0) * ra / 6.0) ** 2 + ((zz[sub] - zc) / 6.0) ** 2 <= 1.0) & (tt > 0.25) & (tt < sweep)
        box = (cage[0], cage[1], slice(cage[2].start + sub[2].start, cage[2].start + sub[2].stop))
        p.paint(box, tube, G["rib"], body)
