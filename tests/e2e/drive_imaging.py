"""Drive the Imaging workspace in a real X window (run under Xvfb by test_imaging_e2e.py).

Opens a CT (the shared example when given, else a generated phantom), segments it with a bundled segmentation model
(else a tiny model made on the fly into the site models folder) while a GUI heartbeat measures stalls, then probes
pixels of an overlay in the axial view and of the 3D view in screenshots grabbed from the screen, and writes a JSON
summary. Exit code 0 means every check passed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from medpriv_desktop.gui.imaging.heartbeat import GuiHeartbeat  # noqa: E402
from medpriv_desktop.gui.main_window import MainWindow  # noqa: E402
from medpriv_desktop.gui.screenshot import grab_window  # noqa: E402
from tests.e2e._drive import wait as _wait  # noqa: E402


def _study(arg: str) -> Path:
    if arg and Path(arg).is_file():
        return Path(arg)
    from medpriv_desktop.core.demo import phantom_ct
    from medpriv_desktop.core.imaging.io import write_volume
    from medpriv_desktop.core.imaging.volume import Volume

    hu, _lab, _names = phantom_ct((96, 96, 64), (4.0, 4.0, 5.0))
    path = Path(tempfile.mkdtemp()) / "phantom_ct.nii.gz"
    write_volume(Volume(hu, (4.0, 4.0, 5.0), modality="CT"), path)
    return path


def _ensure_models(win: MainWindow) -> dict:
    """Use an installed segmentation model; else write a tiny one (and a conv cost stand-in) to the site folder."""
    entries = win.registry.entries("segmentation")
    if entries and os.environ.get("MEDPRIV_E2E_MODELS") != "tiny":
        return {"made_models": False}
    from tests.unit.imaging._imaging_fixtures import build_conv_model, make_bundle

    site = Path(os.environ["MEDPRIV_SITE_MODELS"])
    # Colours that stand out on CT grey (the fixture's bone colour is near white).
    make_bundle(site, "seg-e2e-tiny", spacing=(3.0, 3.0, 3.0), role="student", family="e2e",
                label_extra={"soft_tissue": {"color": [205, 95, 75]}, "bone": {"color": [255, 185, 40]}})
    make_bundle(site, "seg-e2e-teacher", spacing=(3.0, 3.0, 3.0), role="teacher", family="e2e",
                builder_kwargs={"centres": (-0.95, 0.0, 0.45)},
                label_extra={"soft_tissue": {"color": [205, 95, 75]}, "bone": {"color": [255, 185, 40]}})
    # A real 3D conv net (random weights) so the responsiveness measurement runs a network with real cost.
    make_bundle(site, "seg-e2e-load", builder=build_conv_model, builder_kwargs={"width": 16},
                spacing=(1.5, 1.5, 1.5), patch=(64, 64, 64), role="single", family="load")
    win.refresh_models()
    return {"made_models": True}


def _diff_fraction(a: QImage, b: QImage, step: int = 3) -> float:
    n = d = 0
    for y in range(0, min(a.height(), b.height()), step):
        for x in range(0, min(a.width(), b.width()), step):
            ca, cb = a.pixelColor(x, y), b.pixelColor(x, y)
            n += 1
            d += abs(ca.red() - cb.red()) + abs(ca.green() - cb.green()) + abs(ca.blue() - cb.blue()) > 40
    return d / max(n, 1)


def _ticks_before(beat: GuiHeartbeat, seconds: float) -> int:
    """Number of heartbeat gaps that ended before ``seconds`` after the heartbeat started."""
    t, n = 0.0, 0
    for g in beat.gaps_ms:
        t += g / 1000.0
        if t > seconds:
            break
        n += 1
    return n


def _grab_widget(win, widget) -> QImage:
    shot = QGuiApplication.primaryScreen().grabWindow(win.winId()).toImage()
    tl = widget.mapTo(win, QPoint(0, 0))
    return shot.copy(tl.x(), tl.y(), widget.width(), widget.height())


def main(out_dir: str, study_arg: str = "") -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    res: dict[str, object] = {"platform": QGuiApplication.platformName()}
    win = MainWindow()
    win.resize(1400, 880)
    win.show()
    _wait(app, 0.5)
    res.update(_ensure_models(win))
    ws = win.workspaces["imaging"]
    study = _study(study_arg)
    res["study"] = study.name
    win.open_path(study)
    res["study_loaded"] = _wait(app, 120, lambda: ws.state.volume is not None and not win.runner.busy)
    _wait(app, 1.0)
    view3d = ws.view3d
    res["render_shape"] = list(view3d.scene.render_shape or [])
    res["software_gl"] = view3d.software_gl()
    view3d.preset_combo.setCurrentText("Off")
    _wait(app, 0.5)
    view3d.render_now()
    empty3d = _grab_widget(win, view3d.interactor)
    view3d.preset_combo.setCurrentText("CT soft tissue")
    _wait(app, 1.0)
    view3d.render_now()
    vr3d = _grab_widget(win, view3d.interactor)
    vr3d.save(str(out / "imaging_3d_volume.png"))
    res["volume_rendering_changed_fraction"] = round(_diff_fraction(empty3d, vr3d), 3)
    grab_window(win, out / "imaging_opened.png")

    # Segment while a heartbeat measures the GUI thread. The job title and progress show in the status bar.
    entries = ws.segment_panel.entries()
    load = next((e for e in entries if e.card.id == "seg-e2e-load"), None)
    beat = GuiHeartbeat(10)
    progress: list[float] = []
    marks: list[tuple[float, str]] = []
    win.runner.progressed.connect(lambda p: progress.append(p.fraction or 0.0))
    win.runner.progressed.connect(lambda p: marks.append((round(time.perf_counter() - t0, 3), p.message)))
    tiny = next((e for e in entries if e.card.id == "seg-e2e-tiny"), None)
    if tiny is not None:  # the made models, even when other bundles are installed
        ws.segment_panel.model_combo.setCurrentIndex(entries.index(tiny))
    timing_entry = load or ws.segment_panel.current_entry()
    res["timed_model"] = timing_entry.card.id
    from medpriv_desktop.core.app.context import SessionFactory

    res["inference_threads"] = SessionFactory.from_settings(win.settings).threads
    beat.start()
    t0 = time.perf_counter()
    ws.run_segmentation(timing_entry)
    _wait(app, 0.3)
    res["status_visible_during_job"] = win.job_status.isVisible() and win.runner.busy
    finished = {"t": None}
    win.runner.finished.connect(lambda: finished.__setitem__("t", time.perf_counter()))
    ok = _wait(app, 500, lambda: finished["t"] is not None)
    beat.stop()
    res["segmentation_finished"] = ok
    res["segmentation_seconds"] = round(time.perf_counter() - t0, 2)
    res["heartbeat_during_segmentation"] = beat.summary()
    res["progress_reports"] = len(progress)
    res["stalls"] = beat.stalls
    # Stalls that began before the result reached the window happened while the job ran; later ones are the
    # display of the result (label maps, tables, a 3D frame).
    shown = getattr(ws, "result_shown_at", time.perf_counter()) - beat._t0
    # A stall that ends after the result arrived is the display of the result (the callback runs inside it).
    running = [(start, g) for (start, g) in beat.stalls if start + g / 1000.0 <= shown]
    res["max_gap_while_job_ran_ms"] = round(max([g for g in beat.gaps_ms[: _ticks_before(beat, shown)]] or [0]), 1)
    res["stalls_while_job_ran"] = running
    res["stalls_showing_result"] = [(s_, g) for (s_, g) in beat.stalls if s_ + g / 1000.0 > shown]
    res["progress_marks"] = marks[:8] + marks[-4:]
    if load is not None and tiny is not None:  # now the meaningful (tiny) model for the pictures
        ws.run_segmentation(tiny)
        _wait(app, 200, lambda: not win.runner.busy and ws.state.source.get("model_id") == tiny.card.id)
    _wait(app, 0.5)
    st = ws.state
    res["structures"] = sorted(st.names.values())
    res["table_rows"] = ws.structures.table.rowCount()
    # Centre on the largest structure other than the body and probe one of its voxels in the axial view.
    counts = {v: int((st.labels == v).sum()) for v in st.names}
    target = max(counts, key=counts.get) if counts else None
    rows = [v for v in ws.structures.values() if counts.get(v, 0) > 0]  # greyed rows: structures not found
    bony = [v for v in rows if st.names[v] in ("bone", "vertebrae")] or rows
    if bony:
        ws.structures._on_table_cell_clicked(rows.index(bony[0]), 0)
        target = bony[0]
    _wait(app, 0.6)
    view = ws.view
    from medpriv_desktop.core.imaging.display import slice_2d

    if target is not None and not (slice_2d(st.labels, 2, view.index) == target).any():
        # The centroid of a hollow or segmented structure (a vertebral column) may fall between its parts:
        # go to the axial slice holding most of it.
        per_k = (st.labels == target).sum(axis=(0, 1))
        st.set_cursor((st.cursor[0], st.cursor[1], int(np.argmax(per_k))))
        _wait(app, 0.4)
    lab2d = slice_2d(st.labels, 2, view.index)
    # Probe inside the structure (all 3x3 neighbours labelled, so smoothing does not mix in grey) and away from
    # the crosshair lines drawn through the cursor.
    inside = lab2d == target
    core = inside.copy()
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            core &= np.roll(np.roll(inside, dr, 0), dc, 1)
    from medpriv_desktop.core.imaging.display import voxel_to_display

    ccol, crow = voxel_to_display(2, tuple(st.cursor), st.image.shape)
    def away(mask):
        return [(r, c) for r, c in np.argwhere(mask) if abs(c + 0.5 - ccol) > 3 and abs(r + 0.5 - crow) > 3]

    hits = away(core) or away(inside)
    if not hits:  # a small structure under the crosshair: hide the crosshair lines for the probe
        ws.crosshair_check.setChecked(False)
        _wait(app, 0.3)
        hits = [tuple(x) for x in np.argwhere(core)] or [tuple(x) for x in np.argwhere(inside)]
    res["overlay_target"] = st.names.get(target)
    shot = QGuiApplication.primaryScreen().grabWindow(win.winId()).toImage()
    ws.crosshair_check.setChecked(True)
    if len(hits):
        r, c = hits[len(hits) // 2]
        p = view.image_label.mapTo(win, view.pixel_to_canvas(c + 0.5, r + 0.5).toPoint())
        px = shot.pixelColor(p.x(), p.y())
        res["overlay_pixel"] = [px.red(), px.green(), px.blue()]
        res["overlay_probe_interior"] = bool(core[r, c])
        composed = view.composed()[r, c].astype(int)
        from medpriv_desktop.core.imaging.display import window_to_uint8

        grey = int(window_to_uint8(slice_2d(st.image, 2, view.index), st.level, st.width)[r, c])
        on_screen = np.array([px.red(), px.green(), px.blue()])
        res["overlay_expected"] = composed.tolist()
        res["overlay_grey_without_label"] = grey
        # The overlay changed the pixel (towards the structure's colour) and the screen shows that colour.
        res["overlay_tinted"] = bool(np.abs(composed - grey).sum() > 20 and np.abs(on_screen - composed).max() < 40)
    # The 3D view: surfaces only, translucent skin.
    view3d.build_pending_surfaces()
    view3d.preset_combo.setCurrentText("Off")
    view3d.opacity_slider.setValue(45)
    view3d.reset_camera()
    _wait(app, 1.0)
    view3d.render_now()
    surf3d = _grab_widget(win, view3d.interactor)
    surf3d.save(str(out / "imaging_3d_surfaces.png"))
    res["surface_actors"] = len(view3d.scene.surfaces)
    res["surfaces_changed_fraction"] = round(_diff_fraction(empty3d, surf3d), 3)
    centre = surf3d.pixelColor(surf3d.width() // 2, surf3d.height() // 2)
    res["centre_3d_pixel"] = [centre.red(), centre.green(), centre.blue()]
    # The picture for people: the body outline hidden so the bone overlay and surfaces stand out.
    body = [v for v in rows if st.names[v] in ("soft_tissue", "body")]
    for v in body:
        st.set_visible(v, False)
    view3d.preset_combo.setCurrentText("CT bone")
    _wait(app, 0.8)
    grab_window(win, out / "imaging.png")
    written = ws.save_screenshots(out / "views")
    # Student against teacher: difference overlay and side by side (only with the tiny models, or when asked,
    # since a full-size teacher takes minutes on a laptop CPU).
    student = ws.segment_panel.current_entry()
    teacher = ws.segment_panel.teacher_for(student)
    if teacher is not None and (res["made_models"] or os.environ.get("MEDPRIV_E2E_COMPARE")):
        ws.run_comparison(student, teacher)
        _wait(app, 600, lambda: not win.runner.busy and ws.last_compare is not None)
        run = ws.last_compare
        res["compare_mean_dice"] = None if run is None else run.mean_dice
        res["compare_seconds"] = None if run is None else [run.student.seconds, run.teacher.seconds]
        ws.segment_panel.mode_group.button(1).setChecked(True)
        _wait(app, 0.5)
        grab_window(win, out / "imaging_compare_difference.png")
        res["difference_voxels"] = int((st.diff_labels > 0).sum()) if st.diff_labels is not None else 0
        ws.segment_panel.mode_group.button(2).setChecked(True)
        _wait(app, 0.5)
        grab_window(win, out / "imaging_compare_side_by_side.png")
        ws.segment_panel.mode_group.button(0).setChecked(True)
    res["view_screenshots"] = [p.name for p in written]
    QTimer.singleShot(0, win.close)
    _wait(app, 0.5)
    (out / "imaging_e2e.json").write_text(json.dumps(res, indent=2))
    good = (res["platform"] == "xcb" and res["study_loaded"] and ok and res.get("overlay_tinted")
            and res["surface_actors"] > 0 and res["surfaces_changed_fraction"] > 0.03
            and res["volume_rendering_changed_fraction"] > 0.03)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""))
