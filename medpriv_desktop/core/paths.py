"""Where MedPriv keeps things: platformdirs locations, with ``MEDPRIV_HOME`` as a single override for tests.

| what | default (platformdirs, app "MedPriv") | override |
|---|---|---|
| settings | user config dir / settings.json | ``MEDPRIV_HOME``/config |
| secret keys (audit HMAC, surrogates) | user config dir / keys/ | ``MEDPRIV_HOME``/config/keys |
| user models | user data dir / models | ``MEDPRIV_HOME``/data/models |
| audit log | user data dir / audit/audit.jsonl | ``MEDPRIV_HOME``/data/audit |
| audit chain head (keyed) | user config dir / keys/audit.jsonl.head | ``MEDPRIV_HOME``/config/keys |
| logs | user log dir | ``MEDPRIV_HOME``/logs |
| site models (read-only, filled by IT) | site data dir / models | the site config (below), else the setting or ``MEDPRIV_SITE_MODELS`` |
| site config (IT, machine-wide) | :data:`MACHINE_SITE_CONFIG` | ``MEDPRIV_SITE_CONFIG``, only while the fixed file is absent |
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


def _windows_program_data() -> Path:
    """``%ProgramData%`` asked of the shell, not of the environment (which the user controls)."""
    try:
        import ctypes

        buf = ctypes.create_unicode_buffer(1024)
        # SHGetFolderPathW(hwnd, CSIDL_COMMON_APPDATA = 35, token, SHGFP_TYPE_CURRENT = 0, out)
        shell32 = ctypes.windll.shell32  # type: ignore[attr-defined]
        if shell32.SHGetFolderPathW(None, 35, None, 0, buf) == 0 and buf.value:
            return Path(buf.value)
    except (ImportError, AttributeError, OSError):  # pragma: no cover - not Windows
        pass
    return Path("C:/ProgramData")


def _machine_site_config() -> Path:
    if sys.platform == "win32":
        return _windows_program_data() / APP_NAME / "site.json"
    if sys.platform == "darwin":
        return Path("/Library/Application Support") / APP_NAME / "site.json"
    return Path("/etc/medpriv/site.json")


#: The machine-wide site config IT controls (writable by administrators only). When anything exists at this path,
#: it alone says where the site models folder and the allow-list are: user settings, ``MEDPRIV_SITE_MODELS`` and
#: ``MEDPRIV_SITE_CONFIG`` are ignored. Tests monkeypatch this constant (see ``tests/conftest.py``).
MACHINE_SITE_CONFIG: Path = _machine_site_config()
#: Names a site config file for machines without the fixed one (and for subprocess tests). Honoured ONLY when
#: nothing exists at :data:`MACHINE_SITE_CONFIG`, so it can never replace IT's file.
SITE_CONFIG_ENV = "MEDPRIV_SITE_CONFIG"
#: Replaces the site models folder, ONLY when no site config (fixed or from ``MEDPRIV_SITE_CONFIG``) is in force.
SITE_MODELS_ENV = "MEDPRIV_SITE_MODELS"


def default_site_models_dir() -> Path:
    """The platform's read-only, site-wide models folder hospital IT fills (not created by the app).

    This is the default only; where the site folder really is (machine-wide config, environment, setting) is
    decided in one place, :func:`medpriv_desktop.core.models.site.resolve_site_policy`.
    """
    import platformdirs

    return Path(platformdirs.site_data_dir(APP_NAME, APP_AUTHOR)) / "models"


def shipped_resources_dir() -> Path:
    """The ``resources`` folder that ships with this app (ignores ``MEDPRIV_RESOURCES``)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resources_dir() -> Path:
    """The bundled ``resources`` folder (models, demo templates, icons, schema)."""
    env = os.environ.get("MEDPRIV_RESOURCES")
    if env:
        return Path(env)
    return shipped_resources_dir()


def bundled_models_dir() -> Path:
    """Model bundles shipped with the app."""
    return resources_dir() / "models"
