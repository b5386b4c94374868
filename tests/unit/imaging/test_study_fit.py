"""Issue 21, item 3: before a model runs, the study is checked against the card's modality and body region (a head
told apart from a torso by the header's BodyPartExamined or by the body's width); ``medpriv segment`` refuses a
mismatch unless ``--force``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.imaging.study_fit import check_study, model_region, study_region
from medpriv_desktop.core.imaging.volume import Volume
from tests.unit.imaging._imaging_fixtures import make_bundle


def phantom(width_mm: float, depth_mm: float, shape=(64, 64, 16), spacing=(4.0, 4.0, 5.0), modality="CT",
            meta=None) -> Volume:
    """An elliptic cylinder of soft tissue (40 HU) in air (-1000 HU), ``width_mm`` from left to right."""
    nx, ny, nz = shape
    x = (np.arange(nx) - (nx - 1) / 2) * spacing[0]
    y = (np.arange(ny) - (ny - 1) / 2) * spacing[1]
    inside = (x[:, None] / (width_mm / 2)) ** 2 + (y[None, :] / (depth_mm / 2)) ** 2 <= 1.0
    arr = np.where(inside[:, :, None], 40.0, -1000.0).astype(np.float32) * np.ones(nz, np.float32)
    if modality == "MR":
        arr = np.where(arr > 0, 600.0, 5.0).astype(np.float32)
    return Volume(arr, spacing, (0.0, 0.0, 0.0), np.eye(3), modality, dict(meta or {}))


def card(names, modalities=("CT",), region=None):
    labels = [SimpleNamespace(value=i, name=n) for i, n in enumerate(["background", *names])]
    return SimpleNamespace(id="seg-x", outputs=SimpleNamespace(labels=labels),
                           image_input=SimpleNamespace(modalities=list(modalities)), body_region=region)


TORSO = card(["lung_left", "liver", "heart"])
HEAD = card(["brain", "ventricles"])


@pytest.mark.parametrize("vol, region", [
    (phantom(150, 185), "head"),                   # an adult head: about 15 cm wide
    (phantom(320, 220), "torso"),                  # a chest: 32 cm
    (phantom(230, 200), None),                     # in between: no verdict
    (phantom(150, 185, modality="MR"), "head"),    # MR intensities: no fixed scale
    (phantom(320, 220, meta={"body_part": "HEAD"}), "head"),  # the header's body part wins over the width
])
def test_study_region(vol, region):
    assert study_region(vol)[0] == region


@pytest.mark.parametrize("c, region", [(TORSO, "torso"), (HEAD, "head"), (card(["soft_tissue", "bone"]), None),
                                       (card(["a"], region="Head"), "head")])
def test_model_region_from_card(c, region):
    assert model_region(c) == region


def test_torso_model_on_a_head_is_one_sentence_and_modality_first():
    fit = check_study(phantom(150, 185), TORSO)
    assert not fit.ok and fit.modality_ok and fit.region_problem
    assert fit.message().startswith("The study looks like a head (the body is 15 cm wide, a head), but seg-x")
    mr = check_study(phantom(320, 220, modality="MR"), TORSO)
    assert not mr.modality_ok and "made for CT only" in mr.problems[0] and mr.region_problem is None
    assert check_study(phantom(320, 220), TORSO).ok


def test_segment_cli_refuses_a_head_for_a_torso_model_unless_forced(medpriv_home, tmp_path, capsys):
    from medpriv_desktop.core.imaging.io import write_volume

    make_bundle(medpriv_home / "site_models", "seg-tiny-torso", labels=("background", "lung_left", "liver"),
                spacing=(4.0, 4.0, 5.0))
    study = tmp_path / "head.nii.gz"
    write_volume(phantom(150, 185), study)
    rc = main(["segment", str(study), "--model", "seg-tiny-torso", "-o", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert rc != 0 and "looks like a head" in err and "--force" in err and "Traceback" not in err
    assert not list((tmp_path / "o").glob("*.nii.gz")) if (tmp_path / "o").exists() else True
    rc = main(["segment", str(study), "--model", "seg-tiny-torso", "-o", str(tmp_path / "o2"), "-q", "--force"])
    assert rc == 0 and list((tmp_path / "o2").glob("*_seg.nii.gz"))
