"""Where MedPriv keeps things: platformdirs locations, with ``MEDPRIV_HOME`` as a single override for tests.

| what | default (platformdirs, app "MedPriv") | override |
|---|---|---|
| settings | user config dir / settings.json | ``MEDPRIV_HOME``/config |
| secret keys (audit HMAC, surrogates) | user config dir / keys/ | ``MEDPRIV_HOME``/config/keys |
| user models | user data dir / models | ``MEDPRIV_HOME``/data/models |
| audit log | user data dir / audit/audit.jsonl | ``MEDPRIV_HOME``/data/audit |
| logs | user log dir | ``MEDPRIV_HOME``/logs |
| site models (read-only, filled by IT) | site data dir / models | ``MEDPRIV_SITE_MODELS`` or the setting |
| bundled resources | ``resources/`` beside the package, or inside the frozen app | ``MEDPRIV_RESOURCES`` |
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "MedPriv"
APP_AUTHOR = "MedPriv"


def _home() -> Path | None:
    home = os.environ.get("MEDPRIV_HOME")
    return Path(home).expanduser() if home else None


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def config_dir() -> Path:
    """Folder of settings.json and keys/."""
    home = _home()
    if home is not None:
        return _ensure(home / "config")
    import platformdirs

    return _ensure(Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)))


def data_dir() -> Path:
    """Per-user data folder (user models, audit log, demo data, recent outputs)."""
    home = _home()
    if home is not None:
        return _ensure(home / "data")
    import platformdirs

    return _ensure(Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)))


def log_dir() -> Path:
    """Folder of the application log."""
    home = _home()
    if home is not None:
        return _ensure(home / "logs")
    import platformdirs

    return _ensure(Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)))


def keys_dir() -> Path:
    """Folder of secret keys; created readable by the owner only."""
    p = _ensure(config_dir() / "keys")
    try:
        p.chmod(0o700)
    except OSError:  # pragma: no cover - e.g. Windows ACLs
        pass
    return p


def user_models_dir() -> Path:
    """Where imported model bundles go."""
    return _ensure(data_dir() / "models")


def audit_dir() -> Path:
    """Folder of the append-only audit log."""
    return _ensure(data_dir() / "audit")


def default_site_models_dir() -> Path:
    """The read-only, site-wide models folder hospital IT fills (not created by the app)."""
    env = os.environ.get("MEDPRIV_SITE_MODELS")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.site_data_dir(APP_NAME, APP_AUTHOR)) / "models"


def resources_dir() -> Path:
    """The bundled ``resources`` folder (models, demo templates, icons, schema)."""
    env = os.environ.get("MEDPRIV_RESOURCES")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def bundled_models_dir() -> Path:
    """Model bundles shipped with the app."""
    return resources_dir() / "models"
