"""Fixtures of the DICOM de-identification tests: generated series with planted PHI, a fixed key, scanners."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "imaging"))

from _phi_series import write_phi_series  # noqa: E402


@pytest.fixture
def key() -> bytes:
    """The site's deid key of this test's MedPriv home (made on first use)."""
    from medpriv_desktop.core.keys import load_key

    return load_key("deid")


@pytest.fixture
def phi_study(tmp_path):
    """An input folder with one planted series; returns (folder, files, planted)."""
    files, planted = write_phi_series(tmp_path / "in" / "ct")
    return tmp_path / "in", files, planted


@pytest.fixture
def tiny_registry(tmp_path):
    """A registry holding the imaging tests' tiny CT model (3x3x4 mm)."""
    pytest.importorskip("onnx")
    from _imaging_fixtures import make_bundle

    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(tmp_path / "bundled", spacing=(3.0, 3.0, 4.0))
    return ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)
