"""The shape a site recognizers file must have, checked before Presidio sees it.

The file is Presidio's recognizer YAML (the format ``RecognizerRegistry.add_recognizers_from_yaml`` reads): a
top-level ``recognizers`` list of pattern recognizers with ``name``, ``supported_entity``, ``patterns`` (``name``,
``regex``, ``score``), ``deny_list``, ``deny_list_score``, ``context``, and optionally ``supported_language`` (``en``)
and ``version``. This module accepts exactly that subset and says in one sentence what is wrong otherwise: an
unknown key (with "did you mean"), a category the operators do not know, a regular expression that does not compile,
a context word Presidio would drop, a list too long. Messages name keys and positions, never deny-list values.
"""

from __future__ import annotations

import re
from typing import Any

import regex

from medpriv_desktop.core.errors import did_you_mean
from medpriv_desktop.core.notes.spans import CATEGORIES

#: Limits that keep a mistaken file (a whole directory listing pasted in, a runaway pattern) from slowing every note.
MAX_RECOGNIZERS = 200
MAX_PATTERNS = 50
MAX_REGEX_CHARS = 1000
MAX_DENY_ENTRIES = 50_000
MAX_ENTRY_CHARS = 200
MAX_CONTEXT_WORDS = 50
#: Text a site regex is tried on at load time, and how long it may take on each (a linear regex needs microseconds).
_PROBES = tuple(run * (3000 // len(run)) + "!" for run in ("a", "1", " ", "a1-", "aA ", "1/", "a."))
PROBE_SECONDS = 0.25
#: Presidio compiles site patterns with these flags (its default for pattern recognizers).
REGEX_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE

TOP_KEYS = ("recognizers",)
RECOGNIZER_KEYS = ("name", "supported_entity", "supported_language", "patterns", "deny_list", "deny_list_score",
                   "context", "version")
PATTERN_KEYS = ("name", "regex", "score")
_REFUSED = {
    "type": "only custom pattern recognizers are read (no 'type' key; predefined ones are the app's own)",
    "global_regex_flags": "patterns always match without regard to case (write (?-i) in a regex to require it)",
    "score_thresholds": "a site match is kept when its score, after context, reaches 0.4 (or --threshold if higher)",
    "supported_entities": "use 'supported_entity' (one category per recognizer)",
    "supported_languages": "notes are English: use 'supported_language: en' or leave it out",
}
_CONTEXT_WORD = re.compile(r"^[^\W_]{1,40}$")


class SchemaError(ValueError):
    """What is wrong with the parsed file, as one sentence (the loader adds the file name)."""


def _keys(obj: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in obj:
        if not isinstance(key, str):
            raise SchemaError(f"{where} has a key that is not text")
        if key in _REFUSED and key not in allowed:
            raise SchemaError(f"{where}: '{key}' is not supported: {_REFUSED[key]}")
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise SchemaError(f"{where} has an unknown key '{key}'" + (f" ({hint})" if hint else "")
                              + f"; allowed: {', '.join(allowed)}")


def _text(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"{where} must be non-empty text")
    if len(value) > limit:
        raise SchemaError(f"{where} is longer than {limit} characters")
    return value


def _score(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise SchemaError(f"{where} must be a number from 0 to 1")
    return float(value)


def _list(value: Any, where: str, limit: int) -> list:
    if not isinstance(value, list):
        raise SchemaError(f"{where} must be a list")
    if len(value) > limit:
        raise SchemaError(f"{where} has {len(value):,} entries (at most {limit:,})")
    return value


def _pattern(p: Any, where: str) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise SchemaError(f"{where} must be a mapping with name, regex and score")
    _keys(p, PATTERN_KEYS, where)
    for key in PATTERN_KEYS:
        if key not in p:
            raise SchemaError(f"{where} needs '{key}'")
    rx = _text(p["regex"], f"{where}.regex", MAX_REGEX_CHARS)
    try:
        compiled = regex.compile(rx, REGEX_FLAGS)
    except (regex.error, ValueError, OverflowError) as exc:
        raise SchemaError(f"{where}.regex is not a valid regular expression ({exc})") from None
    if compiled.match(""):
        raise SchemaError(f"{where}.regex matches the empty text (it would match everywhere)")
    try:  # nested repeats such as (a+)+ can take minutes on one note; Presidio would then skip the pattern
        for probe in _PROBES:
            compiled.search(probe, timeout=PROBE_SECONDS)
    except TimeoutError:
        raise SchemaError(f"{where}.regex is too slow on long runs of letters, digits or spaces (nested repeats "
                          "such as (a+)+?); simplify it") from None
    return {"name": _text(p["name"], f"{where}.name", 100), "regex": rx, "score": _score(p["score"], f"{where}.score")}


def _context(words: Any, where: str) -> list[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # the list Presidio's enhancer drops words by

    out = []
    for k, w in enumerate(_list(words, where, MAX_CONTEXT_WORDS)):
        if not isinstance(w, str) or not _CONTEXT_WORD.match(w):
            raise SchemaError(f"{where}[{k}] must be one word of letters or digits (context is matched word by word)")
        if w.lower() in STOP_WORDS:
            raise SchemaError(f"{where}[{k}] is a stop word that Presidio ignores as context ('{w}'); choose another")
        out.append(w)
    return out


def check_recognizer(r: Any, k: int, built_in_names: frozenset[str]) -> dict[str, Any]:
    """The checked settings of recognizer ``k`` (a dict for Presidio's ``PatternRecognizer.from_dict``)."""
    where = f"recognizers[{k}]"
    if not isinstance(r, dict):
        raise SchemaError(f"{where} must be a mapping")
    _keys(r, RECOGNIZER_KEYS, where)
    name = _text(r.get("name"), f"{where}.name", 100)
    where = f"{where} ('{name}')"
    if name in built_in_names:
        raise SchemaError(f"{where}: the name is taken by a built-in recognizer; choose another")
    entity = r.get("supported_entity")
    if entity not in CATEGORIES:
        hint = did_you_mean(str(entity), sorted(CATEGORIES))
        raise SchemaError(f"{where}.supported_entity must be one of the app's categories ({', '.join(CATEGORIES)})"
                          + (f"; {hint}" if hint else ""))
    if r.get("supported_language", "en") != "en":
        raise SchemaError(f"{where}.supported_language must be 'en' (the notes are English)")
    out: dict[str, Any] = {"name": name, "supported_entity": entity, "supported_language": "en"}
    patterns = [_pattern(p, f"{where}.patterns[{j}]")
                for j, p in enumerate(_list(r.get("patterns", []), f"{where}.patterns", MAX_PATTERNS))]
    deny = _list(r.get("deny_list", []), f"{where}.deny_list", MAX_DENY_ENTRIES)
    for j, entry in enumerate(deny):
        _text(entry, f"{where}.deny_list[{j}]", MAX_ENTRY_CHARS)
    if not patterns and not deny:
        raise SchemaError(f"{where} needs 'patterns' or a 'deny_list'")
    if patterns:
        out["patterns"] = patterns
    if deny:
        out["deny_list"] = list(deny)
        out["deny_list_score"] = _score(r.get("deny_list_score", 1.0), f"{where}.deny_list_score")
    elif "deny_list_score" in r:
        raise SchemaError(f"{where}.deny_list_score needs a deny_list")
    if "context" in r:
        out["context"] = _context(r["context"], f"{where}.context")
    if "version" in r:
        out["version"] = _text(str(r["version"]), f"{where}.version", 40)
    return out


def check_file(data: Any, built_in_names: frozenset[str]) -> list[dict[str, Any]]:
    """The checked recognizer settings of a parsed file; raises :class:`SchemaError` saying what is wrong."""
    if not isinstance(data, dict):
        raise SchemaError("must be a mapping with a 'recognizers' list")
    _keys(data, TOP_KEYS, "the file")
    recs = _list(data.get("recognizers"), "'recognizers'", MAX_RECOGNIZERS)
    if not recs:
        raise SchemaError("'recognizers' is empty")
    out = [check_recognizer(r, k, built_in_names) for k, r in enumerate(recs)]
    names = [r["name"] for r in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise SchemaError(f"two recognizers are named '{dup}'")
    total = sum(len(r.get("deny_list", ())) for r in out)
    if total > MAX_DENY_ENTRIES:
        raise SchemaError(f"the deny lists hold {total:,} entries together (at most {MAX_DENY_ENTRIES:,})")
    return out
