"""Import records: the manifest of every bundle imported into the user's models folder, kept beside (not inside) it.

``<user models>/.medpriv-imports.json`` maps each imported bundle folder to its id, version, manifest hash and
whether it was imported with ``--allow-shadow``. The registry checks a user bundle's manifest against its record
before it loads, so a bundle damaged or edited after import is refused.

This protects against accidents (a half-copied folder, a stray edit, a sync tool rewriting files), not against the
same OS user, who can rewrite the records as easily as the bundle.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.jsonfile import read_json_file

INDEX_FILE = ".medpriv-imports.json"
INDEX_VERSION = 1
INDEX_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ImportRecord:
    """What was imported into one folder of the user's models folder."""

    folder: str
    id: str
    version: str
    manifest_sha256: str
    allow_shadow: bool = False
    imported: str = ""


def index_path(user_dir: Path) -> Path:
    """The records file of a user models folder."""
    return Path(user_dir) / INDEX_FILE


def read_index(user_dir: Path) -> dict[str, ImportRecord]:
    """Folder name -> record; empty when nothing was imported. A damaged file raises :class:`ModelError`."""
    path = index_path(user_dir)
    if not os.path.lexists(path):
        return {}
    data = read_json_file(path, what="model import records", max_bytes=INDEX_MAX_BYTES, max_depth=4,
                          follow_symlinks=False)
    try:
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            raise ValueError
        out: dict[str, ImportRecord] = {}
        for folder, rec in data["bundles"].items():
            out[folder] = ImportRecord(folder=folder, id=str(rec["id"]), version=str(rec["version"]),
                                       manifest_sha256=str(rec["manifest_sha256"]),
                                       allow_shadow=bool(rec.get("allow_shadow", False)),
                                       imported=str(rec.get("imported", "")))
        return out
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ModelError("model import records are damaged", path=path,
                         hint="re-import the bundles in this folder, or remove the file to start over") from None


def _write(user_dir: Path, records: dict[str, ImportRecord]) -> None:
    from medpriv_desktop.core.fileio import atomic_write_text

    body = {"version": INDEX_VERSION,
            "bundles": {k: {f: v for f, v in asdict(r).items() if f != "folder"} for k, r in sorted(records.items())}}
    atomic_write_text(index_path(user_dir), json.dumps(body, indent=2, sort_keys=True) + "\n")


def record_import(user_dir: Path, folder: str, model_id: str, version: str, manifest: str,
                  allow_shadow: bool) -> ImportRecord:
    """Add or replace the record of ``folder`` (atomic rewrite of the records file)."""
    records = read_index(user_dir)
    rec = ImportRecord(folder, model_id, version, manifest, allow_shadow,
                       datetime.now(timezone.utc).isoformat(timespec="seconds"))
    records[folder] = rec
    _write(user_dir, records)
    return rec


def forget_import(user_dir: Path, folder: str) -> None:
    """Remove the record of ``folder`` if there is one."""
    records = read_index(user_dir)
    if records.pop(folder, None) is not None:
        _write(user_dir, records)
