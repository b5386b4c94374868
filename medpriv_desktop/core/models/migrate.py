"""Rewrite a legacy allow-list (``model.onnx`` hashes) as a version 2 allow-list of bundle manifests.

A legacy list names model files, so any bundle holding an allowed ``model.onnx`` passes, whatever its card or
tokenizer say. Migration looks at the bundles this registry can see (site and bundled; user bundles only when
asked, since they are the user's own), and admits the manifest of each bundle whose model file hash is listed and
whose files are intact. Hashes no visible bundle matches are reported and dropped; IT reviews the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.jsonfile import read_json_file
from medpriv_desktop.core.models.site import ALLOWLIST_MAX_BYTES, allowlist_v2, parse_allowlist

if TYPE_CHECKING:
    from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry


@dataclass
class Migration:
    """The outcome: the new document, the bundles admitted, legacy hashes left unmatched, bundles skipped."""

    document: dict[str, Any]
    admitted: list[tuple[ModelEntry, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    skipped: list[ModelError] = field(default_factory=list)
    already_v2: bool = False


def migrate_allowlist(registry: ModelRegistry, include_user: bool = False) -> Migration:
    """Build the version 2 allow-list for the allow-list in force (which must exist and be readable)."""
    assert registry.policy is not None
    path = registry.policy.allowlist_path
    if registry.policy.error is not None:
        raise registry.policy.error
    if path is None:
        raise ModelError("no site allow-list is configured", hint="there is nothing to migrate")
    if not os.path.lexists(path):
        raise ModelError("there is no site allow-list here; nothing to migrate", path=path)
    data = read_json_file(path, what="site allow-list", max_bytes=ALLOWLIST_MAX_BYTES, max_depth=4,
                          follow_symlinks=True)
    try:
        current = parse_allowlist(data, path)
    except ValueError as exc:
        raise ModelError(f"site allow-list {exc}", path=path) from None
    if not current.legacy:
        return Migration(data, already_v2=True)
    out = Migration({})
    notes: dict[str, str] = {}
    matched: set[str] = set()
    for e in registry.all_entries():
        if e.root == "user" and not include_user:
            continue
        if e.card.sha256 not in current.legacy_model_sha256:
            continue
        try:
            man = registry.check_bundle(e)  # the model file really has the listed hash; no links or odd files
            registry.check_anchor(e, man.sha256)
        except ModelError as exc:
            out.skipped.append(exc)
            continue
        matched.add(e.card.sha256)
        notes[man.sha256] = f"{e.card.id} {e.card.version} ({e.root})"
        out.admitted.append((e, man.sha256))
    out.unmatched = sorted(current.legacy_model_sha256 - matched)
    when = datetime.now(timezone.utc).date().isoformat()
    out.document = allowlist_v2(notes, f"migrated from a legacy model.onnx list on {when}; review before use")
    return out
