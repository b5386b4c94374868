"""Real label maps as templates: tissue mapping, deformation, the two sampling paths, the mixed stream.

Synthetic data only (small label maps made here); the shared TotalSegmentator scans are never read.
"""

from __future__ import annotations

import numpy as np
import pytest

from training.seg import templates as tp
from training.seg.labels import GEN_BY_NAME, SEG_BY_NAME, seg_from_gen


@pytest.mark.parametrize("name, tissue", [
    ("liver", "liver"), ("kidney_cyst_left", "kidney_left"), ("lung_middle_lobe_right", "lung_right"),
    ("lung_upper_lobe_left", "lung_left"), ("lung_left", "lung_left"), ("vertebrae_T12", "vertebra"),
    ("vertebrae", "vertebra"), ("rib_right_7", "rib"), ("colon", "bowel"), ("trachea", "bowel_gas"),
    ("spinal_cord", "spinal_canal"), ("intervertebral_discs", "disc"), ("autochthon_left", "muscle"),
    ("gluteus_maximus_right", "muscle"), ("femur_left", "muscle"), ("inferior_vena_cava", "soft_tissue"),
    ("pancreas", "soft_tissue"), ("urinary_bladder", "bladder"), ("atrial_appendage_left", "heart"),
])
def test_totalsegmentator_names_map_to_generation_tissues(name, tissue):
    assert tp.ts_tissue(name) == tissue


def _ball(shape, centre, radius):
    idx = np.indices(shape).astype(np.float32)
    return sum((i - c) ** 2 for i, c in zip(idx, centre)) <= radius ** 2


def test_generation_map_splits_the_unlabelled_ct_by_hu():
    shape = (40, 32, 12)
    hu = np.full(shape, -1000.0, np.float32)
    body = _ball(shape, (20, 16, 6), 14) | _ball(shape, (20, 16, 0), 14) | _ball(shape, (20, 16, 11), 14)
    hu[body] = -100.0  # fat
    inner = _ball(shape, (20, 16, 6), 10)
    hu[inner] = 40.0  # soft tissue
    gas = _ball(shape, (14, 16, 6), 2)
    hu[gas] = -900.0  # bowel gas inside the body
    liver = _ball(shape, (25, 16, 6), 3)
    ts = np.zeros(shape, np.int64)
    ts[liver] = 5
    gen = tp.generation_map(hu, ts, tp.tissue_lookup({"5": "liver"}), "CT")
    assert (gen[liver] == GEN_BY_NAME["liver"]).all()
    assert gen[0, 0, 0] == GEN_BY_NAME["air"]
    assert gen[20, 16 + 12, 6] == GEN_BY_NAME["fat"]
    assert gen[20, 16 - 8, 6] == GEN_BY_NAME["soft_tissue"]
    assert gen[14, 16, 6] == GEN_BY_NAME["bowel_gas"]  # a hole of the body mask, not air outside


def _template(fine: float = 3.0, model: float = 6.0) -> tp.Template:
    """A small torso-like generation map (body, liver, spleen, two kidneys, vertebra) and its 'real' image."""
    shape = (48, 40, 16)
    gen = np.zeros(shape, np.uint8)
    gen[_ball(shape, (24, 20, 8), 17) | _ball(shape, (24, 20, 2), 17) | _ball(shape, (24, 20, 14), 17)] = \
        GEN_BY_NAME["soft_tissue"]
    for name, c, r in (("liver", (32, 22, 8), 5), ("spleen", (15, 18, 8), 3), ("kidney_left", (17, 12, 8), 3),
                       ("kidney_right", (31, 12, 8), 3), ("vertebra", (24, 9, 8), 3)):
        gen[_ball(shape, c, r)] = GEN_BY_NAME[name]
    f = int(round(model / fine))
    coarse = gen[f // 2::f, f // 2::f, f // 2::f]
    hu = np.array([-1000, 40, 0, 0, 0, 0, 60, 50, 150, 150, 0, 0, 0, 400] + [0] * 9, np.float32)[coarse]
    from training.seg.data import prepare_volume

    return tp.Template("toy", "CT", gen, prepare_volume(hu, "CT"), seg_from_gen(coarse), -2.25)


STRUCTURES = ("liver", "spleen", "kidney_left", "kidney_right", "vertebrae")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("path", ["synthetic-CT", "synthetic-MR", "real"])
def test_a_template_sample_keeps_every_template_structure(seed, path):
    t = _template()
    rng = np.random.default_rng(seed)
    if path == "real":
        img, seg = tp.sample_real(t, rng, 6.0, thin_p=0.0)
        assert img.shape == seg.shape and img.shape[2] == t.image.shape[2]
        assert t.image.shape[0] <= img.shape[0] <= 1.5 * t.image.shape[0] + 1  # a wider field of view
    else:
        img, seg = tp.sample_synthetic(t, rng, 3.0, 2, path.split("-")[1], thin_p=0.0)
        assert img.shape == seg.shape
    present = set(np.unique(seg).tolist())
    assert {SEG_BY_NAME[s] for s in STRUCTURES} <= present
    assert np.isfinite(img).all()


def test_some_samples_are_thin_slabs():
    t = _template()
    depths = {tp.sample_real(t, np.random.default_rng(seed), 6.0)[0].shape[2] for seed in range(12)}
    assert max(depths) == t.image.shape[2] and min(depths) >= round(tp.THIN_SLAB_MM / 6.0) and len(depths) > 1


def test_identity_warp_reproduces_the_labels_and_random_warps_keep_volumes_in_range():
    shape = (48, 48, 32)
    lab = _ball(shape, (24, 24, 16), 7).astype(np.uint8)
    still = tp.WarpConfig(rot_deg=(0.0, 0.0, 0.0), scale=(1.0, 1.0), shear=0.0, elastic_mm=(0.0, 0.0))
    ident = tp.random_warp(shape, np.random.default_rng(0), 3.0, still)
    assert np.array_equal(tp.apply_warp(lab, ident, order=0), lab)
    from scipy import ndimage

    ratios = []
    for seed in range(6):
        w = tp.random_warp(shape, np.random.default_rng(seed), 3.0)
        out = tp.apply_warp(lab, w, order=0)
        ratios.append(out.sum() / lab.sum())
        # Smooth: the ball stays one piece (26-connected: nearest-neighbour sampling may leave a diagonal voxel).
        assert ndimage.label(out, np.ones((3, 3, 3)))[1] == 1
        # Roughly invertible: the sphere's centre moves by at most a few voxels.
        assert np.abs(np.argwhere(out).mean(0) - (24, 24, 16)).max() < 4
        expected = 1.0 / abs(np.linalg.det(w.matrix))  # the affine's volume change (elastic part: small)
        assert 0.8 * expected < ratios[-1] < 1.2 * expected
    assert min(ratios) > 0.5 and max(ratios) < 1.7
    assert np.ptp(ratios) > 0.02  # the scale really is random


def test_intensity_randomisation_differs_per_draw():
    t = _template()
    a = tp.augment_real(t.image, "CT", np.random.default_rng(1))
    b = tp.augment_real(t.image, "CT", np.random.default_rng(2))
    assert not np.allclose(a, b, atol=1e-3)
    # Same anatomy: the draws still correlate with the source image.
    assert np.corrcoef(a.ravel(), t.image.ravel())[0, 1] > 0.8
    s1, _ = tp.sample_synthetic(t, np.random.default_rng(3), 3.0, 2, "MR")
    s2, _ = tp.sample_synthetic(t, np.random.default_rng(4), 3.0, 2, "MR")
    n = tuple(min(x, y) for x, y in zip(s1.shape, s2.shape))
    assert not np.allclose(s1[: n[0], : n[1], : n[2]], s2[: n[0], : n[1], : n[2]])


def test_relabelled_structures_get_means_from_their_tissue_range_and_the_rest_is_untouched():
    """SynthSeg-style per-structure means on a real CT: each soft-tissue organ's median lands in its tissue's
    synthesis range (liver 45-120 HU, aorta 35-350 HU), bones, lungs and body keep their values away from the
    boundaries; off (``label_p`` 0) the augmentation draws nothing more, so the 2.1.0 recipe's stream is unchanged."""
    from scipy import ndimage

    from training.seg.labels import SEG_BY_NAME

    liver, aorta, vert, body = (SEG_BY_NAME[n] for n in ("liver", "aorta", "vertebrae", "body"))
    labels = np.full((30, 30, 12), body, np.int64)
    labels[2:14, 2:20, 2:10] = liver
    labels[17:24, 17:24, :] = aorta
    labels[24:29, 4:10, 2:10] = vert
    hu = np.select([labels == liver, labels == aorta, labels == vert], [40.0, 45.0, 160.0], 20.0).astype(np.float32)
    ranges = tp._label_hu_ranges()
    assert ranges[liver] == (45, 120) and vert not in ranges and body not in ranges
    for seed in range(5):
        out = tp.relabel_intensities(hu, labels, "CT", np.random.default_rng(seed))
        core = {v: ndimage.binary_erosion(labels == v, iterations=2) for v in (liver, aorta, vert, body)}
        assert 45 <= np.median(out[core[liver]]) <= 120 and 35 <= np.median(out[core[aorta]]) <= 350
        assert np.allclose(out[core[vert]], 160.0, atol=0.5) and np.allclose(out[core[body]], 20.0, atol=0.5)
    image = (hu + 100.0) / 400.0  # the CT z-score of the card
    plain = tp.augment_real(image, "CT", np.random.default_rng(7))
    off = tp.augment_real(image, "CT", np.random.default_rng(7), labels, label_p=0.0)
    on = tp.augment_real(image, "CT", np.random.default_rng(7), labels, label_p=1.0)
    assert np.array_equal(plain, off) and not np.allclose(plain, on)


def test_mixed_stream_draws_phantoms_and_both_template_paths(tmp_path, monkeypatch):
    from training.seg.config import load_config
    from training.seg.data import MixedStream, generate_phantoms
    from training.seg.phantom import PhantomSpec

    from medpriv_desktop.core.jobs import run_job

    run_job(generate_phantoms(tmp_path / "ph", 2, 5, PhantomSpec(spacing=6.0)))
    monkeypatch.setattr(tp, "load_template", lambda *a, **k: _template(6.0, 6.0))
    cfg = load_config(None, {"data.phantom_dir": str(tmp_path / "ph"), "data.phantom_spacing_mm": 6.0,
                             "data.n_phantoms": 2, "data.n_val_phantoms": 0, "data.templates": ["ct_sm"],
                             "data.template_data_dir": str(tmp_path), "model.spacing_mm": 6.0,
                             "model.patch": [32, 32, 16], "optim.batch_size": 2, "data.patches_per_volume": 1})
    stream = MixedStream(cfg, np.random.default_rng(0))
    batches = stream.batches()
    for _ in range(20):
        x, y = next(batches)
        assert x.shape == (2, 1, 32, 32, 16) and y.shape == (2, 32, 32, 16)
    assert set(stream.drawn) == {"phantom", "toy:real", "toy:synth"}
    assert 10 <= stream.drawn["phantom"] <= 30  # about half of 40 volumes


@pytest.mark.parametrize("fp16", [False, True])
def test_an_exported_onnx_maps_back_onto_the_network(tmp_path, fp16):
    """Warm starts from a bundle: ONNX initialisers -> state dict (fp16 weights come back as float32)."""
    import torch

    from training.seg.export import export_onnx
    from training.seg.networks import NetConfig, UNet3D
    from training.seg.train import checkpoint_from_onnx, model_from_checkpoint

    cfg = NetConfig(1, 4, 3, 4, 16, 1.0)
    torch.manual_seed(0)
    net = UNet3D(cfg)
    with torch.no_grad():  # distinct norm parameters (the exporter merges identical initialisers, as fresh ones are)
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    onnx_path = export_onnx(net, tmp_path / "m.onnx", (16, 16, 8), fp16_weights=fp16)
    back = model_from_checkpoint(checkpoint_from_onnx(onnx_path, cfg, tmp_path / "ck.pt"))
    tol = 2e-3 if fp16 else 0.0
    for (k, a), (_, b) in zip(net.state_dict().items(), back.state_dict().items()):
        assert torch.allclose(a.float(), b.float(), atol=tol, rtol=tol), k


def test_real_cases_are_resampled_as_the_app_does():
    """A 1 mm +-1000 HU checkerboard brought to 5 mm is its mean (area average), as the app's preprocessing gives it;
    a point-sampled zoom (the old training path) keeps the stripes."""
    from training.seg.data import resample_case
    from training.seg.msd import Case

    i, j, k = np.indices((40, 40, 40))
    board = np.where((i + j + k) % 2 == 0, 1000.0, -1000.0).astype(np.float32)
    labels = np.zeros(board.shape, np.uint8)
    case = Case("board", board, labels, (1.0, 1.0, 1.0), "CT")
    img, lab = resample_case(case, 5.0)
    assert img.shape == (8, 8, 8) and lab.shape == (8, 8, 8)
    assert np.abs(img[1:-1, 1:-1, 1:-1]).max() < 20.0
