"""What must never be in the frozen app, and how to spot it in module names and bundle files.

Used twice: by ``medpriv.spec`` on PyInstaller's analysis (before anything is written) and by ``check_bundle.py``
on the finished folder (files that a hook copied as plain data would not show up in the analysis).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

#: The training stack (the app must run without it) plus the project's own training package, and the scale-out
#: stack (the ``cluster`` extra: ``medpriv_desktop/scaleout`` imports it only when a scale-out option is used and
#: says which extra to install when it is missing).
FORBIDDEN_PACKAGES = ("torch", "torchvision", "torchaudio", "functorch", "triton", "monai", "transformers",
                      "opacus", "peft", "training", "dask", "distributed", "dask_jobqueue", "pyarrow")
#: Shared libraries torch ships under other names.
FORBIDDEN_LIB_PREFIXES = ("libtorch", "torch_", "libc10", "c10.", "c10_")


def forbidden_module(name: str) -> bool:
    """True when a dotted module name belongs to a forbidden package."""
    return name.split(".", 1)[0] in FORBIDDEN_PACKAGES


def forbidden_modules(names: Iterable[str]) -> list[str]:
    """The forbidden names among ``names`` (sorted, deduplicated)."""
    return sorted({n for n in names if forbidden_module(n)})


def forbidden_path(rel: str | PurePath) -> bool:
    """True when a path inside the bundle is a forbidden package folder, its metadata or one of torch's libraries.

    ``rel`` is relative to the folder PyInstaller puts packages in (``_internal``); only its first part names a
    package, since legitimate packages have sub-packages with such names (``spacy/training``).
    """
    parts = PurePath(rel).parts
    top = parts[0].lower() if parts else ""
    if top in FORBIDDEN_PACKAGES:
        return True
    for pkg in FORBIDDEN_PACKAGES:
        # Wheel metadata folders such as torch-2.13.0.dist-info.
        if top.startswith(pkg + "-") and (top.endswith(".dist-info") or top.endswith(".egg-info")):
            return True
    name = parts[-1].lower() if parts else ""
    return name.startswith(FORBIDDEN_LIB_PREFIXES)


def forbidden_paths(rels: Iterable[str | PurePath]) -> list[str]:
    """The forbidden paths among ``rels`` (sorted)."""
    return sorted({str(r) for r in rels if forbidden_path(r)})
