"""The one image type of the code base, and its orientation convention.

Orientation convention (the ONLY one used anywhere in MedPriv; readers and writers convert at the border):

- ``Volume.array[i, j, k]`` holds voxels in file order: ``i`` is the fastest-varying axis on disk, exactly as nibabel
  returns a NIfTI array. For a DICOM series ``i`` runs along a row (the column index), ``j`` down the columns (the
  row index) and ``k`` over the slices, sorted along the slice normal.
- World coordinates are **RAS+ millimetres**, as in nibabel: x increases towards the patient's Right, y towards
  Anterior, z towards Superior. DICOM and ITK/SimpleITK use LPS+ (x increases to the Left, y to Posterior); readers
  and writers convert with ``LPS_TO_RAS = diag(-1, -1, 1)`` (its own inverse) and nothing else ever sees LPS.
- ``direction`` is a 3x3 matrix whose columns are the RAS+ unit vectors of voxel axes i, j and k; ``spacing`` the voxel
  size in mm along i, j, k; ``origin`` the RAS+ position of the centre of voxel (0, 0, 0). Hence
  ``affine = [[direction @ diag(spacing), origin], [0, 0, 0, 1]]`` maps (i, j, k, 1) to world mm, the same matrix a
  NIfTI written by nibabel carries.
- ``orientation_codes()`` gives, per voxel axis, the world direction it points to (nearest axis), e.g. ``"RAS"`` for
  nibabel's canonical layout or ``"LPS"`` for a typical axial DICOM series read without reordering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Axis-code letters for the positive and negative direction of each world axis (RAS+).
_POS = "RAS"
_NEG = "LPI"
_OPPOSITE = {"R": "L", "L": "R", "A": "P", "P": "A", "S": "I", "I": "S"}
#: Matrix that converts between LPS+ (DICOM, ITK, SimpleITK) and RAS+ world coordinates; it is its own inverse.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


def axis_codes_from_direction(direction: np.ndarray) -> str:
    """The nearest world axis code of each column of a 3x3 direction matrix (``"RAS"``, ``"LPS"``, ``"PIR"``...)."""
    d = np.asarray(direction, dtype=float)
    used: set[int] = set()
    codes = []
    # Assign the most decisive axis first so an oblique matrix still gives a permutation.
    order = np.argsort(-np.max(np.abs(d), axis=0))
    result = [""] * 3
    for col in order:
        mags = np.abs(d[:, col]).copy()
        for u in used:
            mags[u] = -1
        world = int(np.argmax(mags))
        used.add(world)
        result[col] = _POS[world] if d[world, col] >= 0 else _NEG[world]
    codes = "".join(result)
    return codes


def _check_codes(codes: str) -> str:
    codes = codes.upper()
    if len(codes) != 3 or any(c not in _OPPOSITE for c in codes):
        raise ValueError(f"orientation codes must be three of RLAPSI, got {codes!r}")
    axes = {"R": 0, "L": 0, "A": 1, "P": 1, "S": 2, "I": 2}
    if len({axes[c] for c in codes}) != 3:
        raise ValueError(f"orientation codes name one world axis twice: {codes!r}")
    return codes


class GeometryError(ValueError):
    """Voxel sizes, axis directions or origin that describe no real grid (zero, NaN, infinite, singular)."""


#: Smallest |det| of the direction matrix accepted: below it two voxel axes (nearly) coincide.
MIN_DIRECTION_DET = 1e-6


def geometry_problem(spacing, direction, origin) -> str | None:
    """Why this geometry describes no usable grid (one short reason), or None when it is fine.

    Refused: a spacing that is zero, negative, NaN or infinite; a direction matrix that is not 3x3, holds NaN or
    infinity, or is singular (two axes parallel or one of zero length); a NaN or infinite origin.
    """
    sp = np.asarray(spacing, dtype=float).ravel()
    if sp.shape != (3,) or not np.all(np.isfinite(sp)) or np.any(sp <= 0):
        return "a voxel size is zero, negative, infinite or undefined"
    d = np.asarray(direction, dtype=float)
    if d.size != 9 or not np.all(np.isfinite(d)):
        return "the axis directions are undefined"
    if abs(float(np.linalg.det(d.reshape(3, 3)))) < MIN_DIRECTION_DET:
        return "two voxel axes point the same way (singular orientation matrix)"
    o = np.asarray(origin, dtype=float).ravel()
    if o.shape != (3,) or not np.all(np.isfinite(o)):
        return "the origin is infinite or undefined"
    return None


@dataclass
class Volume:
    """A 3D image: voxels plus RAS+ geometry (see the module docstring for the convention).

    ``meta`` holds non-identifying facts (``source_format``, ``source_path``, ``series_uid``, ``warnings`` list,
    ``dicom_files`` in k order for DICOM SEG export...). DICOM patient name/ID, when present, are kept only in
    ``meta["patient"]`` for the GUI to show on request; ``repr`` never prints ``meta``.
    """

    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    modality: str = "OT"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"a Volume is 3D, got an array of shape {self.array.shape}")
        self.spacing = tuple(float(s) for s in self.spacing)  # type: ignore[assignment]
        self.origin = tuple(float(o) for o in self.origin)  # type: ignore[assignment]
        self.direction = np.asarray(self.direction, dtype=float).reshape(3, 3)
        problem = geometry_problem(self.spacing, self.direction, self.origin)
        if problem:
            raise GeometryError(problem)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(shape={self.shape}, dtype={self.array.dtype}, spacing="
                f"{tuple(round(s, 4) for s in self.spacing)}, orientation={self.orientation_codes()}, "
                f"modality={self.modality})")

    # -- geometry -------------------------------------------------------------------------------------------------

    @classmethod
    def from_affine(cls, array: np.ndarray, affine: np.ndarray, modality: str = "OT",
                    meta: dict[str, Any] | None = None) -> Volume:
        """Build a volume from a 4x4 RAS+ affine (e.g. nibabel's)."""
        a = np.asarray(affine, dtype=float)
        m = a[:3, :3]
        if not np.all(np.isfinite(a[:3])):
            raise GeometryError("the affine holds an infinite or undefined value")
        spacing = np.linalg.norm(m, axis=0)
        if np.any(spacing <= 0):
            raise GeometryError("the affine has a zero-length voxel axis")
        return cls(array, tuple(spacing), tuple(a[:3, 3]), m / spacing, modality, dict(meta or {}))

    @property
    def affine(self) -> np.ndarray:
        """4x4 matrix mapping voxel (i, j, k, 1) to RAS+ millimetres."""
        a = np.eye(4)
        a[:3, :3] = self.direction * np.asarray(self.spacing)[None, :]
        a[:3, 3] = self.origin
        return a

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxel counts along i, j, k."""
        return tuple(int(n) for n in self.array.shape)  # type: ignore[return-value]

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres (a sheared grid is accounted for by the determinant)."""
        return abs(float(np.linalg.det(self.affine[:3, :3]))) / 1000.0

    def orientation_codes(self) -> str:
        """Nearest world direction of each voxel axis, e.g. ``"RAS"`` or ``"LPS"``."""
        return axis_codes_from_direction(self.direction)

    def voxel_to_world(self, ijk: np.ndarray) -> np.ndarray:
        """Map voxel indices (..., 3) to RAS+ mm."""
        p = np.asarray(ijk, dtype=float)
        return p @ (self.direction * np.asarray(self.spacing)).T + np.asarray(self.origin)

    def world_to_voxel(self, xyz: np.ndarray) -> np.ndarray:
        """Map RAS+ mm (..., 3) to continuous voxel indices."""
        m = self.direction * np.asarray(self.spacing)
        return (np.asarray(xyz, dtype=float) - np.asarray(self.origin)) @ np.linalg.inv(m).T

    def same_grid(self, other: Volume, tol_mm: float = 1e-3) -> bool:
        """True when both have the same shape and their affines agree within ``tol_mm``."""
        return self.shape == other.shape and bool(np.allclose(self.affine, other.affine, atol=tol_mm))

    def with_array(self, new: np.ndarray, **changes: Any) -> Volume:
        """A volume on the same grid with another array (same shape); ``changes`` override other fields."""
        if tuple(new.shape) != self.shape:
            raise ValueError(f"array shape {new.shape} does not match the grid {self.shape}")
        import dataclasses

        changes.setdefault("meta", dict(self.meta))
        changes.setdefault("direction", self.direction.copy())
        return dataclasses.replace(self, array=new, **changes)

    def reoriented(self, codes: str) -> Volume:
        """The same image with voxel axes permuted/flipped so ``orientation_codes() == codes`` (exact, no resampling).

        The world position of every voxel is unchanged; only the storage order changes. Use
        :func:`reorient_transform` to map arrays (e.g. label maps) back and forth.
        """
        perm, flips = reorient_transform(self.orientation_codes(), codes)
        arr = apply_reorient(self.array, perm, flips)
        aff = self.affine
        new_aff = np.eye(4)
        n = np.asarray(self.shape)
        for new_axis, (old_axis, flip) in enumerate(zip(perm, flips)):
            col = aff[:3, old_axis]
            new_aff[:3, new_axis] = -col if flip else col
        # Origin: the world position of the voxel that is now at index (0, 0, 0).
        start = np.array([(n[old] - 1) if f else 0 for old, f in zip(perm, flips)], float)
        old_index = np.zeros(3)
        for new_axis, old_axis in enumerate(perm):
            old_index[old_axis] = start[new_axis]
        new_aff[:3, 3] = aff[:3, :3] @ old_index + aff[:3, 3]
        return self._regrid(np.ascontiguousarray(arr), new_aff)

    def _regrid(self, arr: np.ndarray, affine: np.ndarray) -> Volume:
        """Same type and metadata, another array on the grid given by ``affine``."""
        import dataclasses

        spacing = np.linalg.norm(affine[:3, :3], axis=0)
        return dataclasses.replace(self, array=arr, spacing=tuple(spacing), origin=tuple(affine[:3, 3]),
                                   direction=affine[:3, :3] / spacing, meta=dict(self.meta))


@dataclass(repr=False)
class LabelMap(Volume):
    """An integer label image (0 = background) with the names (and optional RGB colours) of its values."""

    labels: dict[int, str] = field(default_factory=dict)
    colors: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not np.issubdtype(self.array.dtype, np.integer):
            raise ValueError(f"a LabelMap needs an integer array, got {self.array.dtype}")

    @classmethod
    def like(cls, reference: Volume, array: np.ndarray, labels: dict[int, str],
             colors: dict[int, tuple[int, int, int]] | None = None) -> LabelMap:
        """A label map on the grid of ``reference``."""
        if tuple(array.shape) != reference.shape:
            raise ValueError(f"label array shape {array.shape} does not match the grid {reference.shape}")
        return cls(array, reference.spacing, reference.origin, reference.direction.copy(), reference.modality,
                   {k: v for k, v in reference.meta.items() if k != "patient"}, dict(labels), dict(colors or {}))

    def present_values(self) -> list[int]:
        """Non-zero label values that occur in the array, sorted."""
        counts = np.bincount(self.array.ravel().astype(np.int64)) if self.array.size else np.zeros(1)
        return [int(v) for v in np.nonzero(counts)[0] if v != 0]


def reorient_transform(src: str, dst: str) -> tuple[tuple[int, int, int], tuple[bool, bool, bool]]:
    """Axis permutation and flips turning an array in ``src`` codes into ``dst`` codes.

    Returns ``(perm, flips)``: new axis ``n`` is old axis ``perm[n]``, reversed when ``flips[n]``.
    """
    src, dst = _check_codes(src), _check_codes(dst)
    perm, flips = [], []
    for c in dst:
        for old, s in enumerate(src):
            if s == c or s == _OPPOSITE[c]:
                perm.append(old)
                flips.append(s != c)
                break
    return tuple(perm), tuple(flips)  # type: ignore[return-value]


def apply_reorient(array: np.ndarray, perm: tuple[int, ...], flips: tuple[bool, ...]) -> np.ndarray:
    """Apply ``(perm, flips)`` from :func:`reorient_transform` (a view when possible)."""
    out = np.transpose(array, perm)
    for ax, f in enumerate(flips):
        if f:
            out = np.flip(out, axis=ax)
    return out


def undo_reorient(array: np.ndarray, perm: tuple[int, ...], flips: tuple[bool, ...]) -> np.ndarray:
    """Inverse of :func:`apply_reorient`: bring an array in the new layout back to the old one."""
    out = array
    for ax, f in enumerate(flips):
        if f:
            out = np.flip(out, axis=ax)
    return np.transpose(out, np.argsort(perm))
