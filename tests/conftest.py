"""Shared fixtures: every test gets its own MEDPRIV_HOME, key folder and site folder, so nothing touches the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports onnxruntime: the package switches its telemetry off (medpriv_desktop/_offline.py).
import medpriv_desktop  # noqa: F401,E402

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``MEDPRIV_DATA`` or ``../shared/data`` beside the repo, when present."""
    env = os.environ.get("MEDPRIV_DATA")
    p = Path(env) if env else REPO.parent / "shared" / "data"
    return p if p.is_dir() else None


@pytest.fixture(autouse=True)
def medpriv_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated per-test MedPriv home (settings, data, logs, keys) and an empty site models folder."""
    home = tmp_path_factory.mktemp("medpriv_home")
    monkeypatch.setenv("MEDPRIV_HOME", str(home))
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(home / "site_models"))
    # No machine-wide site config (a developer's /etc/medpriv/site.json must not leak in); tests that need one
    # write it and point this constant (or MEDPRIV_SITE_CONFIG, for subprocesses) at it.
    from medpriv_desktop.core import paths

    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", home / "machine" / "site.json")
    monkeypatch.delenv("MEDPRIV_SITE_CONFIG", raising=False)
    monkeypatch.delenv("MEDPRIV_KEY_DIR", raising=False)
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    return home


@pytest.fixture
def shared_data() -> Path:
    """The public data folder; skips the test with a reason when it is absent."""
    p = shared_data_dir()
    if p is None:
        pytest.skip("../shared/data (or MEDPRIV_DATA) not present: public-data test skipped")
    return p
