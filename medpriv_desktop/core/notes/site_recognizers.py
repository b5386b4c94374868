"""Site recognizers without code: hospital IT's ``recognizers.yaml`` in the site folder, in Presidio's YAML format.

Where: the site folder that the machine-wide rule decides (the site config's ``site_models_dir``; on an unmanaged
machine the user's setting or ``MEDPRIV_SITE_MODELS``; see :func:`.models.site.resolve_site_policy`), file name
:data:`SITE_RECOGNIZERS_FILE`. No file there: the engine runs its built-in rules only.

How it is read: at most :data:`MAX_BYTES` of a regular file, strict UTF-8, YAML without anchors or aliases, checked
by :mod:`.site_schema`, then the whole configuration goes to Presidio's own registry loader,
``RecognizerRegistryProvider(registry_configuration=...)`` (presidio-analyzer 2.2: its pydantic validation, then
``PatternRecognizer.from_dict`` for each entry, as ``add_recognizers_from_yaml`` does). Only Presidio's file opening
is not used: it opens the file in the platform's encoding (staff names with accents would be garbled on Windows),
reads it a second time after our hash was taken, and ``print()``\\s errors; so the loader is given the mapping parsed
from the very bytes that were hashed. The sha256 of the exact bytes read identifies the
file in the engine, the audit log and batch resume manifests. Any problem is one :class:`ConfigError` naming the
file: a site that configured recognizers never runs silently without them.

Deny lists: an entry made only of ordinary words ("May", "Rose", "Hope") matches only with the capitals it is written
with (:func:`~medpriv_desktop.core.notes.lexicons.exact_case_entry`); other entries ("Okonkwo") in any case.
Context: Presidio's lemma context enhancer raises a match's score by 0.35 (to at least 0.4) when one of the
recognizer's context words is among the five words before it; a site match is kept when its score reaches
:data:`SITE_MIN_SCORE` (or the engine's threshold when that is higher). So a pattern scored below 0.4 needs a
context word, and one scored 0.4 or more is found anywhere.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import ConfigError, MedPrivError
from medpriv_desktop.core.notes.nlp_engines import CONTEXT_MIN_SCORE

log = logging.getLogger(__name__)

SITE_RECOGNIZERS_FILE = "recognizers.yaml"
MAX_BYTES = 1024 * 1024
#: A site match below this score (after context) is dropped; Presidio's context boost lifts a match to at least 0.4.
SITE_MIN_SCORE = CONTEXT_MIN_SCORE
_HINT = "IT must repair or remove the site recognizers file"


@dataclass(frozen=True)
class SiteRecognizers:
    """The recognizers of one site file, with the file's path and the sha256 of its bytes."""

    path: Path
    sha256: str
    recognizers: tuple[Any, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The recognizers' names."""
        return tuple(r.name for r in self.recognizers)


def site_recognizers_path(settings_site_dir: str | Path | None = None) -> Path | None:
    """Where the site recognizers file is looked for (None when no site folder applies); raises
    :class:`ConfigError` when the site config is unusable, since then the site's recognizers cannot be found."""
    from medpriv_desktop.core.models.site import resolve_site_policy

    policy = resolve_site_policy(settings_site_dir)
    if policy.error is not None:
        raise ConfigError(f"site config is unusable, so the site recognizers cannot be found ({policy.error.reason})",
                          path=policy.config_path, hint="IT must repair or remove the site config")
    return None if policy.site_dir is None else Path(policy.site_dir) / SITE_RECOGNIZERS_FILE


def _parse_yaml(raw: bytes, path: Path) -> Any:
    import yaml

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("site recognizers file is not UTF-8 text", path=path, hint=_HINT) from None
    try:
        # anchors and aliases can multiply a small file into a huge structure: a recognizer file never needs them
        for token in yaml.scan(text):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                raise ConfigError("site recognizers file uses YAML anchors or aliases; write each value out",
                                  path=path, hint=_HINT)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"site recognizers file is not valid YAML{where} ({problem})", path=path,
                          hint=_HINT) from None
    except RecursionError:
        raise ConfigError("site recognizers file is nested too deeply", path=path, hint=_HINT) from None


def presidio_load(checked: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The recognizers of ``checked`` (:func:`.site_schema.check_file` output) as Presidio's registry loader builds
    them, each adopted as a :class:`~.site_pattern.SitePatternRecognizer` (case rule for word-like deny entries)."""
    from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider

    from medpriv_desktop.core.notes.site_pattern import SitePatternRecognizer
    from medpriv_desktop.core.notes.site_schema import REGEX_FLAGS

    provider = RecognizerRegistryProvider(registry_configuration={
        "supported_languages": ["en"], "global_regex_flags": REGEX_FLAGS, "recognizers": checked})
    built = provider.create_recognizer_registry().recognizers
    if [r.name for r in built] != [c["name"] for c in checked]:  # the loader drops what it cannot place
        raise ValueError("it did not build every recognizer of the file")
    return tuple(SitePatternRecognizer.adopt(r) for r in built)


def _first_line(exc: BaseException) -> str:
    # pydantic's messages run to many lines and may quote the offending value: keep Presidio's own sentence
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def load_site_recognizers(path: Path, built_in_names: frozenset[str] = frozenset()) -> SiteRecognizers:
    """Read, check and build the recognizers of ``path``; one :class:`ConfigError` naming the file on any problem."""
    from medpriv_desktop.core.models.jsonfile import read_bytes_bounded
    from medpriv_desktop.core.notes.site_schema import SchemaError, check_file

    try:
        raw = read_bytes_bounded(path, MAX_BYTES, follow_symlinks=True, what="site recognizers file")
    except MedPrivError as exc:
        raise ConfigError(exc.reason, path=path, hint=_HINT) from None
    data = _parse_yaml(raw, path)
    try:
        checked = check_file(data, built_in_names)
    except SchemaError as exc:
        raise ConfigError(f"site recognizers file: {exc}", path=path, hint=_HINT) from None
    try:
        recognizers = presidio_load(checked)
    except (ValueError, TypeError) as exc:  # what Presidio itself refuses, in its words
        raise ConfigError(f"site recognizers file: Presidio refused it ({_first_line(exc)})", path=path,
                          hint=_HINT) from None
    sha = hashlib.sha256(raw).hexdigest()
    from medpriv_desktop.core.logging import path_ref

    log.info("site recognizers: %d loaded from %s (sha256 %s)", len(recognizers), path_ref(path), sha[:12])
    return SiteRecognizers(path, sha, recognizers)


def find_site_recognizers(settings_site_dir: str | Path | None = None,
                          built_in_names: frozenset[str] = frozenset()) -> SiteRecognizers | None:
    """The site's recognizers, or None when the site folder has no recognizers file."""
    import os

    path = site_recognizers_path(settings_site_dir)
    if path is None or not os.path.lexists(path):
        return None
    return load_site_recognizers(path, built_in_names)
