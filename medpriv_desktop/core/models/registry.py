"""The model registry: bundles from three roots, discovered by reading only their JSON cards.

Roots:
1. ``site``: a read-only folder hospital IT fills. Where it is, and which allow-list applies, is decided only by
   :func:`medpriv_desktop.core.models.site.resolve_site_policy` (a machine-wide site config beats everything);
2. ``user``: bundles the user imported (platformdirs user data dir / models);
3. ``bundled``: ``resources/models`` shipped with the app.

Precedence. Among the bundles of one id the highest version wins; at equal versions site beats user beats bundled.
A site bundle may replace a bundled model (IT's decision). A user bundle NEVER replaces a bundled or site model of
the same id, whatever its version, unless it was imported with ``medpriv models import --allow-shadow`` (recorded
in the import records and the audit log); otherwise it is skipped and listed in :attr:`ModelRegistry.shadowed`.

Integrity (checked by :meth:`ModelRegistry.verified_model_path` before any model loads). The bundle's manifest
(:mod:`~medpriv_desktop.core.models.manifest`: one sha256 over every file) is computed, the model file's hash is
compared with the card's ``sha256``, and the manifest is checked against an anchor outside the bundle:
- bundled: the table compiled into the app (``bundled_manifests.py``), when the bundled folder is the app's own;
- user: the import record written when the bundle was imported (a bundle placed there by hand has none: it loads
  with a warning, and never shadows);
- all roots: the site allow-list, when one is in force; a broken allow-list or site config refuses every model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ModelError, did_you_mean
from medpriv_desktop.core.logging import path_ref
from medpriv_desktop.core.models.card import CARD_FILE, ModelCard, Task
from medpriv_desktop.core.models.jsonfile import read_json_file
from medpriv_desktop.core.models.manifest import (Manifest, bundle_files, bundle_manifest, check_plain_name,
                                                  sha256_bundle_file, stat_signature)
from medpriv_desktop.core.models.site import ALLOWLIST_FILE, Allowlist, SitePolicy, load_allowlist, \
    resolve_site_policy, warn_once
from medpriv_desktop.core.models.user_index import read_index

log = logging.getLogger(__name__)
RootKind = Literal["site", "user", "bundled"]
_ROOT_ORDER: dict[str, int] = {"site": 0, "user": 1, "bundled": 2}
CARD_MAX_BYTES = 1024 * 1024
CARD_MAX_DEPTH = 32
_FROM_POLICY: Any = object()
_AUTO: Any = object()
__all__ = ["ALLOWLIST_FILE", "ModelEntry", "ModelRegistry", "read_card", "sha256_file"]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file (symlinks, FIFOs and devices refused, never blocking)."""
    return sha256_bundle_file(Path(path), chunk)


def _version_key(v: str) -> tuple:
    parts = []
    for piece in v.replace("-", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)


def read_card(bundle: Path) -> ModelCard:
    """Parse and validate ``bundle/model_card.json``; raise :class:`ModelError` naming the problem.

    The card must be a regular file (not a link, FIFO or device) of at most 1 MiB nested at most 32 levels deep.
    """
    card_path = bundle / CARD_FILE
    if not os.path.lexists(card_path):
        raise ModelError(f"not a model bundle: no {CARD_FILE}", path=bundle)
    raw = read_json_file(card_path, what="model card", max_bytes=CARD_MAX_BYTES, max_depth=CARD_MAX_DEPTH,
                         follow_symlinks=False)
    try:
        return ModelCard.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "card"
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ModelError(f"invalid model card: {where}: {first.get('msg')}{more}", path=card_path) from None


@dataclass
class ModelEntry:
    """One discovered bundle; ``manifest`` is filled in once the bundle was verified (or asked for)."""

    card: ModelCard
    path: Path
    root: RootKind
    manifest: str | None = field(default=None, compare=False)

    @property
    def model_path(self) -> Path:
        """The ONNX file of the bundle."""
        return self.path / self.card.model_file

    def file(self, name: str) -> Path:
        """Another file of the bundle, e.g. ``tokenizer.json``; ``name`` must be a plain name inside it."""
        return self.path / check_plain_name(name, self.path)

    def audit_fields(self) -> dict[str, str]:
        """The model fields of an audit entry: id, version, manifest hash (64 hex) and the root it came from."""
        if self.manifest is None:
            self.manifest = bundle_manifest(self.path).sha256
        return {"model_id": self.card.id, "model_version": self.card.version, "model_manifest": self.manifest,
                "model_root": self.root}


def _default_pins(bundled_dir: Path) -> Mapping[tuple[str, str], str] | None:
    """The compiled table when ``bundled_dir`` is the app's own models folder; None for any other folder.

    Another folder (``MEDPRIV_RESOURCES``, tests, benchmarks) is unpinned: its bundles load only under the same
    rules as site bundles (allow-list when there is one).
    """
    own = paths.shipped_resources_dir() / "models"
    try:
        same = os.path.samefile(bundled_dir, own)
    except OSError:
        same = Path(bundled_dir).resolve() == own.resolve()
    if same:
        from medpriv_desktop.core.models.bundled_manifests import BUNDLED_MANIFESTS

        return BUNDLED_MANIFESTS
    log.info("bundled models folder %s is not the app's own: no pinned table", path_ref(bundled_dir))
    return None


@dataclass
class ModelRegistry:
    """Lists model bundles from the site, user and bundled roots and checks them before they load.

    ``ModelRegistry()`` uses the app's folders and the site policy; pass ``site_dir`` (or ``None``) to use one
    folder with its optional ``allowlist.json`` instead, or ``policy`` for a resolved :class:`SitePolicy`.
    """

    bundled_dir: Path | None = None
    user_dir: Path = field(default_factory=paths.user_models_dir)
    site_dir: Any = _FROM_POLICY
    policy: SitePolicy | None = None
    bundled_pins: Any = _AUTO
    problems: list[ModelError] = field(default_factory=list, init=False)
    shadowed: list[ModelError] = field(default_factory=list, init=False)
    _entries: list[ModelEntry] | None = field(default=None, init=False, repr=False)
    _all: list[ModelEntry] = field(default_factory=list, init=False, repr=False)
    _manifests: dict[Path, tuple[tuple, Manifest]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.bundled_dir is None:
            self.bundled_dir = paths.bundled_models_dir()
        if self.bundled_pins is _AUTO:
            self.bundled_pins = _default_pins(self.bundled_dir)
        if self.policy is None:
            self.policy = (resolve_site_policy() if self.site_dir is _FROM_POLICY
                           else SitePolicy.for_folder(self.site_dir))
        object.__setattr__(self, "site_dir", self.policy.site_dir)

    def __setattr__(self, name: str, value: Any) -> None:
        # Assigning site_dir (the GUI does after Preferences) goes through the site policy, so a machine-wide
        # config cannot be replaced this way either.
        if name == "site_dir" and getattr(self, "policy", None) is not None:
            self._set_site_dir(value)
            return
        super().__setattr__(name, value)

    def _set_site_dir(self, value: Path | str | None) -> None:
        assert self.policy is not None
        if self.policy.managed:
            if value is not None and Path(value) != self.policy.site_dir:
                warn_once("site config %s in force; site folder set in the app ignored",
                          path_ref(self.policy.config_path))
            return
        self.policy = SitePolicy.for_folder(value, "settings")
        object.__setattr__(self, "site_dir", self.policy.site_dir)
        self._entries = None

    @classmethod
    def from_settings(cls, settings: Any = None) -> ModelRegistry:
        """A registry over the default roots; the user's ``site_models_dir`` counts only without a site config."""
        return cls(policy=resolve_site_policy(getattr(settings, "site_models_dir", None)))

    def apply_settings(self, settings: Any) -> None:
        """Re-resolve the site folder after the settings changed (a machine-wide config still wins)."""
        self.policy = resolve_site_policy(getattr(settings, "site_models_dir", None))
        object.__setattr__(self, "site_dir", self.policy.site_dir)
        self._entries = None

    def roots(self) -> list[tuple[RootKind, Path]]:
        """The roots that exist, in precedence order."""
        out: list[tuple[RootKind, Path]] = []
        if self.site_dir is not None:
            out.append(("site", Path(self.site_dir)))
        out += [("user", Path(self.user_dir)), ("bundled", Path(self.bundled_dir))]
        return [(k, p) for k, p in out if p.is_dir()]

    # -- discovery --------------------------------------------------------------------------------------------

    def _discover(self, kind: RootKind, root: Path) -> list[ModelEntry]:
        found: list[ModelEntry] = []
        try:
            children = sorted(os.scandir(root), key=lambda d: d.name)
        except OSError as exc:
            self.problems.append(ModelError(f"model folder cannot be listed ({type(exc).__name__})", path=root))
            return found
        for child in children:
            path = Path(child.path)
            if child.name.startswith(".") or not path.is_dir():
                continue  # files beside the bundles (allowlist.json), hidden staging folders
            try:
                bundle_files(path)  # no links, subfolders, FIFOs or odd names: reads no file
                found.append(ModelEntry(read_card(path), path, kind))
            except ModelError as exc:
                self.problems.append(exc)
                log.warning("skipping model bundle %s: %s", path_ref(exc.path), exc.reason)
        return found

    def refresh(self) -> None:
        """Re-read every card (JSON only; no model is loaded) and apply the no-shadowing rule."""
        self.problems, self.shadowed = [], []
        found: list[ModelEntry] = []
        for kind, root in self.roots():
            found += self._discover(kind, root)
        self._all = list(found)
        protected: dict[str, str] = {}
        for e in found:
            if e.root != "user":
                protected.setdefault(e.card.id, e.root)
        records: dict = {}
        if any(e.root == "user" and e.card.id in protected for e in found):
            try:
                records = read_index(Path(self.user_dir))
            except ModelError as exc:
                self.problems.append(exc)
        entries = []
        for e in found:
            rec = records.get(e.path.name) if e.root == "user" else None
            if e.root == "user" and e.card.id in protected and not (rec and rec.allow_shadow and rec.id == e.card.id):
                self.shadowed.append(ModelError(
                    f"skipped: model id '{e.card.id}' is provided by the {protected[e.card.id]} models and an "
                    "imported bundle may not replace it", path=e.path,
                    hint="import it with `medpriv models import --allow-shadow` to replace it on purpose"))
                continue
            entries.append(e)
        entries.sort(key=lambda e: (e.card.id, _ROOT_ORDER[e.root]))
        self._entries = entries

    def all_entries(self) -> list[ModelEntry]:
        """Every valid bundle found in every root (older versions and shadowed ones included)."""
        if self._entries is None:
            self.refresh()
        return list(self._all)

    def entries(self, task: Task | str | None = None) -> list[ModelEntry]:
        """The winning bundle of every id (highest version; site before user before bundled), optionally by task."""
        if self._entries is None:
            self.refresh()
        best: dict[str, ModelEntry] = {}
        for e in self._entries or []:
            cur = best.get(e.card.id)
            if cur is None:
                best[e.card.id] = e
                continue
            newer = _version_key(e.card.version) > _version_key(cur.card.version)
            same = _version_key(e.card.version) == _version_key(cur.card.version)
            if newer or (same and _ROOT_ORDER[e.root] < _ROOT_ORDER[cur.root]):
                best[e.card.id] = e
        out = sorted(best.values(), key=lambda e: e.card.id)
        if task is not None:
            t = Task(task)
            out = [e for e in out if e.card.task is t]
        return out

    def get(self, model_id: str) -> ModelEntry:
        """The bundle with this id; a clear error (with a did-you-mean) when there is none."""
        ids = [e.card.id for e in self.entries()]
        for e in self.entries():
            if e.card.id == model_id:
                return e
        hint = did_you_mean(model_id, ids) or (f"installed: {', '.join(ids)}" if ids else "no models installed")
        raise ModelError(f"no model with id '{model_id}'", hint=hint)

    def default_for(self, task: Task | str, prefer_role: str | None = None) -> ModelEntry | None:
        """A sensible default of a task: ``prefer_role`` (e.g. 'student') first, then any.

        A student whose card shows it lost more than 10% of its teacher's Dice is passed over for the teacher
        (see :attr:`ModelCard.preferred_student`).
        """
        entries = self.entries(task)
        if prefer_role == "student":
            entries = sorted(entries, key=lambda e: e.card.default_rank)  # stable: root precedence kept
        elif prefer_role:
            entries = sorted(entries, key=lambda e: e.card.role != prefer_role)
        return entries[0] if entries else None

    # -- loading checks -------------------------------------------------------------------------------------------

    def allowlist(self) -> Allowlist | None:
        """The allow-list in force, or None; raises the one :class:`ModelError` that refuses every model."""
        assert self.policy is not None
        return load_allowlist(self.policy)

    def check_allowed(self, manifest: str, model_sha256: str, where: Path) -> None:
        """Raise when an allow-list is in force and does not admit this bundle (or is broken)."""
        allowed = self.allowlist()
        if allowed is not None and not allowed.admits(manifest, model_sha256):
            hint = ("ask IT to add its manifest hash (medpriv models verify prints it) to the allow-list"
                    if not allowed.legacy else "ask IT to add it and migrate the allow-list")
            raise ModelError("model is not on this site's allow-list", path=where, hint=hint)

    def manifest_of(self, path: Path) -> Manifest:
        """The bundle's manifest, recomputed whenever a file's size, time or inode changed."""
        sig = stat_signature(path)
        cached = self._manifests.get(path)
        if cached is not None and cached[0] == sig:
            return cached[1]
        man = bundle_manifest(path)
        self._manifests[path] = (sig, man)
        return man

    def check_bundle(self, entry: ModelEntry) -> Manifest:
        """Every check but the anchor: policy, structure, manifest, model and tokenizer files against the card."""
        assert self.policy is not None
        if self.policy.error is not None:
            raise self.policy.error
        card = entry.card
        man = self.manifest_of(entry.path)
        got = man.files.get(card.model_file)
        if got is None:
            raise ModelError("model file missing from bundle", path=entry.model_path)
        if got != card.sha256:
            raise ModelError("model file does not match the sha256 in its card; refusing to load",
                             path=entry.model_path, hint="the file was changed or damaged; re-import the bundle")
        if card.text_input is not None and card.text_input.tokenizer_file not in man.files:
            raise ModelError(f"bundle lacks its tokenizer file {card.text_input.tokenizer_file}", path=entry.path)
        return man

    def check_anchor(self, entry: ModelEntry, manifest: str) -> None:
        """Compare the manifest with the record kept outside the bundle for its root (see the module docstring)."""
        if entry.root == "bundled" and self.bundled_pins is not None:
            pinned = self.bundled_pins.get((entry.card.id, entry.card.version))
            if pinned is None:
                raise ModelError(f"bundled model {entry.card.id} {entry.card.version} is not pinned in this app; "
                                 "refusing to load", path=entry.path, hint="reinstall the app")
            if pinned != manifest:
                raise ModelError("bundled model does not match the manifest pinned in this app; refusing to load",
                                 path=entry.path, hint="its files were changed or damaged; reinstall the app")
        elif entry.root == "user":
            rec = read_index(Path(self.user_dir)).get(entry.path.name)
            if rec is None:
                warn_once("user model bundle %s has no import record to check", path_ref(entry.path))
            elif (rec.id, rec.version, rec.manifest_sha256) != (entry.card.id, entry.card.version, manifest):
                raise ModelError("bundle changed since it was imported (its manifest no longer matches the import "
                                 "record); refusing to load", path=entry.path, hint="re-import the bundle")

    def verified_model_path(self, entry: ModelEntry) -> Path:
        """Check the whole bundle (manifest, card hash, anchor, allow-list); return the model file's path."""
        man = self.check_bundle(entry)
        self.check_anchor(entry, man.sha256)
        self.check_allowed(man.sha256, entry.card.sha256, entry.path)
        entry.manifest = man.sha256
        return entry.model_path

    # -- import ---------------------------------------------------------------------------------------------------

    def validate_bundle(self, bundle: Path) -> ModelCard:
        """Full validation of a bundle folder before import: files, card, hashes, allow-list."""
        from medpriv_desktop.core.models.importing import validate_bundle

        return validate_bundle(self, Path(bundle))[0]

    def import_bundle(self, bundle: Path, overwrite: bool = False, allow_shadow: bool = False) -> ModelEntry:
        """Validate ``bundle``, copy it into the user models folder and record its manifest (see ``importing``)."""
        from medpriv_desktop.core.models.importing import import_bundle

        return import_bundle(self, Path(bundle), overwrite=overwrite, allow_shadow=allow_shadow)
