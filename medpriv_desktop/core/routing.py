"""Which workspace a dropped or opened file belongs to (no Qt, so it is tested headless)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Literal

Workspace = Literal["imaging", "notes", "reports"]

IMAGE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm", ".ima")
_REPORT_WORDS = re.compile(r"\b(FINDINGS|IMPRESSION|TECHNIQUE|COMPARISON|INDICATION)\s*:", re.IGNORECASE)
_REPORT_COLUMNS = {"findings", "impression", "report", "report_text", "reports"}


def _looks_like_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
        return len(head) == 132 and head[128:132] == b"DICM"
    except OSError:
        return False


def route(path: str | Path) -> Workspace | None:
    """Return the workspace for ``path`` or None when the app cannot use it.

    Folders: DICOM (any file with the DICM preamble, or a DICOMDIR) go to Imaging; folders of ``.txt`` files to
    Notes. ``.txt`` and ``.csv`` go to Reports when they look like radiology reports (section headers or report
    columns), else to Notes. Only a few kB of each file are read.
    """
    p = Path(path)
    name = p.name.lower()
    if p.is_dir():
        files = [f for f in sorted(p.iterdir())[:200] if f.is_file()]
        if any(f.name.upper() == "DICOMDIR" or f.suffix.lower() in (".dcm", ".ima") or _looks_like_dicom(f)
               for f in files[:50]):
            return "imaging"
        if any(f.name.lower().endswith(IMAGE_SUFFIXES) for f in files):
            return "imaging"
        txt = [f for f in files if f.suffix.lower() == ".txt"]
        if txt:
            return "reports" if _text_looks_like_report(txt[0]) else "notes"
        return None
    if name == "dicomdir" or name.endswith(IMAGE_SUFFIXES) or _looks_like_dicom(p):
        return "imaging"
    if name.endswith(".csv"):
        try:
            with open(p, newline="", encoding="utf-8", errors="replace") as fh:
                header = next(csv.reader(fh), [])
        except OSError:
            return None
        cols = {c.strip().lower() for c in header}
        return "reports" if cols & _REPORT_COLUMNS else "notes"
    if name.endswith((".txt", ".text")):
        return "reports" if _text_looks_like_report(p) else "notes"
    return None


def _text_looks_like_report(p: Path) -> bool:
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4000)
    except OSError:
        return False
    return len(_REPORT_WORDS.findall(head)) >= 1
