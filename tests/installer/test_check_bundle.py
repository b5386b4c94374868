"""``installer/check_bundle.py`` on fake one-folder bundles (fast): what it refuses and what it requires."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def check_bundle():
    sys.path.insert(0, str(REPO / "installer"))
    try:
        import check_bundle
    finally:
        sys.path.pop(0)
    return check_bundle


def _complete_bundle(root: Path, check_bundle) -> Path:
    """A bundle holding one file for each required piece."""
    inner = root / "MedPriv" / "_internal"
    for _what, patterns in check_bundle.REQUIRED:
        f = inner / patterns[0].replace("*", "x")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    (root / "MedPriv" / "medpriv-desktop").write_bytes(b"x")
    return root / "MedPriv"


def test_complete_bundle_passes(tmp_path, check_bundle):
    bundle = _complete_bundle(tmp_path, check_bundle)
    assert check_bundle.check(bundle) == ([], [])
    assert check_bundle.main([str(bundle)]) == 0


@pytest.mark.parametrize("intruder", [
    "SimpleITK/_SimpleITK.abi3.so", "SimpleITK-2.5.0.dist-info/METADATA", "libSimpleITK_ITKIOImageBase.so",
    "torch/lib/libtorch_cpu.so", "monai/__init__.py", "transformers-4.50.0.dist-info/RECORD",
])
def test_training_stack_and_simpleitk_are_refused(tmp_path, check_bundle, intruder):
    bundle = _complete_bundle(tmp_path, check_bundle)
    f = bundle / "_internal" / intruder
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(b"x")
    bad, missing = check_bundle.check(bundle)
    assert missing == [] and any(intruder.split("/")[0] in b for b in bad), bad
    assert check_bundle.main([str(bundle)]) == 1


def test_lookalike_names_are_not_refused(tmp_path, check_bundle):
    """Sub-packages named like a forbidden package (spacy/training) and unrelated names stay allowed."""
    bundle = _complete_bundle(tmp_path, check_bundle)
    for rel in ("spacy/training/__init__.py", "medpriv_desktop/core/imaging/itk_formats.py", "simple/itk.txt"):
        f = bundle / "_internal" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    assert check_bundle.check(bundle) == ([], [])


def test_missing_piece_is_named(tmp_path, check_bundle):
    bundle = _complete_bundle(tmp_path, check_bundle)
    for p in (bundle / "_internal" / "tldextract").iterdir():
        p.unlink()
    assert check_bundle.check(bundle)[1] == ["tldextract suffix-list snapshot"]
