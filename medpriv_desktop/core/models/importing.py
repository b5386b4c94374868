"""Importing a bundle into the user's models folder: validate, copy file by file, re-check, record the manifest.

The copy never follows a symbolic link (a bundle holding one is refused before anything is copied), the copied
folder's manifest must equal the source's, and the manifest is written to the import records
(:mod:`~medpriv_desktop.core.models.user_index`) so later damage or edits are caught on load. A bundle whose id is
already provided by the bundled or site models is refused unless ``allow_shadow`` is given (the command line's
``--allow-shadow``; the caller writes the audit entry saying so).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.card import ModelCard
from medpriv_desktop.core.models.manifest import Manifest, bundle_manifest, open_bundle_file
from medpriv_desktop.core.models.user_index import read_index, record_import

if TYPE_CHECKING:
    from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry


def validate_bundle(registry: ModelRegistry, bundle: Path) -> tuple[ModelCard, Manifest]:
    """Check a folder the user wants to import: plain files only, a valid card, hashes, the allow-list."""
    from medpriv_desktop.core.models.registry import ModelEntry, read_card

    if not bundle.is_dir():
        raise ModelError("not a folder", path=bundle, hint="select the bundle folder holding model_card.json")
    bundle = bundle.resolve()  # the folder the user picked may be reached through a link; its files may not be
    card = read_card(bundle)
    entry = ModelEntry(card, bundle, "user")
    manifest = registry.check_bundle(entry)
    registry.check_allowed(manifest.sha256, card.sha256, bundle)
    return card, manifest


def _copy_file(src: Path, dest: Path) -> None:
    fd = open_bundle_file(src)
    try:
        with open(dest, "xb") as out:
            while block := os.read(fd, 1 << 20):
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    finally:
        os.close(fd)


def _providers(registry: ModelRegistry, model_id: str) -> list[str]:
    """Roots other than the user's that provide ``model_id``."""
    return sorted({e.root for e in registry.all_entries() if e.root != "user" and e.card.id == model_id})


def import_bundle(registry: ModelRegistry, bundle: Path, overwrite: bool = False,
                  allow_shadow: bool = False) -> ModelEntry:
    """Validate ``bundle`` and copy it into the user models folder (stage, verify, rename, record)."""
    from medpriv_desktop.core.models.registry import ModelEntry

    card, manifest = validate_bundle(registry, bundle)
    registry.refresh()
    providers = _providers(registry, card.id)
    if providers and not allow_shadow:
        raise ModelError(f"model id '{card.id}' is already provided by the {' and '.join(providers)} models; an "
                         "imported bundle may not replace it", path=bundle,
                         hint="to replace it on purpose, import with `medpriv models import --allow-shadow` "
                              "(recorded in the audit log)")
    user_dir = Path(registry.user_dir)
    dest = user_dir / f"{card.id}-{card.version}"
    if os.path.lexists(dest) and not overwrite:
        raise ModelError(f"model {card.id} {card.version} is already imported", path=dest,
                         hint="use overwrite to replace it")
    user_dir.mkdir(parents=True, exist_ok=True)
    read_index(user_dir)  # damaged records stop the import before anything is copied
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=user_dir))
    old = None
    try:
        staged = tmp / "bundle"
        staged.mkdir()
        for name in manifest.files:
            _copy_file(bundle.resolve() / name, staged / name)
        if bundle_manifest(staged).sha256 != manifest.sha256:
            raise ModelError("the copy differs from the bundle (changed during import or damaged)", path=bundle)
        if os.path.lexists(dest):
            old = tmp / "old"
            os.replace(dest, old)
        os.replace(staged, dest)
        try:
            record_import(user_dir, dest.name, card.id, card.version, manifest.sha256, allow_shadow)
        except Exception:
            shutil.rmtree(dest, ignore_errors=True)
            if old is not None:
                os.replace(old, dest)
                old = None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    registry.refresh()
    return ModelEntry(card, dest, "user", manifest=manifest.sha256)
