"""Model use case: ``import_model`` (a bundle folder into the user's models folder).

Written once here, driven alike by ``medpriv models import`` and the Models dialog: the audit log is checked before
anything is copied, the Context's registry validates the bundle (card, manifest, site allow-list, no silent
replacement of a bundled or site model) and copies it, and one ``models.import`` entry records the imported model's
identity (``allow_shadow`` only when the replacement was asked for).
"""

from __future__ import annotations

from pathlib import Path

from medpriv_desktop.core.app import actions
from medpriv_desktop.core.app.context import Context
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.models.registry import ModelEntry


def import_model(ctx: Context, bundle: Path, *, overwrite: bool = False, allow_shadow: bool = False
                 ) -> Job[ModelEntry]:
    """Validate ``bundle`` and copy it into the user models folder of ``ctx.registry``; record ``models.import``.

    ``overwrite`` replaces the same id and version imported before; ``allow_shadow`` lets the bundle replace a
    bundled or site model of the same id (the window never asks for it). Raises ``ModelError`` on a refused bundle,
    with nothing copied and nothing recorded. Returns the new registry entry.
    """
    ctx.audit.preflight()  # a damaged audit log must stop the import before anything is copied
    yield Progress(None, f"importing {Path(bundle).name}")
    entry = ctx.registry.import_bundle(Path(bundle), overwrite=overwrite, allow_shadow=allow_shadow)
    extra = {"allow_shadow": True} if allow_shadow else {}
    actions.record(ctx.audit, actions.MODELS_IMPORT, **entry.audit_fields(), **extra)
    yield Progress(1.0, "imported")
    return entry
