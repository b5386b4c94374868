"""Reading the audit log in parity tests: the entries so far, and the one entry a step wrote (without the chain and
time fields, which differ between any two entries)."""

from __future__ import annotations

import json

from medpriv_desktop.core import paths

VOLATILE = {"v", "seq", "time", "user", "key_id", "prev", "hash"}


def entries() -> list[dict]:
    """Every entry of the app's audit log (empty when there is none yet)."""
    f = paths.audit_dir() / "audit.jsonl"
    return [json.loads(line) for line in f.read_text().splitlines()] if f.exists() else []


def new_entry(before: int) -> dict:
    """The one entry written since ``before`` entries, without its chain and time fields."""
    found = entries()
    assert len(found) == before + 1, [e.get("action") for e in found[before:]]
    return {k: v for k, v in found[-1].items() if k not in VOLATILE}
