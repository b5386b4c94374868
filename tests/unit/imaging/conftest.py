"""Fixtures of the imaging tests: a registry holding tiny ONNX bundles made in a temp folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _imaging_fixtures import make_bundle, phantom_volume  # noqa: E402


@pytest.fixture
def tiny_registry(tmp_path):
    """A registry with 'seg-tiny-test' (CT, 3x3x4 mm = the phantom's spacing, RAS) in its bundled root."""
    pytest.importorskip("onnx")
    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(tmp_path / "bundled", spacing=(3.0, 3.0, 4.0))
    return ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)


@pytest.fixture
def ct_file(tmp_path):
    """The phantom written as a NIfTI file (what a user hands ``medpriv segment``)."""
    import nibabel as nib

    vol, _ = phantom_volume()
    p = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(vol.array, vol.affine), str(p))
    return p


@pytest.fixture
def phantom():
    """(Volume, ground-truth labels) of the foundation's torso phantom at 3x3x4 mm."""
    return phantom_volume()
