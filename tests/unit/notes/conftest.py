"""Fixtures of the notes tests: keep torch importable for the other test areas of the same session."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _allow_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    # `medpriv deid` blocks torch imports in its own process; inside pytest other areas still need torch.
    monkeypatch.setenv("MEDPRIV_ALLOW_TORCH", "1")
