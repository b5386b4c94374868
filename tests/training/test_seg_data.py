"""Phantom generator, CT/MR synthesis and the MSD / nnU-Net raw reader (numpy only, small grids)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.seg.labels import GEN_BY_NAME, SEG_BY_NAME, SEG_LABELS, seg_from_gen, totalseg_lookup
from training.seg.phantom import PhantomSpec, generate_phantom
from training.seg.synth import synthesize

SMALL = PhantomSpec(spacing=4.0)  # coarse grid: a phantom in well under a second


@pytest.fixture(scope="module")
def phantoms():
    return [generate_phantom(seed, SMALL)[0] for seed in (1, 2)]


def test_phantom_has_all_structures_in_plausible_places(phantoms):
    seg = seg_from_gen(phantoms[0])
    present = set(np.unique(seg)) - {0}
    assert len(present) >= 12
    for small in ("adrenal_gland_left", "adrenal_gland_right", "gallbladder"):
        assert SEG_BY_NAME[small] in present
    # RAS+: axis 0 grows towards the patient's right, so the liver lies at higher x than the spleen,
    # the spine is posterior (low axis 1) of the heart, and the lungs are superior (high axis 2) of the bladder.
    com = {n: np.argwhere(seg == SEG_BY_NAME[n]).mean(0) for n in ("liver", "spleen", "heart", "vertebrae",
                                                                   "lung_left", "urinary_bladder", "kidney_right",
                                                                   "kidney_left")}
    assert com["liver"][0] > com["spleen"][0]
    assert com["kidney_right"][0] > com["kidney_left"][0]
    assert com["vertebrae"][1] < com["heart"][1]
    assert com["lung_left"][2] > com["urinary_bladder"][2]
    vox_ml = SMALL.spacing**3 / 1000
    adrenal = (seg == SEG_BY_NAME["adrenal_gland_left"]).sum() * vox_ml
    liver = (seg == SEG_BY_NAME["liver"]).sum() * vox_ml
    assert 0.5 < adrenal < 30 and 700 < liver < 3000


def test_phantoms_are_reproducible_and_vary(phantoms):
    again, _ = generate_phantom(1, SMALL)
    assert np.array_equal(again, phantoms[0])
    a, b = (seg_from_gen(p) for p in phantoms)
    liver = SEG_BY_NAME["liver"]
    assert (a == liver).sum() != (b == liver).sum()
    assert (a != b).mean() > 0.01


@pytest.mark.parametrize("modality", ["CT", "MR"])
def test_synthesis_ranges_and_partial_volume(phantoms, modality):
    rng = np.random.default_rng(0)
    img, seg = synthesize(phantoms[0], modality, rng, fine_spacing=SMALL.spacing, crop=False)
    assert img.shape == seg.shape == tuple(s // 2 for s in phantoms[0].shape)
    assert img.dtype == np.float32 and np.isfinite(img).all()
    if modality == "CT":
        lung = img[seg == SEG_BY_NAME["lung_left"]].mean()
        bone = img[seg == SEG_BY_NAME["vertebrae"]].mean()
        air = np.median(img[seg == 0])
        assert air < -900 and -950 < lung < -500 and bone > 150
    else:
        assert img.min() >= 0
    # Partial volume: boundary voxels take values between the two tissues, so there are many distinct levels.
    assert len(np.unique(np.round(img))) > 50


def test_mr_contrast_changes_between_draws(phantoms):
    means = []
    for seed in (0, 1):
        img, seg = synthesize(phantoms[0], "MR", np.random.default_rng(seed), fine_spacing=SMALL.spacing,
                              crop=False)
        img = img / img.max()
        means.append([img[seg == SEG_BY_NAME[n]].mean() for n in ("liver", "spleen", "kidney_left")])
    assert np.abs(np.subtract(*means)).max() > 0.05


def test_label_tables_are_consistent():
    assert [lb.value for lb in SEG_LABELS] == list(range(len(SEG_LABELS)))
    assert seg_from_gen(np.array([GEN_BY_NAME["fat"]]))[0] == SEG_BY_NAME["body"]
    lut = totalseg_lookup({"1": "spleen", "5": "liver", "31": "vertebrae_L1", "79": "spinal_cord",
                           "12": "lung_upper_lobe_right"})
    assert lut[1] == SEG_BY_NAME["spleen"] and lut[31] == SEG_BY_NAME["vertebrae"]
    assert lut[12] == SEG_BY_NAME["lung_right"] and lut[79] == 255 and lut[0] == 0


def _write_nifti(path, arr, affine):
    import nibabel as nib

    nib.save(nib.Nifti1Image(arr, affine), str(path))


@pytest.mark.parametrize("layout", ["nnunet_v2", "msd"])
def test_msd_reader_reorients_and_maps_labels(tmp_path, layout):
    from training.seg.msd import iter_msd_cases

    (tmp_path / "imagesTr").mkdir()
    (tmp_path / "labelsTr").mkdir()
    img = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    lab = np.zeros((4, 5, 6), np.uint8)
    lab[0, 0, 0] = 1  # liver at the first voxel along an L-P-S array: the patient's left, posterior, inferior
    lab[3, 4, 5] = 2
    lps = np.diag([-2.0, -2.0, 3.0, 1.0])  # axis codes L, P, S
    if layout == "nnunet_v2":
        _write_nifti(tmp_path / "imagesTr" / "case1_0000.nii.gz", img, lps)
        meta = {"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 1, "tumour": 2},
                "file_ending": ".nii.gz"}
    else:
        _write_nifti(tmp_path / "imagesTr" / "case1.nii.gz", img, lps)
        meta = {"modality": {"0": "MRI"}, "labels": {"0": "background", "1": "liver", "2": "tumour"},
                "training": [{"image": "./imagesTr/case1.nii.gz", "label": "./labelsTr/case1.nii.gz"}]}
    _write_nifti(tmp_path / "labelsTr" / "case1.nii.gz", lab, lps)
    (tmp_path / "dataset.json").write_text(json.dumps(meta))
    cases = list(iter_msd_cases(tmp_path))
    assert len(cases) == 1
    c = cases[0]
    assert c.modality == ("CT" if layout == "nnunet_v2" else "MR")
    assert c.spacing == (2.0, 2.0, 3.0)
    # In RAS+ order the patient-left/posterior voxel is at the high end of axes 0 and 1.
    assert c.labels[3, 4, 0] == SEG_BY_NAME["liver"]
    assert c.labels.max() == SEG_BY_NAME["liver"]  # 'tumour' is unknown to the model -> background
    assert c.image[3, 4, 0] == img[0, 0, 0]


def test_msd_reader_refuses_a_folder_without_dataset_json(tmp_path):
    from medpriv_desktop.core.errors import InputError
    from training.seg.msd import iter_msd_cases

    with pytest.raises(InputError, match="dataset.json"):
        list(iter_msd_cases(tmp_path))


@pytest.mark.parametrize("factor", [2, 4])
def test_synthesis_at_a_coarser_factor_keeps_image_and_labels_aligned(phantoms, factor):
    # 4 mm phantoms pooled by 2 and by 4 (8 and 16 mm voxels): labels at the block centres must still sit on their
    # tissue, e.g. dark lungs and bright vertebrae, and the shapes must agree.
    img, seg = synthesize(phantoms[0], "CT", np.random.default_rng(1), fine_spacing=SMALL.spacing, crop=False,
                          factor=factor)
    assert img.shape == seg.shape == tuple(s // factor for s in phantoms[0].shape)
    lung = np.median(img[seg == SEG_BY_NAME["lung_right"]])
    body = np.median(img[seg == SEG_BY_NAME["body"]])
    assert lung < -400 and body > -200
    # The bone labels sit on the bright voxels: shifting them by one voxel along any axis lowers their mean HU.
    bone = np.isin(seg, [SEG_BY_NAME["vertebrae"], SEG_BY_NAME["ribs"]])
    here = img[bone].mean()
    for axis in range(3):
        for shift in (-1, 1):
            assert img[np.roll(bone, shift, axis)].mean() < here


def test_cropped_synthesis_spans_whole_blocks(phantoms):
    for seed in range(4):
        img, seg = synthesize(phantoms[0], "MR", np.random.default_rng(seed), fine_spacing=SMALL.spacing, factor=4)
        assert img.shape == seg.shape and min(img.shape) >= 1


def test_foreground_sampling_finds_a_structure_of_one_voxel():
    # A one-voxel structure at odd coordinates: the sampler used to look for structures on a stride-2 grid and
    # never centred a patch on it (at 6 mm an adrenal gland is only a few voxels).
    from training.seg.data import sample_patches

    img = np.zeros((40, 40, 40), np.float32)
    lab = np.ones((40, 40, 40), np.uint8)
    lab[21, 23, 25] = 11
    x, y = sample_patches(img, lab, (8, 8, 8), 40, np.random.default_rng(0), fg_fraction=1.0)
    assert (y == 11).any(axis=(1, 2, 3)).sum() >= 10


def test_phantom_grid_mismatch_is_refused(tmp_path):
    from medpriv_desktop.core.errors import ConfigError
    from medpriv_desktop.core.jobs import run_job
    from training.seg.data import check_phantom_spacing, generate_phantoms

    run_job(generate_phantoms(tmp_path, 1, seed=3, spec=PhantomSpec(spacing=12.0)))
    check_phantom_spacing(tmp_path, 12.0)
    with pytest.raises(ConfigError, match="12 mm grid"):
        check_phantom_spacing(tmp_path, 1.5)
