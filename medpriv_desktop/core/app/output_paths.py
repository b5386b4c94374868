"""Where the window proposes to write: a user output folder, never the folder the input came from.

Inputs often sit in a data folder that is shared, backed up or read-only, and a de-identified file written beside its
source is easily mistaken for it (or copied along with it). Every default output therefore goes to one user output
folder (Preferences: "Output folder"; by default ``Documents/MedPriv``, or ``$MEDPRIV_HOME/output`` for tests), named
after the input: ``note.txt`` -> ``note_deid.txt``, ``notes/`` -> ``notes_deid/``, ``reports.csv`` ->
``reports_labels.csv``.
"""

from __future__ import annotations

import os
from pathlib import Path

from medpriv_desktop.core.settings import Settings, load_settings

#: Multi-part extensions kept whole when a name is derived from an input file.
_MULTI_SUFFIXES = (".nii.gz", ".tar.gz")


def user_output_dir(settings: Settings | None = None) -> Path:
    """The user output folder (created when missing): the setting, else ``Documents/MedPriv``."""
    s = settings or load_settings()
    if s.output_dir:
        folder = Path(s.output_dir).expanduser()
    elif os.environ.get("MEDPRIV_HOME"):
        folder = Path(os.environ["MEDPRIV_HOME"]).expanduser() / "output"
    else:
        import platformdirs

        folder = Path(platformdirs.user_documents_dir()) / "MedPriv"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable setting: the save dialog still opens there and the user picks another place
        pass
    return folder


def input_stem(path: Path) -> str:
    """The input's name without its extension (``ct.nii.gz`` -> ``ct``; a folder keeps its name)."""
    name = Path(path).name
    for suf in _MULTI_SUFFIXES:
        if name.lower().endswith(suf):
            return name[: -len(suf)] or name
    p = Path(name)
    return p.stem if p.suffix else name


def default_output(source: Path | str | None, suffix: str, ext: str = "", settings: Settings | None = None,
                   fallback: str = "note") -> Path:
    """``<user output folder>/<input stem><suffix><ext>``; ``fallback`` names an input that has no file."""
    stem = input_stem(Path(source)) if source else fallback
    return user_output_dir(settings) / f"{stem}{suffix}{ext}"
