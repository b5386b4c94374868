"""Export handlers of the Imaging workspace (a mixin): label map, DICOM SEG, meshes, statistics, screenshots, and
all of them de-identified.

Each handler asks for a path only when none is given (tests pass one), then starts one job of ``core/app/study.py``
(meshes: ``render/mesh_jobs.py``; de-identified: ``core/dicom_deid/exports``) through the workspace's JobRunner, so
large files are written off the GUI thread and atomically. Every dialog title says whether what it writes is
identified (:data:`IDENTIFIED`); "Export de-identified..." writes SEG, label map, statistics and meshes with de-identified headers and pseudonymous names.
Dialogs open in the user output folder with names derived from the study (``ct_seg.nii.gz``), never in the study's
own folder; the message after an export names what was written, with "Open folder".
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from medpriv_desktop.core.app import study as study_jobs
from medpriv_desktop.render.mesh_jobs import export_meshes_job
from medpriv_desktop.gui.notify import notify_error, notify_written
from medpriv_desktop.core.app.output_paths import user_output_dir


#: What the title of each ordinary export dialog says about identity (the de-identified export says the opposite).
IDENTIFIED = {
    "labelmap": "identified: the file is named after the study",
    "dicom_seg": "identified: carries the patient's name, IDs, dates and the study's UIDs",
    "meshes": "not de-identified: named by structure; use Export de-identified... to share",
    "stats": "identified: the file is named after the study",
}
DEIDENTIFIED_TITLE = "Export de-identified (SEG, label map, statistics, meshes) to folder"


class ExportActionsMixin:
    """Mixed into ``ImagingWorkspace`` (needs ``state``, ``runner``, ``study_path``, ``last_run``, ``views``...)."""

    def _stem(self) -> str:
        return study_jobs.study_stem(self.study_path) if self.study_path else "study"

    def _ask_save(self, title: str, default: str, filt: str) -> Path | None:
        fname, _ = QFileDialog.getSaveFileName(self, title, str(user_output_dir() / default), filt)
        return Path(fname) if fname else None

    def _ask_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self, title, str(user_output_dir()))
        return Path(folder) if folder else None

    def _export(self, title: str, factory, target: Path | None = None) -> bool:
        """Run an export job; the message names what was written (``target``, else the job's first path)."""
        def done(res) -> None:
            first = res[0] if isinstance(res, (list, tuple)) and res else res
            where = target or (Path(first) if isinstance(first, (str, Path)) else None)
            if where is not None:
                notify_written(f"{title}: written", where)

        return self.runner.start(title, factory, on_success=done, on_error=lambda exc: notify_error(exc, title))

    def export_labelmap(self, path: Path | None = None) -> bool:
        """Write the current labels (with edits) on the study's grid."""
        lm = self.state.labelmap()
        path = path or self._ask_save(f"Export label map ({IDENTIFIED['labelmap']})", f"{self._stem()}_seg.nii.gz",
                                      "NIfTI (*.nii.gz *.nii);;NRRD (*.nrrd);;MetaImage (*.mha)")
        return bool(lm is not None and path) and self._export("Exporting the label map",
                                                              lambda: study_jobs.export_labelmap_job(lm, path), path)

    def export_dicom_seg(self, path: Path | None = None) -> bool:
        """Write a DICOM SEG referencing the open DICOM series."""
        lm = self.state.labelmap()
        entry = self.last_run.entry if self.last_run is not None else self.segment_panel.current_entry()
        if lm is None or entry is None:
            return False
        path = path or self._ask_save(f"Export DICOM SEG ({IDENTIFIED['dicom_seg']})", f"{self._stem()}_seg.dcm",
                                      "DICOM (*.dcm)")
        return bool(path) and self._export("Exporting the DICOM SEG",
                                           lambda: study_jobs.export_dicom_seg_job(lm, entry.card, path), path)

    def export_meshes(self, outdir: Path | None = None, scene_only: bool = False) -> bool:
        """Surface meshes per structure (STL) plus scene.vtp, or only the scene."""
        lm = self.state.labelmap()
        outdir = outdir or self._ask_folder(f"Export meshes to folder ({IDENTIFIED['meshes']})")
        return bool(lm is not None and outdir) and self._export(
            "Exporting meshes", lambda: export_meshes_job(lm, outdir, scene_only), outdir)

    def export_stats(self, path: Path | None = None) -> bool:
        """Statistics of the current labels as CSV (JSON beside it)."""
        lm, vol = self.state.labelmap(), self.state.volume
        path = path or self._ask_save(f"Export statistics ({IDENTIFIED['stats']})", f"{self._stem()}_stats.csv",
                                      "CSV (*.csv)")
        meta = {"model_id": self.state.source.get("model_id", "")}
        return bool(lm is not None and path) and self._export(
            "Exporting statistics", lambda: study_jobs.export_stats_job(lm, vol, path, meta), path)

    def export_deidentified(self, outdir: Path | None = None) -> bool:
        """DICOM SEG (DICOM studies), label map, statistics and meshes with de-identified headers and pseudonymous
        names (the same pseudonyms, dates and UIDs as ``medpriv deid-dicom``) into a folder."""
        from medpriv_desktop.core.dicom_deid.exports import export_deidentified_job
        from medpriv_desktop.render.meshes import export_meshes

        lm, vol = self.state.labelmap(), self.state.volume
        entry = self.last_run.entry if self.last_run is not None else self.segment_panel.current_entry()
        outdir = outdir or self._ask_folder(DEIDENTIFIED_TITLE)
        card = entry.card if entry is not None else None
        return bool(lm is not None and outdir) and self._export(
            "Exporting de-identified", lambda: export_deidentified_job(lm, vol, card, Path(outdir), export_meshes),
            Path(outdir) if outdir else None)

    def save_screenshots(self, outdir: Path | None = None) -> list[Path]:
        """PNG of each slice view (and of the 3D view when it can render) into ``outdir``."""
        outdir = outdir or self._ask_folder("Save screenshots to folder")
        if not outdir:
            return []
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, v in self.views.items():
            p = outdir / f"{self._stem()}_{name}.png"
            if v.image_label.grab().save(str(p), "PNG"):
                written.append(p)
        p3 = self.view3d.save_screenshot(outdir / f"{self._stem()}_3d.png")
        if p3 is not None:
            written.append(p3)
        if written:
            notify_written(f"Saved {len(written)} screenshots", outdir)
        return written
