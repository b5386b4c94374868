"""Real label maps as anatomical templates: generation label maps, random deformation, two ways to draw a sample.

A *template* is one real, labelled scan (TotalSegmentator's label maps of the shared examples). It becomes:

- a generation label map on the phantoms' fine grid (``fine_spacing``, RAS+): every TotalSegmentator structure is
  mapped onto a tissue of :data:`training.seg.labels.TISSUES` (:data:`TS_TO_TISSUE`), and the unlabelled rest of the
  scan is split by the real image's intensities into air outside the body, fat, soft tissue and gas (CT: HU
  thresholds; MR: quantiles inside a body mask);
- the real image at the *model* spacing, made with the app's own ``to_model_space`` (so it is resampled exactly as
  inference resamples), with its segmentation labels on the same grid.

Per sample, a random affine (rotation, per-axis scale, small shear) composed with a smooth elastic displacement
deforms either the generation map (then ``synth.synthesize`` draws a CT or MR-like image from it, SynthSeg-style),
or the real image and its labels together (then a random intensity transform: gamma, contrast, bias, noise, blur).
Left/right is never mirrored: the label set has paired left/right structures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from training.seg.labels import GEN_BY_NAME, seg_from_gen

#: The shared labelled scans: id -> (image, label map, TotalSegmentator task, modality). ``ct_sm`` is slices 82-111
#: of ``example_ct``: a leave-one-scan-out fold that leaves out ``ct_sm`` must use nothing of ``example_ct`` either.
TEMPLATE_FILES: dict[str, tuple[str, str, str, str]] = {
    "ct_sm": ("example_ct_sm.nii.gz", "example_seg.nii.gz", "total", "CT"),
    "ct_dicom": ("example_ct_dicom", "example_seg_dicom.nii.gz", "total", "CT"),
    "mr_sm": ("example_mr_sm.nii.gz", "example_seg_mr.nii.gz", "total_mr", "MR"),
}

_GENERIC_BONE = "muscle"  # bones we do not predict (hip, femur, scapula...): no bright non-target tissue exists
_FIXED = {
    "spleen": "spleen", "kidney_right": "kidney_right", "kidney_left": "kidney_left",
    "kidney_cyst_right": "kidney_right", "kidney_cyst_left": "kidney_left", "gallbladder": "gallbladder",
    "liver": "liver", "stomach": "stomach", "adrenal_gland_right": "adrenal_gland_right",
    "adrenal_gland_left": "adrenal_gland_left", "lung_left": "lung_left", "lung_right": "lung_right",
    "heart": "heart", "atrial_appendage_left": "heart", "aorta": "aorta", "urinary_bladder": "bladder",
    "small_bowel": "bowel", "duodenum": "bowel", "colon": "bowel", "trachea": "bowel_gas",
    "spinal_cord": "spinal_canal", "intervertebral_discs": "disc", "vertebrae": "vertebra", "sacrum": "vertebra",
    "costal_cartilages": "soft_tissue", "sternum": _GENERIC_BONE,
}


def ts_tissue(name: str) -> str:
    """Generation tissue of one TotalSegmentator structure name (soft tissue for vessels and other organs)."""
    if name in _FIXED:
        return _FIXED[name]
    if name.startswith("lung_"):
        return "lung_left" if name.endswith("_left") else "lung_right"
    if name.startswith("vertebrae_"):
        return "vertebra"
    if name.startswith("rib_"):
        return "rib"
    if name.startswith(("autochthon", "iliopsoas", "gluteus")):
        return "muscle"
    if name.startswith(("humerus", "scapula", "clavicula", "femur", "hip", "skull")):
        return _GENERIC_BONE
    return "soft_tissue"  # vessels, pancreas, oesophagus, thyroid, prostate, brain


def tissue_lookup(class_map: dict[str, str]) -> np.ndarray:
    """Lookup table TotalSegmentator value -> generation tissue (255 = unlabelled, decided by intensity)."""
    lut = np.full(256, 255, np.uint8)
    for k, name in class_map.items():
        lut[int(k)] = GEN_BY_NAME[ts_tissue(name)]
    return lut


def _body_mask(inside: np.ndarray) -> np.ndarray:
    """3D components of ``inside`` of at least 5 % of the largest (trunk and arms, not the table or noise), with
    the holes of every axial slice filled (lungs, bowel gas)."""
    lab, n = ndimage.label(inside)
    if n == 0:
        return inside
    sizes = np.asarray(ndimage.sum_labels(inside, lab, range(1, n + 1)))
    keep = np.concatenate([[False], sizes >= 0.05 * sizes.max()])
    body = keep[lab]
    for z in range(body.shape[2]):
        body[:, :, z] = ndimage.binary_fill_holes(body[:, :, z])
    return body


def generation_map(image: np.ndarray, ts_labels: np.ndarray, lut: np.ndarray, modality: str) -> np.ndarray:
    """Generation label map of a real scan: mapped structures, and the unlabelled rest split by intensity."""
    gen = lut[np.clip(ts_labels, 0, 255).astype(np.int64)]
    free = gen == 255
    img = image.astype(np.float32)
    if modality == "CT":
        body = _body_mask(img > -400) | ~free
        gas, fat, soft = img < -400, img < -30, np.ones_like(free)
    else:
        hi = float(np.percentile(img, 99))
        body = _body_mask(img > 0.08 * hi) | ~free
        q = np.percentile(img[body & free], [15, 70]) if (body & free).any() else (0.0, 0.0)
        gas, soft, fat = img < q[0], img < q[1], np.ones_like(free)  # fat is bright on the usual T1/T2 sequences
    out = np.where(free, 0, gen).astype(np.uint8)
    inner = free & body
    if modality == "CT":
        out[inner & ~fat] = GEN_BY_NAME["soft_tissue"]
        out[inner & fat] = GEN_BY_NAME["fat"]
    else:
        out[inner & fat] = GEN_BY_NAME["fat"]
        out[inner & soft] = GEN_BY_NAME["soft_tissue"]
    out[inner & gas] = GEN_BY_NAME["bowel_gas"]
    return out


def regrid_nearest(labels: np.ndarray, spacing: tuple[float, ...], target: float) -> np.ndarray:
    """Labels on an isotropic ``target`` grid with the same centre (nearest neighbour: labels, not images)."""
    idx = []
    for n, s in zip(labels.shape, spacing):
        m = max(1, int(round(n * s / target)))
        pos = (np.arange(m) - (m - 1) / 2) * target / s + (n - 1) / 2
        idx.append(np.clip(np.rint(pos).astype(np.int64), 0, n - 1))
    return np.ascontiguousarray(labels[np.ix_(*idx)])


@dataclass
class Template:
    """One real scan ready for sampling: generation map (fine grid) and real image + labels (model grid)."""

    name: str
    modality: str
    gen: np.ndarray  # uint8 generation labels, RAS, ``fine_spacing``
    image: np.ndarray  # float32 real image normalised with the card's rule, RAS, model spacing
    labels: np.ndarray  # uint8 segmentation labels on the image's grid
    pad: float  # what empty air is after normalisation


def _image_input(model_spacing: float, patch: tuple[int, int, int]):
    from medpriv_desktop.core.models.card import ImageInput
    from training.seg.config import CT_NORM, MR_NORM

    s = float(model_spacing)
    return ImageInput(modalities=["CT", "MR"], spacing_mm=(s, s, s), orientation="RAS",
                      intensity={"CT": CT_NORM, "MR": MR_NORM}, patch_size=patch, overlap=0.5)


def load_template(data_dir: str | Path, name: str, fine_spacing: float = 3.0, model_spacing: float = 6.0,
                  patch: tuple[int, int, int] = (64, 48, 32)) -> Template:
    """Read one shared scan through the app's reader and make its :class:`Template`."""
    from medpriv_desktop.core.imaging.io import read_volume
    from medpriv_desktop.core.imaging.preprocess import to_model_space

    root = Path(data_dir) / "imaging" / "totalsegmentator"
    img_name, seg_name, task, modality = TEMPLATE_FILES[name]
    class_map = json.loads((root / "class_map.json").read_text())[task]
    vol = read_volume(root / img_name, modality=modality).reoriented("RAS")
    ts = read_volume(root / seg_name).reoriented("RAS")
    if not vol.same_grid(ts):
        from medpriv_desktop.core.errors import InputError

        raise InputError("the label map is not on the image's grid", path=root / seg_name)
    gen_native = generation_map(vol.array, ts.array.astype(np.int64), tissue_lookup(class_map), modality)
    ms = to_model_space(vol, _image_input(model_spacing, patch))
    labels = ms.to_model(seg_from_gen(gen_native), order=0)
    return Template(name, modality, regrid_nearest(gen_native, vol.spacing, fine_spacing), ms.array.copy(),
                    labels.astype(np.uint8), ms.pad_value)


@dataclass(frozen=True)
class WarpConfig:
    """Ranges of the random deformation."""

    rot_deg: tuple[float, float, float] = (6.0, 6.0, 12.0)  # about x, y, z (z: in-plane)
    scale: tuple[float, float] = (0.85, 1.15)  # per axis
    shear: float = 0.06
    elastic_mm: tuple[float, float] = (2.0, 8.0)  # amplitude of the smooth displacement
    elastic_cell_mm: float = 64.0  # spacing of the coarse displacement grid: smooth at the scale of organs
    # Random translation per axis: up to this fraction of the source's extent plus half the room a wider output
    # grid adds, so the source moves about inside the output and at most this fraction of it is cut off.
    shift: tuple[float, float, float] = (0.0, 0.0, 0.0)


#: Deformation of the training samples: a wider field of view than the template (air around it) and a random
#: translation, so that patches also show the body off-centre with much air, as a large real field of view does
#: (the DICOM example is 500 mm wide; the model's patch 384 x 288 mm).
SAMPLE_WARP = WarpConfig(shift=(0.1, 0.1, 0.05))
PAD_RANGE = (1.0, 1.5)  # in-plane output size / template size
THIN_SLAB_P = 0.3  # share of samples cut to a thin slab along z (the 40 mm DICOM series)
THIN_SLAB_MM = 30.0


@dataclass
class Warp:
    """Sampling coordinates (voxel indices into the source) for every output voxel, and the affine's matrix."""

    coords: np.ndarray  # float32 [3, *shape]
    matrix: np.ndarray  # 3x3 (output mm -> source mm, without the elastic part)
    extra: dict = field(default_factory=dict)


def random_warp(shape: tuple[int, int, int], rng: np.random.Generator, spacing: float,
                cfg: WarpConfig = WarpConfig(), out_shape: tuple[int, int, int] | None = None) -> Warp:
    """A random affine + elastic map from an output grid (``out_shape``, default ``shape``) onto a source of
    ``shape``, both at ``spacing`` and centred on each other up to the random translation.

    Coordinates are in mm about the volume centre; the elastic displacement is a coarse Gaussian grid linearly
    upsampled, so it is smooth at the scale of organs and keeps topology for the amplitudes used.
    """
    from training.seg.phantom import _rot

    angles = np.radians([rng.uniform(-r, r) for r in cfg.rot_deg])
    scale = np.diag(rng.uniform(*cfg.scale, 3))
    shear = np.eye(3) + np.triu(rng.uniform(-cfg.shear, cfg.shear, (3, 3)), 1)
    forward = _rot(*angles) @ shear @ scale  # source -> output
    inv = np.linalg.inv(forward)
    out_shape = tuple(out_shape or shape)
    centre = (np.asarray(shape, np.float32) - 1) / 2
    out_centre = (np.asarray(out_shape, np.float32) - 1) / 2
    shift = [rng.uniform(-1, 1) * (f * n + max(0, m - n) / 2) * spacing if f else 0.0
             for f, n, m in zip(cfg.shift, shape, out_shape)]
    grids = np.meshgrid(*[(np.arange(n, dtype=np.float32) - c) * spacing - d
                          for n, c, d in zip(out_shape, out_centre, shift)], indexing="ij")
    shape = out_shape
    amp = rng.uniform(*cfg.elastic_mm)
    cells = [max(2, int(round(n * spacing / cfg.elastic_cell_mm)) + 1) for n in shape]
    coarse = rng.normal(0, amp, (3, *cells)).astype(np.float32)
    zoom = [n / c for n, c in zip(shape, cells)]
    coords = np.empty((3, *shape), np.float32)
    for i in range(3):
        disp = ndimage.zoom(coarse[i], zoom, order=1, mode="nearest", grid_mode=True)[: shape[0], : shape[1], : shape[2]]
        src = inv[i, 0] * grids[0] + inv[i, 1] * grids[1] + inv[i, 2] * grids[2] + disp
        coords[i] = src / spacing + centre[i]
    return Warp(coords, inv, {"shift_mm": shift})


def apply_warp(array: np.ndarray, warp: Warp, order: int, cval: float = 0.0) -> np.ndarray:
    """``array`` resampled along ``warp`` (order 0 for labels, 1 for images); outside the source is ``cval``."""
    out = ndimage.map_coordinates(array, warp.coords, order=order, mode="constant", cval=cval, prefilter=False)
    return out.astype(array.dtype, copy=False)


def _label_hu_ranges() -> dict[int, tuple[float, float]]:
    """Soft-tissue segmentation label value -> the CT mean range (HU) its tissue is drawn from in synthesis
    (``labels.TISSUES``): the organs and vessels whose appearance contrast media and sequences change. Background
    and body (many tissues) have none; nor have lungs and bones, whose ranges are of the fine synthesis grid (a 6 mm
    vertebra voxel is a partial-volume mix, far below 250 HU) and which look alike in every CT."""
    from training.seg.labels import SEG_LABELS, TISSUES

    by_name = {lb.name: lb.value for lb in SEG_LABELS}
    out: dict[int, tuple[float, float]] = {}
    for t in TISSUES:
        v = by_name.get(t.seg)
        if v is not None and v > 1 and -200 < t.hu[0] < 200:
            out.setdefault(v, t.hu)
    return out


def relabel_intensities(x: np.ndarray, labels: np.ndarray, modality: str, rng: np.random.Generator) -> np.ndarray:
    """Give every labelled structure of a real image a new mean, keeping its own texture (SynthSeg's per-label
    intensity randomisation on a real image) for the soft-tissue structures of :func:`_label_hu_ranges`: CT (``x``
    in HU) moves each one's median to a value drawn from the range its tissue is synthesised with (liver 45-120 HU
    covers unenhanced to portal venous; aorta 35-350); MR (``x`` scaled to 0..1) moves it to U(0.05, 1), the
    synthetic MR contrast. The shift field is blurred by half a voxel so a boundary voxel gets a partial-volume mix.
    """
    ranges = _label_hu_ranges()
    shift = np.zeros_like(x, dtype=np.float32)
    for v in np.unique(labels):
        v = int(v)
        if v not in ranges:
            continue
        m = labels == v
        med = float(np.median(x[m]))
        target = rng.uniform(*ranges[v]) if modality == "CT" else rng.uniform(0.05, 1.0)
        shift[m] = target - med
    shift = ndimage.gaussian_filter(shift, 0.5, mode="nearest")
    return (x + shift).astype(np.float32)


def augment_real(image: np.ndarray, modality: str, rng: np.random.Generator, labels: np.ndarray | None = None,
                 label_p: float = 0.0) -> np.ndarray:
    """A random intensity transform of a normalised real image, re-normalised with the card's rule.

    CT goes back to HU (the card's z-score is fixed), gets a contrast scale and shift, blur and noise, and is
    normalised again; MR gets a gamma, a smooth multiplicative bias, blur and Rician-like noise and its own
    percentile normalisation, as a new MR series would. With probability ``label_p`` (and ``labels``), every
    structure first gets a new mean (:func:`relabel_intensities`).
    """
    from training.seg.config import CT_NORM
    from training.seg.data import prepare_volume

    x = image.astype(np.float32)
    sig = rng.uniform(0.0, 0.8, 3)
    relabel = labels is not None and label_p > 0 and rng.random() < label_p
    if modality == "CT":
        hu = x * CT_NORM.std + CT_NORM.mean
        if relabel:
            hu = relabel_intensities(hu, labels, "CT", rng)
        hu = hu * rng.uniform(0.9, 1.1) + rng.uniform(-25, 25)
        hu = ndimage.gaussian_filter(hu, sig, mode="nearest") + rng.normal(0, rng.uniform(0, 25), hu.shape)
        return prepare_volume(hu.astype(np.float32), "CT")
    pos = x - float(x.min())
    pos = pos / max(float(pos.max()), 1e-6)
    if relabel:
        pos = np.clip(relabel_intensities(pos, labels, "MR", rng), 0.0, None)
    pos = pos ** rng.uniform(0.7, 1.5)
    coarse = rng.normal(0, 0.25, (3, 3, 3))
    bias = ndimage.zoom(coarse, [n / 3 for n in pos.shape], order=1, mode="nearest", grid_mode=True)[
        : pos.shape[0], : pos.shape[1], : pos.shape[2]]
    pos = ndimage.gaussian_filter(pos * np.exp(bias), sig, mode="nearest")
    s = rng.uniform(0.0, 0.03)
    pos = np.sqrt((pos + rng.normal(0, s, pos.shape)) ** 2 + rng.normal(0, s, pos.shape) ** 2)
    return prepare_volume((pos * rng.uniform(100, 1000)).astype(np.float32), "MR")


def _sample_shape(shape: tuple[int, int, int], rng: np.random.Generator, spacing: float,
                  thin_p: float = THIN_SLAB_P) -> tuple[int, int, int]:
    """Output grid of one sample: in-plane widened by a random factor; sometimes a thin slab along z."""
    nx, ny = (int(round(n * rng.uniform(*PAD_RANGE))) for n in shape[:2])
    nz = shape[2]
    thin = max(2, int(round(THIN_SLAB_MM / spacing)))
    if nz > thin and rng.random() < thin_p:
        nz = int(rng.integers(thin, nz + 1))
    return nx, ny, nz


def sample_synthetic(t: Template, rng: np.random.Generator, fine_spacing: float, factor: int,
                     modality: str, thin_p: float = THIN_SLAB_P) -> tuple[np.ndarray, np.ndarray]:
    """Deformed generation map -> SynthSeg-style image: ``(raw image, segmentation)`` at the model spacing."""
    from training.seg.synth import synthesize

    out_shape = _sample_shape(t.gen.shape, rng, fine_spacing, thin_p)
    warp = random_warp(t.gen.shape, rng, fine_spacing, SAMPLE_WARP, out_shape)
    gen = apply_warp(t.gen, warp, order=0)
    return synthesize(gen, modality, rng, fine_spacing=fine_spacing, factor=factor)


def sample_real(t: Template, rng: np.random.Generator, model_spacing: float,
                thin_p: float = THIN_SLAB_P, label_p: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Deformed real image and labels with a random intensity transform: ``(normalised image, segmentation)``
    (``label_p``: share of samples whose structures get new means, :func:`relabel_intensities`)."""
    out_shape = _sample_shape(t.image.shape, rng, model_spacing, thin_p)
    warp = random_warp(t.image.shape, rng, model_spacing, SAMPLE_WARP, out_shape)
    img = apply_warp(t.image, warp, order=1, cval=t.pad)
    lab = apply_warp(t.labels, warp, order=0)
    return augment_real(img, t.modality, rng, lab, label_p), lab
