"""Fixtures of the synthesis tests: keep torch importable for other test areas of the same session."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _allow_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    # The synth commands block torch imports in their own process; inside pytest other areas still need torch.
    monkeypatch.setenv("MEDPRIV_ALLOW_TORCH", "1")
