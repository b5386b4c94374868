"""Where the site models folder and the site allow-list are, and what the allow-list says. One place decides.

The rule (:func:`resolve_site_policy`):

1. If anything exists at the fixed machine-wide path :data:`~medpriv_desktop.core.paths.MACHINE_SITE_CONFIG`
   (``/etc/medpriv/site.json`` on Linux, ``%ProgramData%\\MedPriv\\site.json`` on Windows,
   ``/Library/Application Support/MedPriv/site.json`` on macOS), that file alone decides. The user's
   ``site_models_dir`` setting, ``MEDPRIV_SITE_MODELS`` and ``MEDPRIV_SITE_CONFIG`` are ignored (a warning is
   logged). A file there that is not a readable, valid config (a folder, a dangling link, a FIFO, bad JSON, the
   wrong shape) refuses every model.
2. Otherwise, ``MEDPRIV_SITE_CONFIG`` may name a config file that then acts exactly like the machine-wide one (it
   exists for machines without administrator rights and for subprocess tests). It is honoured ONLY while nothing
   exists at the fixed path, so it can never replace IT's file.
3. Otherwise (an unmanaged machine): the setting, else ``MEDPRIV_SITE_MODELS``, else the platform's site data
   folder, with an optional ``allowlist.json`` inside it.

A site config is ``{"version": 1, "site_models_dir": "/abs/folder", "allowlist": "/abs/allowlist.json"}``; both
paths are optional. When it names an allow-list, that file must exist: a missing one (an unreachable share)
refuses every model. Without a name, ``<site_models_dir>/allowlist.json`` is used when present.

The allow-list (:func:`load_allowlist`) is ``{"version": 2, "manifest_sha256": ["<64 hex>", ...]}``, optionally
with ``"comment"`` and ``"models"`` (manifest -> a note for people). The legacy form ``{"sha256": [...]}`` (hashes
of ``model.onnx`` only) is still read for one transition, with a warning; ``medpriv models allowlist migrate``
rewrites it. Anything at the allow-list path that is not a readable regular file with valid JSON of one of these
shapes refuses every model.

On a copy-anywhere install without administrator rights this enforces a policy, not security against the user:
the same OS user can edit their own files and the app.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.jsonfile import read_json_file

log = logging.getLogger(__name__)
ALLOWLIST_FILE = "allowlist.json"
ALLOWLIST_VERSION = 2
SITE_CONFIG_VERSION = 1
SITE_CONFIG_MAX_BYTES = 64 * 1024
ALLOWLIST_MAX_BYTES = 4 * 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_warned: set[str] = set()


def warn_once(message: str, *args: object) -> None:
    """Log a warning once per process (registries are built often; the log should not fill with repeats).

    Like every log line, ``message`` is short and paths go in as :func:`~medpriv_desktop.core.logging.path_ref`.
    """
    key = message % args if args else message
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


def _ref(path: Path | None) -> str:
    from medpriv_desktop.core.logging import path_ref

    return path_ref(path)


@dataclass(frozen=True)
class SitePolicy:
    """Where the site models are, which allow-list applies, and whether a site config made that decision."""

    site_dir: Path | None
    allowlist_path: Path | None
    allowlist_required: bool = False
    source: str = "explicit"
    config_path: Path | None = None
    error: ModelError | None = field(default=None, compare=False)
    ignored: tuple[str, ...] = ()

    @property
    def managed(self) -> bool:
        """True when a site config (machine-wide, or from MEDPRIV_SITE_CONFIG) decides; overrides are ignored."""
        return self.config_path is not None

    @classmethod
    def for_folder(cls, site_dir: Path | str | None, source: str = "explicit") -> SitePolicy:
        """An unmanaged policy: this folder (or none) with its optional ``allowlist.json``."""
        if site_dir is None:
            return cls(None, None, source=source)
        folder = Path(site_dir).expanduser()
        return cls(folder, folder / ALLOWLIST_FILE, source=source)

    def describe(self) -> str:
        """One line for people: where the site folder comes from."""
        where = str(self.site_dir) if self.site_dir is not None else "none"
        if self.managed:
            return f"site models: {where} (set by {self.config_path})"
        return f"site models: {where} ({self.source})"


def _refuse_all(config: Path, reason: str, ignored: tuple[str, ...]) -> SitePolicy:
    err = ModelError(f"site config {reason}; every model is refused", path=config,
                     hint="IT must repair or remove the site config")
    log.error("site config %s unusable: every model refused", _ref(config))
    return SitePolicy(None, None, True, "machine", config, err, ignored)


def _absolute(value: Any, key: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty path")
    p = Path(value).expanduser()
    if not p.is_absolute():
        raise ValueError(f"'{key}' must be an absolute path")
    return p


def read_site_config(config: Path, ignored: tuple[str, ...] = ()) -> SitePolicy:
    """The policy a site config file sets; any problem gives a policy that refuses every model."""
    try:
        data = read_json_file(config, what="site config", max_bytes=SITE_CONFIG_MAX_BYTES, max_depth=4,
                              follow_symlinks=True)
    except ModelError as exc:
        return _refuse_all(config, exc.reason, ignored)
    try:
        if not isinstance(data, dict):
            raise ValueError("is not a JSON object")
        unknown = set(data) - {"version", "site_models_dir", "allowlist", "comment"}
        if unknown:
            raise ValueError(f"has unknown keys {sorted(unknown)}")
        if data.get("version", SITE_CONFIG_VERSION) != SITE_CONFIG_VERSION:
            raise ValueError(f"has an unsupported version (this app reads version {SITE_CONFIG_VERSION})")
        site = (_absolute(data["site_models_dir"], "site_models_dir") if data.get("site_models_dir") is not None
                else paths.default_site_models_dir())
        named = data.get("allowlist")
        allow = _absolute(named, "allowlist") if named is not None else site / ALLOWLIST_FILE
    except ValueError as exc:
        return _refuse_all(config, f"is invalid: {exc}", ignored)
    return SitePolicy(site, allow, named is not None, "machine", config, None, ignored)


def resolve_site_policy(settings_site_dir: str | Path | None = None,
                        environ: Mapping[str, str] | None = None) -> SitePolicy:
    """Apply the rule in the module docstring. ``settings_site_dir`` is the user's ``site_models_dir`` setting."""
    env = os.environ if environ is None else environ
    fixed = Path(paths.MACHINE_SITE_CONFIG)
    env_config = env.get(paths.SITE_CONFIG_ENV) or None
    env_site = env.get(paths.SITE_MODELS_ENV) or None
    if os.path.lexists(fixed):
        config: Path | None = fixed
        overrides = {paths.SITE_CONFIG_ENV: env_config, paths.SITE_MODELS_ENV: env_site,
                     "the site_models_dir setting": settings_site_dir}
    elif env_config:
        config = Path(env_config).expanduser()
        overrides = {paths.SITE_MODELS_ENV: env_site, "the site_models_dir setting": settings_site_dir}
    else:
        config = None
        overrides = {}
    if config is not None:
        ignored = tuple(name for name, value in overrides.items() if value)
        if ignored:
            warn_once("site config %s in force; ignored: %s", _ref(config), ", ".join(ignored))
        policy = read_site_config(config, ignored)
        if config != fixed:
            policy = SitePolicy(policy.site_dir, policy.allowlist_path, policy.allowlist_required, "config-env",
                                config, policy.error, ignored)
        return policy
    if settings_site_dir:
        return SitePolicy.for_folder(settings_site_dir, "settings")
    if env_site:
        return SitePolicy.for_folder(env_site, "environment")
    return SitePolicy.for_folder(paths.default_site_models_dir(), "platform")


# -- the allow-list ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowlist:
    """What a site allow-list admits: bundle manifests (version 2), or legacy ``model.onnx`` hashes."""

    path: Path
    manifests: frozenset[str] = frozenset()
    legacy_model_sha256: frozenset[str] = frozenset()
    legacy: bool = False

    def admits(self, manifest: str, model_sha256: str) -> bool:
        """True when the bundle with this manifest (and model file hash, for a legacy list) may load."""
        if self.legacy:
            return model_sha256 in self.legacy_model_sha256
        return manifest in self.manifests


def _hashes(value: Any, key: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(h, str) and _HEX64.match(h) for h in value):
        raise ValueError(f"'{key}' must be a list of 64-digit hex sha256 values")
    return frozenset(h.lower() for h in value)


def parse_allowlist(data: Any, path: Path) -> Allowlist:
    """Check the shape of a parsed allow-list; raise ValueError saying what is wrong."""
    if isinstance(data, list):  # the oldest form: a bare list of model.onnx hashes
        return Allowlist(path, legacy_model_sha256=_hashes(data, "sha256"), legacy=True)
    if not isinstance(data, dict):
        raise ValueError("is not a JSON object")
    if "manifest_sha256" in data or data.get("version") == ALLOWLIST_VERSION:
        unknown = set(data) - {"version", "manifest_sha256", "comment", "models"}
        if unknown:
            raise ValueError(f"has unknown keys {sorted(unknown)}")
        if data.get("version") != ALLOWLIST_VERSION:
            raise ValueError(f"needs \"version\": {ALLOWLIST_VERSION} beside manifest_sha256")
        if "models" in data and not isinstance(data["models"], dict):
            raise ValueError("'models' must be an object of notes")
        return Allowlist(path, manifests=_hashes(data.get("manifest_sha256"), "manifest_sha256"))
    if "sha256" in data:
        return Allowlist(path, legacy_model_sha256=_hashes(data["sha256"], "sha256"), legacy=True)
    raise ValueError("has neither manifest_sha256 (version 2) nor sha256 (legacy)")


def load_allowlist(policy: SitePolicy) -> Allowlist | None:
    """The allow-list in force, or None when there is none; raises one :class:`ModelError` that refuses everything.

    Never blocks: the file type is checked before it is opened and it is opened non-blocking.
    """
    if policy.error is not None:
        raise policy.error
    path = policy.allowlist_path
    if path is None:
        return None
    if not os.path.lexists(path):
        if policy.allowlist_required:
            raise ModelError("site allow-list named by the site config is missing (unreachable share?); every model "
                             "is refused", path=path, hint=f"named in {policy.config_path}")
        return None
    try:
        data = read_json_file(path, what="site allow-list", max_bytes=ALLOWLIST_MAX_BYTES, max_depth=4,
                              follow_symlinks=True)
        allow = parse_allowlist(data, path)
    except ModelError as exc:
        raise ModelError(f"{exc.reason}; every model is refused", path=path,
                         hint="IT must repair or remove the allow-list") from None
    except ValueError as exc:
        raise ModelError(f"site allow-list {exc}; every model is refused", path=path,
                         hint="IT must repair or remove the allow-list") from None
    if allow.legacy:
        warn_once("site allow-list %s: legacy format, must be migrated (medpriv models allowlist migrate)",
                  _ref(path))
    return allow


def allowlist_v2(manifests: Mapping[str, str], comment: str) -> dict[str, Any]:
    """A version 2 allow-list document: manifest -> note for people (e.g. 'id version')."""
    ordered = sorted(manifests)
    return {"version": ALLOWLIST_VERSION, "comment": comment, "manifest_sha256": ordered,
            "models": {m: manifests[m] for m in ordered}}
