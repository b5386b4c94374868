"""End-to-end tests need an X server: they start one with xvfb-run. In CI its absence is a failure, not a skip."""

from __future__ import annotations

import os
import shutil

import pytest

REPO_ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


@pytest.fixture
def xvfb_run() -> str:
    """Path of xvfb-run; skip locally when missing, fail in CI."""
    exe = shutil.which("xvfb-run")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("xvfb-run is missing in CI: scripts/test.sh should have installed Xvfb")
        pytest.skip("xvfb-run not installed (apt-get install xvfb xauth)")
    return exe


@pytest.fixture
def artifacts_dir() -> str:
    """Folder for screenshots a person looks at (git-ignored)."""
    path = os.path.abspath(REPO_ARTIFACTS)
    os.makedirs(path, exist_ok=True)
    return path
