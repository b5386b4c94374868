"""From a :class:`Volume` to the model's space (orientation, spacing, intensities) and back again.

Forward (:func:`to_model_space`):
1. reorient exactly (axis permutation and flips, no interpolation) to the card's ``image_input.orientation``;
2. resample to ``spacing_mm`` on a grid centred on the same field of view: along an axis with ``n`` voxels of size
   ``s`` the new grid has ``n' = max(1, round(n * s / s'))`` voxels of size ``s'`` and the same centre. Along an axis
   that gets coarser (``r = s' / s > 1``) each model voxel is the **mean of the input over its own extent** (an area
   average: input voxels wholly inside count fully, the two at its ends by the fraction inside), not a point sample:
   a 6 mm model voxel of a 1 mm CT is the mean of the 6 x 6 x 6 mm it covers, as a 6 mm detector element would
   measure it. That is the anti-aliasing filter that matches the training images, which are made by averaging
   f x f x f blocks of fine voxels (``training/seg/synth.py`` ``_pool``, partial volume) before a point-spread blur:
   with a whole factor on block boundaries the two are the same numbers. The box of width ``r`` input voxels has the
   variance ``r^2 / 12`` of the model voxel it stands for; a Gaussian of the same variance on top of the input voxel's
   own width (``sigma = sqrt((r^2 - 1) / 12)``, 1.7 input voxels at ``r = 6``) would suppress high frequencies
   better, but sampled every ``r`` voxels it keeps between about 60% and 140% of a thin bright line's mass per axis
   depending on where the line falls between model voxel centres, where the box keeps all of it, always. Along an
   axis that gets finer (``r < 1``) the resampling is linear, as before. :func:`resample_to_spacing` (and
   :func:`downsample_antialiased`) is the one function for this, also for the training side (real cases resampled
   to the model grid);
3. normalise the intensities with :func:`normalize.normalize_intensity` (the card's rule for the modality).

Inverse (:meth:`ModelSpace.labels_to_input`): each *input* voxel centre is looked up in the model grid (nearest
neighbour, or with ``smooth`` the argmax of every label's linearly interpolated indicator, which the app's
segmentation uses), then the inverse axis permutation/flips. It is defined on the input grid itself, so a label map
always lands on the input's voxel grid with the input's affine, whatever the model's spacing; when the spacing
already matches, the round trip is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.imaging.normalize import normalize_intensity
from medpriv_desktop.core.imaging.volume import LabelMap, Volume, apply_reorient, reorient_transform, undo_reorient
from medpriv_desktop.core.models.card import ImageInput

#: Relative spacing difference below which no resampling is done (saves time, keeps the round trip exact).
SPACING_TOLERANCE = 1e-3


@dataclass
class AxisMap:
    """Along one axis: model index m sits at input (reoriented) index ``scale * m + offset``."""

    n_in: int
    n_out: int
    scale: float
    offset: float

    @classmethod
    def for_axis(cls, n_in: int, s_in: float, s_out: float) -> AxisMap:
        """The centred grid of ``s_out`` spacing covering ``n_in`` voxels of ``s_in``."""
        if abs(s_in - s_out) <= SPACING_TOLERANCE * s_out:
            return cls(n_in, n_in, 1.0, 0.0)
        n_out = max(1, int(round(n_in * s_in / s_out)))
        scale = s_out / s_in
        offset = (n_in - 1) / 2.0 - scale * (n_out - 1) / 2.0
        return cls(n_in, n_out, scale, offset)

    @property
    def identity(self) -> bool:
        """True when this axis is not resampled."""
        return self.scale == 1.0 and self.offset == 0.0 and self.n_in == self.n_out


@dataclass
class ModelSpace:
    """The volume as the network sees it, plus everything needed to go back to the input grid."""

    array: np.ndarray  # float32, normalised, in the card's orientation and spacing
    volume: Volume  # the same grid as a Volume (affine in RAS+ mm), array = ``array``
    input_volume: Volume
    perm: tuple[int, int, int]
    flips: tuple[bool, bool, bool]
    axes: tuple[AxisMap, AxisMap, AxisMap]
    pad_value: float

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of the model-space array."""
        return tuple(a.n_out for a in self.axes)  # type: ignore[return-value]

    def labels_to_input(self, labels: np.ndarray, names: dict[int, str] | None = None,
                        colors: dict[int, tuple[int, int, int]] | None = None, smooth: bool = False) -> LabelMap:
        """Map a model-space label array back onto the input volume's voxel grid.

        Nearest neighbour by default. ``smooth``: each label's indicator is interpolated linearly onto the input grid
        and every voxel takes the label that scores highest there (:func:`smooth_upsample_labels`), so an organ
        segmented on a 6 mm grid gets a smooth outline on a 0.8 mm CT instead of 6 mm steps, as nnU-Net resamples its
        class probabilities rather than its labels. Where the model grid is not coarser, both are the same map.
        """
        if tuple(labels.shape) != self.shape:
            raise ValueError(f"labels of shape {labels.shape} are not on the model grid {self.shape}")
        out = labels
        if smooth and any(a.scale > 1.0 + SPACING_TOLERANCE for a in self.axes):
            out = smooth_upsample_labels(labels, self.axes)
        elif not all(a.identity for a in self.axes):
            # For every input (reoriented) index n along an axis: the nearest model index round((n - offset) / scale).
            idx = []
            for a in self.axes:
                m = np.rint((np.arange(a.n_in) - a.offset) / a.scale).astype(np.int64)
                idx.append(np.clip(m, 0, a.n_out - 1))
            # Gather one axis at a time: memory stays at one output-sized array of the label dtype.
            out = np.take(out, idx[0], axis=0)
            out = np.take(out, idx[1], axis=1)
            out = np.take(out, idx[2], axis=2)
        out = np.ascontiguousarray(undo_reorient(out, self.perm, self.flips))
        return LabelMap.like(self.input_volume, out, names or {}, colors)

    def to_model(self, input_array: np.ndarray, order: int = 0) -> np.ndarray:
        """Map another array on the input grid (e.g. a reference label map) into model space."""
        return np.ascontiguousarray(_resample(apply_reorient(input_array, self.perm, self.flips), self.axes, order))


def _linear_taps(a: AxisMap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every input index along ``a``: the two model indices around its centre and the weight of the second."""
    c = np.clip((np.arange(a.n_in) - a.offset) / a.scale, 0.0, a.n_out - 1)
    i0 = np.floor(c).astype(np.int64)
    i1 = np.minimum(i0 + 1, a.n_out - 1)
    return i0, i1, (c - i0).astype(np.float32)


def smooth_upsample_labels(labels: np.ndarray, axes: tuple[AxisMap, AxisMap, AxisMap],
                           chunk: int = 16) -> np.ndarray:
    """Labels on the input grid by linear interpolation of each label's indicator (argmax of the interpolated
    one-hot maps; ties keep the lower label value).

    Each label is interpolated only inside its bounding box on the model grid grown by one voxel (outside it its
    indicator is 0 everywhere), and the input grid is filled ``chunk`` planes of its first axis at a time, so the
    temporaries stay at a few chunk-sized float32 arrays whatever the scan's length.
    """
    from scipy import ndimage

    taps = [_linear_taps(a) for a in axes]
    shape = tuple(a.n_in for a in axes)
    out = np.zeros(shape, labels.dtype)
    boxes = ndimage.find_objects(labels.astype(np.int64, copy=False) + 1)  # +1: background gets a box too
    present = [(v - 1, b) for v, b in enumerate(boxes, start=1) if b is not None]
    # The input range each label's grown box can reach along every axis.
    ranges = []
    for v, box in present:
        r = []
        for (i0, i1, _), sl, a in zip(taps, box, axes):
            lo, hi = max(sl.start - 1, 0), min(sl.stop, a.n_out - 1)  # model indices lo..hi (grown by one)
            hit = np.flatnonzero((i1 >= lo) & (i0 <= hi))
            r.append((int(hit[0]), int(hit[-1]) + 1) if hit.size else (0, 0))
        ranges.append(r)
    onehots = [(labels == v).astype(np.float32) for v, _ in present]
    for s in range(0, shape[0], chunk):
        e = min(s + chunk, shape[0])
        best = np.full((e - s, shape[1], shape[2]), -1.0, np.float32)
        for (v, _), r, f in zip(present, ranges, onehots):
            xs, xe = max(r[0][0], s), min(r[0][1], e)
            if xs >= xe:
                continue
            (ys, ye), (zs, ze) = r[1], r[2]
            for ax, (lo, hi) in enumerate(((xs, xe), (ys, ye), (zs, ze))):
                i0, i1, w = (t[lo:hi] for t in taps[ax])
                shp = [1, 1, 1]
                shp[ax] = -1
                w = w.reshape(shp)
                f = np.take(f, i0, axis=ax) * (1.0 - w) + np.take(f, i1, axis=ax) * w
            region = (slice(xs - s, xe - s), slice(ys, ye), slice(zs, ze))
            win = f > best[region]
            best[region] = np.where(win, f, best[region])
            out[s:e][region[0], ys:ye, zs:ze][win] = v
    return out


def _resample(arr: np.ndarray, axes: tuple[AxisMap, AxisMap, AxisMap], order: int) -> np.ndarray:
    """Nearest neighbour (``order`` 0, labels) or, for images, an area average along every axis that gets coarser
    and linear interpolation along every axis that gets finer (module docstring)."""
    if all(a.identity for a in axes):
        return arr
    out_shape = tuple(a.n_out for a in axes)
    if order == 0:
        idx = [np.clip(np.rint(a.scale * np.arange(a.n_out) + a.offset).astype(np.int64), 0, a.n_in - 1)
               for a in axes]
        return np.ascontiguousarray(arr[np.ix_(*idx)])
    # Separable, one axis at a time: first the axes that get coarser, each time the one whose planes lie farthest
    # apart in memory (whole contiguous planes: fast), so the array is small before any axis gets finer.
    out = arr
    todo = [ax for ax in range(3) if not axes[ax].identity]
    while todo:
        ax = max(todo, key=lambda i: (axes[i].scale > 1.0, abs(out.strides[i])))
        todo.remove(ax)
        a = axes[ax]
        coords = a.scale * np.arange(a.n_out) + a.offset
        if a.scale > 1.0:
            out = _area_along(out, area_weights(a.n_in, coords, a.scale), ax)
        else:
            out = _linear_along(out, coords, ax)
    out = np.ascontiguousarray(out, dtype=np.float32)
    assert out.shape == out_shape
    return out


def area_weights(n_in: int, centres: np.ndarray, width: float) -> np.ndarray:
    """``[n_out, n_in]`` weights of the mean over ``[c - width/2, c + width/2]`` around each centre index.

    Input voxel ``i`` spans ``[i - 1/2, i + 1/2]`` and weighs the length of its overlap with the box; the part of a box
    outside the array is left out of its mean. Each row sums to 1.
    """
    lo = np.clip(centres - width / 2.0, -0.5, n_in - 0.5)[:, None]
    hi = np.clip(centres + width / 2.0, -0.5, n_in - 0.5)[:, None]
    i = np.arange(n_in, dtype=np.float64)[None, :]
    w = np.clip(np.minimum(hi, i + 0.5) - np.maximum(lo, i - 0.5), 0.0, None)
    return (w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _area_along(arr: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """``weights @ arr`` along ``axis`` as a sum of weighted planes: each output plane adds the few input planes its
    box covers, so every input voxel is read about once, and the only temporaries are single planes in float32
    (a 512 x 512 x 400 int16 CT is never copied whole to float)."""
    shape = list(arr.shape)
    shape[axis] = weights.shape[0]
    # The output keeps the input's memory layout, so each output plane is as contiguous as the input planes added
    # to it (a C-ordered DICOM stack and a Fortran-ordered NIfTI volume alike).
    order = sorted(range(arr.ndim), key=lambda i: -abs(arr.strides[i]))
    out = np.zeros([shape[i] for i in order], np.float32).transpose(np.argsort(order))
    src: list = [slice(None)] * arr.ndim
    dst: list = [slice(None)] * arr.ndim
    for m, row in enumerate(weights):
        dst[axis] = m
        target = out[tuple(dst)]
        for i in np.flatnonzero(row):
            src[axis] = int(i)
            target += row[i] * arr[tuple(src)].astype(np.float32, copy=False)
    return out


def resample_to_spacing(arr: np.ndarray, spacing_in, spacing_out, order: int = 1) -> np.ndarray:
    """``arr`` (voxels of ``spacing_in`` mm) on the centred grid of ``spacing_out`` mm: anti-aliased (area average)
    where it gets coarser, linear where finer (``order`` 1, images); nearest neighbour (``order`` 0, labels).

    The same grid and filter as :func:`to_model_space`, for the training side: a real case resampled to the model's
    spacing with this function looks like what the app will feed the model. Returns ``arr`` itself when the
    spacings already match.
    """
    axes = tuple(AxisMap.for_axis(n, float(s), float(t)) for n, s, t in zip(arr.shape, spacing_in, spacing_out))
    return _resample(arr, axes, order)  # type: ignore[arg-type]


def downsample_antialiased(arr: np.ndarray, factors) -> np.ndarray:
    """``arr`` with each axis ``factors[i]`` times coarser (area average; a factor below 1 is linear upsampling)."""
    return resample_to_spacing(arr, (1.0, 1.0, 1.0), tuple(float(f) for f in factors), order=1)


def _linear_along(arr: np.ndarray, coords: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``arr`` at fractional indices ``coords`` along ``axis`` (edges clamped)."""
    n = arr.shape[axis]
    c = np.clip(coords, 0, n - 1)
    lo = np.floor(c).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (c - lo).astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = len(coords)
    w = w.reshape(shape)
    # Converting after the gather keeps an int16 input from being copied whole to float32 first.
    a = np.take(arr, lo, axis=axis).astype(np.float32, copy=False)
    b = np.take(arr, hi, axis=axis).astype(np.float32, copy=False)
    a *= 1.0 - w
    b *= w
    a += b
    return a


def check_modality(volume: Volume, image_input: ImageInput, model_id: str) -> str:
    """The modality to normalise with; :class:`ModelError` when the model does not take this kind of image."""
    if volume.modality in image_input.modalities:
        return volume.modality
    guessed = " (guessed from the intensities; use --modality to override)" if volume.meta.get(
        "modality_guessed") else ""
    raise ModelError(f"model '{model_id}' takes {'/'.join(image_input.modalities)} images but this image is "
                     f"{volume.modality}{guessed}", path=volume.meta.get("source_path"),
                     hint="choose a model made for this modality")


def to_model_space(volume: Volume, image_input: ImageInput, model_id: str = "model") -> ModelSpace:
    """Reorient, resample and normalise ``volume`` for a model with this input contract."""
    modality = check_modality(volume, image_input, model_id)
    codes = image_input.orientation
    perm, flips = reorient_transform(volume.orientation_codes(), codes)
    # A view, not a copy: the reoriented array is only read while resampling / normalising.
    re_arr = apply_reorient(volume.array, perm, flips)
    re_spacing = [volume.spacing[p] for p in perm]
    axes = tuple(AxisMap.for_axis(n, s, t) for n, s, t in zip(re_arr.shape, re_spacing, image_input.spacing_mm))
    norm = image_input.intensity[modality]
    resampled = _resample(re_arr, axes, order=1)  # type: ignore[arg-type]
    arr = normalize_intensity(resampled, norm)
    del resampled
    # Padding value: what air / empty background becomes after normalisation.
    pad = float(normalize_intensity(np.array([-1024.0 if modality == "CT" else 0.0], np.float32), norm)[0]) \
        if norm.kind in ("ct-clip-zscore", "none") else float(arr.min())
    aff = _model_affine(volume, perm, flips, axes)
    model_vol = Volume.from_affine(arr, aff, modality, {"model_space": True})
    return ModelSpace(arr, model_vol, volume, perm, flips, axes, pad)  # type: ignore[arg-type]


def _model_affine(volume: Volume, perm, flips, axes) -> np.ndarray:
    """Affine of the model grid: reoriented affine composed with the per-axis scale/offset."""
    n = np.asarray(volume.shape)
    aff = volume.affine
    re = np.eye(4)
    start = np.zeros(3)
    for new_axis, (old_axis, flip) in enumerate(zip(perm, flips)):
        re[:3, new_axis] = -aff[:3, old_axis] if flip else aff[:3, old_axis]
        if flip:
            start[old_axis] = n[old_axis] - 1
    re[:3, 3] = aff[:3, :3] @ start + aff[:3, 3]
    scale = np.eye(4)
    for ax, a in enumerate(axes):
        scale[ax, ax] = a.scale
        scale[ax, 3] = a.offset
    return re @ scale


def check_model_fits(image_input: ImageInput, n_labels_card: int, n_out_model: int | None, model_id: str) -> None:
    """Refuse a model whose output channels disagree with its card's labels."""
    if n_out_model is not None and n_out_model != n_labels_card:
        raise ModelError(f"model '{model_id}' outputs {n_out_model} channels but its card lists {n_labels_card} "
                         "labels", hint="the bundle is inconsistent; re-export it")
