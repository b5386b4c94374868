"""The model registry: bundles from three roots, discovered by reading only their JSON cards.

Roots, in order of precedence when two bundles share an id and version:
1. ``site``: a read-only folder hospital IT fills (``MEDPRIV_SITE_MODELS``, the setting, or the platform site dir);
   it may hold ``allowlist.json`` (``{"sha256": ["<hex>", ...]}``) to limit which model files may load at all;
2. ``user``: bundles the user imported (platformdirs user data dir / models);
3. ``bundled``: ``resources/models`` shipped with the app.
Among bundles with the same id the highest version wins.

A bundle's ``model.onnx`` is hashed and compared with its card's ``sha256`` right before a session is created
(:meth:`ModelRegistry.verified_model_path`); a mismatch or an allow-list miss refuses to load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ModelError, did_you_mean
from medpriv_desktop.core.models.card import CARD_FILE, ModelCard, Task

log = logging.getLogger(__name__)
RootKind = Literal["site", "user", "bundled"]
_ROOT_ORDER: dict[str, int] = {"site": 0, "user": 1, "bundled": 2}
ALLOWLIST_FILE = "allowlist.json"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _version_key(v: str) -> tuple:
    parts = []
    for piece in v.replace("-", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)


def read_card(bundle: Path) -> ModelCard:
    """Parse and validate ``bundle/model_card.json``; raise :class:`ModelError` naming the problem."""
    card_path = bundle / CARD_FILE
    if not card_path.is_file():
        raise ModelError(f"not a model bundle: no {CARD_FILE}", path=bundle)
    try:
        raw = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model card is not valid JSON ({type(exc).__name__})", path=card_path) from None
    try:
        return ModelCard.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "card"
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ModelError(f"invalid model card: {where}: {first.get('msg')}{more}", path=card_path) from None


@dataclass
class ModelEntry:
    """One discovered bundle."""

    card: ModelCard
    path: Path
    root: RootKind

    @property
    def model_path(self) -> Path:
        """The ONNX file of the bundle."""
        return self.path / self.card.model_file

    def file(self, name: str) -> Path:
        """Another file of the bundle, e.g. ``tokenizer.json``."""
        return self.path / name


@dataclass
class ModelRegistry:
    """Lists model bundles from the site, user and bundled roots and checks them before they load."""

    bundled_dir: Path = field(default_factory=paths.bundled_models_dir)
    user_dir: Path = field(default_factory=paths.user_models_dir)
    site_dir: Path | None = field(default_factory=paths.default_site_models_dir)
    problems: list[ModelError] = field(default_factory=list, init=False)
    _entries: list[ModelEntry] | None = field(default=None, init=False, repr=False)
    _verified: set[tuple[Path, float]] = field(default_factory=set, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings=None) -> ModelRegistry:
        """A registry over the default roots, the site root taken from settings when set there."""
        site = paths.default_site_models_dir()
        if settings is not None and getattr(settings, "site_models_dir", None):
            site = Path(settings.site_models_dir)
        return cls(site_dir=site)

    def roots(self) -> list[tuple[RootKind, Path]]:
        """The roots that exist, in precedence order."""
        out: list[tuple[RootKind, Path]] = []
        if self.site_dir is not None:
            out.append(("site", self.site_dir))
        out += [("user", self.user_dir), ("bundled", self.bundled_dir)]
        return [(k, p) for k, p in out if p.is_dir()]

    def refresh(self) -> None:
        """Re-read every card (JSON only; no model is loaded)."""
        entries: list[ModelEntry] = []
        self.problems = []
        for kind, root in self.roots():
            for bundle in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
                try:
                    entries.append(ModelEntry(read_card(bundle), bundle, kind))
                except ModelError as exc:
                    self.problems.append(exc)
                    log.warning("skipping model bundle: %s", exc.message)
        entries.sort(key=lambda e: (e.card.id, _ROOT_ORDER[e.root]))
        self._entries = entries

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

    def allowlist(self) -> set[str] | None:
        """The site's allowed model hashes, or None when the site sets no allow-list."""
        if self.site_dir is None:
            return None
        f = self.site_dir / ALLOWLIST_FILE
        if not f.is_file():
            return None
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            hashes = data["sha256"] if isinstance(data, dict) else data
            return {str(h).lower() for h in hashes}
        except (OSError, ValueError, KeyError, TypeError):
            # A broken allow-list must not open the gate: allow nothing.
            log.error("site allow-list %s is unreadable; refusing all models", f)
            return set()

    def check_allowed(self, sha: str, where: Path) -> None:
        """Raise when a site allow-list exists and does not list ``sha``."""
        allowed = self.allowlist()
        if allowed is not None and sha not in allowed:
            raise ModelError(
                "model is not on this site's allow-list", path=where, hint="ask IT to add its sha256 to allowlist.json"
            )

    def verified_model_path(self, entry: ModelEntry) -> Path:
        """Check the ONNX file against the card's sha256 and the site allow-list; return its path."""
        mp = entry.model_path
        if not mp.is_file():
            raise ModelError("model file missing from bundle", path=mp)
        stamp = (mp, mp.stat().st_mtime)
        if stamp not in self._verified:
            actual = sha256_file(mp)
            if actual != entry.card.sha256:
                raise ModelError(
                    "model file does not match the sha256 in its card; refusing to load",
                    path=mp,
                    hint="the file was changed or damaged; re-import the bundle",
                )
            self._verified.add(stamp)
        self.check_allowed(entry.card.sha256, mp)
        return mp

    # -- import ---------------------------------------------------------------------------------------------------

    def validate_bundle(self, bundle: Path) -> ModelCard:
        """Full validation of a bundle folder before import: card, files present, sha256, allow-list."""
        bundle = Path(bundle)
        if not bundle.is_dir():
            raise ModelError("not a folder", path=bundle, hint="select the bundle folder holding model_card.json")
        card = read_card(bundle)
        entry = ModelEntry(card, bundle, "user")
        self.verified_model_path(entry)
        if card.text_input is not None:
            if not (bundle / card.text_input.tokenizer_file).is_file():
                raise ModelError(f"bundle lacks its tokenizer file {card.text_input.tokenizer_file}", path=bundle)
        return card

    def import_bundle(self, bundle: Path, overwrite: bool = False) -> ModelEntry:
        """Validate ``bundle`` and copy it into the user models folder (atomically: copy, then rename)."""
        card = self.validate_bundle(bundle)
        dest = self.user_dir / f"{card.id}-{card.version}"
        if dest.exists() and not overwrite:
            raise ModelError(
                f"model {card.id} {card.version} is already imported", path=dest, hint="use overwrite to replace it"
            )
        self.user_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=self.user_dir))
        try:
            staged = tmp / "bundle"
            shutil.copytree(bundle, staged)
            if sha256_file(staged / card.model_file) != card.sha256:
                raise ModelError("copy of the model file is damaged", path=dest)
            if dest.exists():
                shutil.rmtree(dest)
            staged.rename(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._entries = None
        return ModelEntry(card, dest, "user")
