"""Typed, versioned settings stored as JSON in the user config folder.

Unknown keys in a settings file are dropped with a warning rather than refused, so an older app can read a newer
file; a value of the wrong type falls back to the default and the problem is logged (never a crash at start-up).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medpriv_desktop.core import paths
from medpriv_desktop.core.logging import path_ref  # file names and paths are PHI: the log holds keyed references

#: 3: ``inference_threads`` may be None, "automatic" (:func:`resolve_threads`); version 2 files hold the old default
#: (cores minus one, written by every Preferences save), which :func:`load_settings` turns back into automatic.
#: 2: ``deid_threshold`` is read (issue 20) and defaults to 0, the threshold both front ends always used; version 1
#: files hold the old unused default 0.5, written by every Preferences save, so :func:`load_settings` drops it.
SETTINGS_VERSION = 3
log = logging.getLogger(__name__)


def default_threads() -> int:
    """Inference threads in the window: cores minus one (at least one), so the GUI thread keeps a core."""
    return max(1, (os.cpu_count() or 2) - 1)


def resolve_threads(settings: Settings, interactive: bool) -> int:
    """The thread count a session gets: the Preferences value when one is set, else automatic: cores minus one in
    the window (the GUI thread keeps a core) and every core for a command, which has no GUI to keep responsive (on a
    2-core machine that is twice the speed of ``medpriv deid``). Dask workers take one each (``scaleout/cluster.py``
    sets ``MEDPRIV_ORT_THREADS``)."""
    if settings.inference_threads:
        return settings.inference_threads
    return default_threads() if interactive else max(1, os.cpu_count() or 2)


class Settings(BaseModel):
    """Everything a user or IT can set. Saved by :func:`save_settings`, read by :func:`load_settings`."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    version: int = SETTINGS_VERSION
    inference_threads: int | None = Field(default=None, ge=1, le=256,
                                         description="None: automatic (resolve_threads)")
    site_models_dir: str | None = Field(
        default=None, description="overrides the platform's site folder; ignored when a machine-wide site config "
        "exists (core/models/site.py)")
    default_segmentation_model: str | None = None
    default_report_model: str | None = None
    deid_operator: Literal["tag", "mask", "surrogate", "date-shift"] = "tag"
    deid_threshold: float = Field(default=0.0, ge=0, le=1)
    test_time_flips: bool = False
    show_patient_identity: bool = False
    recent_files: list[str] = Field(default_factory=list)
    max_recent_files: int = Field(default=10, ge=1, le=50)
    render_max_voxels: int = Field(default=256**3, ge=32**3)
    #: Where the window proposes outputs (None: Documents/MedPriv); never the input's own folder.
    output_dir: str | None = None
    #: Label colours: the model card's, or a colour-blind-safe palette (Okabe-Ito / Tol) for every structure.
    label_palette: Literal["card", "colour-blind"] = "card"
    #: Report CSVs for spreadsheets set up for a decimal comma: ";" between cells and "0,75" for numbers.
    csv_decimal_comma: bool = False

    def add_recent(self, path: str | Path) -> None:
        """Put ``path`` first in the recent-files list."""
        p = str(Path(path).resolve())
        items = [p] + [r for r in self.recent_files if r != p]
        self.recent_files = items[: self.max_recent_files]


def settings_path() -> Path:
    """The settings file."""
    return paths.config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing or damaged file gives defaults (the damage is logged, not raised)."""
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path_ref(path), type(exc).__name__)
        return Settings()
    if not isinstance(raw.get("version"), int) or raw["version"] < 2:
        # version 1 never read deid_threshold (always 0 in use) but saved 0.5: honouring it now would hide findings
        raw.pop("deid_threshold", None)
        raw["version"] = 2
    if raw["version"] < 3:
        # version 2 saved the default thread count with every Preferences save: that value means "automatic"
        if raw.get("inference_threads") == default_threads():
            raw.pop("inference_threads")
        raw["version"] = SETTINGS_VERSION
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        log.warning("settings file %s: invalid values for %s; using defaults for them", path_ref(path), sorted(bad))
        return Settings.model_validate({k: v for k, v in raw.items() if k not in bad})


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically."""
    from medpriv_desktop.core.fileio import atomic_write_text

    atomic_write_text(path or settings_path(), settings.model_dump_json(indent=2))
