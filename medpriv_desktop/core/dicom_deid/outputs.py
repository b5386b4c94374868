"""Files of a ``deid-dicom`` run: the inputs it reads, and the outputs its run manifest vouches for, in nested folders.

``core/resume.py`` judges a flat folder; a DICOM output is a tree (patient/study/series), plus an optional quarantine
tree beside it. Output names in the manifest are paths relative to the output folder with ``/`` separators; files of
the quarantine folder carry :data:`QUARANTINE_PREFIX`. A killed run's temporary files (``.name.XXXX.part.dcm``) are
removed before the scan; every other file the manifest does not know makes the folder refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from medpriv_desktop.core.imaging.safe_read import UnsafeFileError, confined_path
from medpriv_desktop.core.resume import FOLDER_MANIFEST, FolderState, RunManifest

QUARANTINE_PREFIX = "quarantine:"


def quarantine_dir(output_dir: Path) -> Path:
    """The quarantine folder beside an output folder: ``OUT-quarantine``."""
    output_dir = Path(output_dir)
    return output_dir.with_name(output_dir.name + "-quarantine")


def walk_inputs(folder: Path) -> list[tuple[str, Path]]:
    """Every regular file under ``folder`` as (relative posix path, path), sorted; links leading out are skipped."""
    folder = Path(folder)
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            p = Path(root) / name
            if p.is_symlink():
                try:
                    confined_path(p, folder)
                except UnsafeFileError:
                    continue
            if p.is_file():
                out.append((p.relative_to(folder).as_posix(), p))
    return sorted(out)


def _files(root: Path) -> list[tuple[str, Path]]:
    """Files under ``root`` (relative posix, path), after removing temporary files a killed run left."""
    found = []
    if not root.is_dir():
        return found
    for here, _dirs, names in os.walk(root):
        for name in names:
            p = Path(here) / name
            if name.startswith(".") and ".part" in name:
                p.unlink(missing_ok=True)
                continue
            found.append((p.relative_to(root).as_posix(), p))
    return found


def scan_outputs(manifest: RunManifest, output_dir: Path, qdir: Path | None) -> FolderState:
    """What the output (and quarantine) folders hold, judged by ``manifest``: done, unknown, changed (by name)."""
    state = FolderState()
    trees = [(Path(output_dir), "")] + ([(Path(qdir), QUARANTINE_PREFIX)] if qdir is not None else [])
    for root, prefix in trees:
        for rel, p in _files(root):
            name = prefix + rel
            if not prefix and rel == FOLDER_MANIFEST:
                continue
            recorded = manifest.outputs.get(manifest.mac_name(name))
            if recorded is None or p.is_symlink():
                state.unknown.append(name)
            elif manifest.mac_file(p) == recorded:
                state.done.add(name)
            else:
                state.changed.append(name)
    return state


def remove_vouched(manifest: RunManifest, output_dir: Path, qdir: Path | None) -> int:
    """``--restart``: delete the outputs the manifest vouches for (only those) and folders left empty."""
    n = 0
    state = scan_outputs(manifest, output_dir, qdir)
    for name in state.done:
        root, rel = (qdir, name[len(QUARANTINE_PREFIX):]) if name.startswith(QUARANTINE_PREFIX) else (output_dir, name)
        (Path(root) / Path(*rel.split("/"))).unlink()
        n += 1
    for root in [output_dir] + ([qdir] if qdir is not None else []):
        for here, _dirs, _names in sorted(os.walk(root), key=lambda t: -len(t[0])):
            if Path(here) != Path(root):
                try:
                    os.rmdir(here)
                except OSError:
                    pass
    return n
