"""Mesh export as a job (a generator yielding Progress), so the window runs VTK's filters off its GUI thread.

VTK is imported when the job starts, not when this module is imported: the window opens without loading it.
"""

from __future__ import annotations

from pathlib import Path

from medpriv_desktop.core.imaging.volume import LabelMap
from medpriv_desktop.core.jobs import Job, Progress


def export_meshes_job(labelmap: LabelMap, outdir: Path, scene_only: bool = False, fmt: str = "stl"
                      ) -> Job[list[Path]]:
    """Surface meshes of ``labelmap`` into ``outdir``: one file per structure (``fmt``) plus ``scene.vtp``, or
    only the scene. No rendering object is involved."""
    from medpriv_desktop.render.meshes import export_meshes

    yield Progress(None, "meshing structures")
    return export_meshes(labelmap, Path(outdir), () if scene_only else (fmt,))
