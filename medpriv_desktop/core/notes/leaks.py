"""Planted-PHI leak counting for notes in the invented-notes format (``phi.json`` of PHI strings per note).

A planted string *survives* when it still occurs in the de-identified output of its note as a whole word, case-blind
(a multi-word string as the phrase, any run of white space between its words; a string that starts or ends with a
digit only where that digit is not part of a longer number or a decimal). This is the rule of the shared
``leak_check.py``, written here so tests and ``medpriv-train phi report-locked`` count the same way without running a
subprocess. Counts only: which strings survived is never returned.
"""

from __future__ import annotations

import json
import re
from pathlib import Path


def occurs(needle: str, body: str) -> bool:
    """True when ``needle`` occurs in ``body`` as a whole word or phrase (module docstring)."""
    words = [re.escape(w) for w in needle.split()]
    if not words:
        return False
    left = r"(?<![\w.])" if needle[:1].isdigit() else r"(?<!\w)"
    right = r"(?![\w]|\.\d)" if needle[-1:].isdigit() else r"(?!\w)"
    return re.search(left + r"\s+".join(words) + right, body, re.IGNORECASE) is not None


def load_planted(folder: Path) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """``(phi, keep)`` of an invented-notes folder: PHI strings per note file and look-alikes that must survive."""
    folder = Path(folder)
    phi = json.loads((folder / "phi.json").read_text(encoding="utf-8"))
    keep_file = folder / "keep.json"
    keep = json.loads(keep_file.read_text(encoding="utf-8")) if keep_file.is_file() else {}
    return phi, keep


def count_leaks(folder: Path, outputs: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Per category ``(surviving, total)`` planted strings, plus ``"KEEP"`` as ``(kept, total)`` look-alikes."""
    phi, keep = load_planted(folder)
    counts: dict[str, list[int]] = {}
    for name, items in phi.items():
        body = outputs.get(name, "")
        for item in items:
            c = counts.setdefault(item["category"], [0, 0])
            c[0] += occurs(item["text"], body)
            c[1] += 1
    kept = [0, 0]
    for name, strings in keep.items():
        for s in strings:
            kept[0] += occurs(s, outputs.get(name, ""))
            kept[1] += 1
    out = {k: (v[0], v[1]) for k, v in counts.items()}
    out["KEEP"] = (kept[0], kept[1])
    return out
