"""Fixtures of the scale-out tests: small synthetic notes tables, made in each test (no real data)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.scaleout.tables import note_rows, write_table


@pytest.fixture
def notes_table(tmp_path: Path) -> Callable[..., Path]:
    """Make a notes table: ``notes_table(n, suffix=".parquet", rows_per_group=10, rows=None)``."""
    def make(n: int = 40, suffix: str = ".parquet", rows_per_group: int = 10,
             rows: list[dict[str, object]] | None = None) -> Path:
        return write_table(rows if rows is not None else note_rows(n), tmp_path / f"notes{suffix}", rows_per_group)

    return make


@pytest.fixture(autouse=True)
def _allow_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    # `medpriv deid` blocks torch imports in its process; other test areas of this session still need torch.
    monkeypatch.setenv("MEDPRIV_ALLOW_TORCH", "1")
