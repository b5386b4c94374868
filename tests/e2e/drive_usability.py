"""Drive the real window under Xvfb for the usability checks of issue 21 and take the README screenshots.

Imaging: opens the generated demo CT, segments it with the bundled student (or shows the demo's reference labels
when no segmentation model is installed), and probes regions of the screen: inside the body the axial view shows
plain grey (the body is an outline), on its edge and inside an organ the overlay colour; the 3D view shows the organs
with the body hidden, and showing the body's surface covers them; the colour-blind palette reaches the screen; a
table row's jump is announced in the status bar. Notes: de-identifies a demo note with the real engine and probes a
highlight's colour on screen; runs the batch over the demo notes and opens one in the review view. Reports:
classifies a demo report (the model follows its words) and probes the bars. Writes ``usability_e2e.json`` and PNGs;
with ``--readme DIR`` it also writes imaging.png, notes.png, notes_synthesis.png and reports.png there
(main_window.png is the start-up view: ``medpriv-desktop --demo --screenshot``). Exit code 0 means every check passed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from medpriv_desktop.gui.main_window import MainWindow  # noqa: E402
from medpriv_desktop.gui.screenshot import grab_window  # noqa: E402
from tests.e2e._drive import wait as _wait  # noqa: E402


def _settle(app: QApplication) -> None:
    """Let queued layouts and paints reach the X server before a screenshot (the screen shows what was painted);
    the status bar's last message belongs to an earlier step of the drive, so it is cleared."""
    for w in app.topLevelWidgets():
        if hasattr(w, "statusBar"):
            w.statusBar().clearMessage()
    _wait(app, 0.6)


def _shot(win) -> QImage:
    return QGuiApplication.primaryScreen().grabWindow(win.winId()).toImage()


def _rgb(c: QColor) -> np.ndarray:
    return np.array([c.red(), c.green(), c.blue()], int)


def _close_boxes(app, win) -> None:
    """Close message boxes before a screenshot meant for people."""
    while win.message_box is not None:
        win.message_box.close()
        _wait(app, 0.1)


def _core(mask: np.ndarray) -> np.ndarray:
    core = mask.copy()
    for axis in (0, 1):
        for s in (-2, -1, 1, 2):
            core &= np.roll(mask, s, axis)
    return core


def drive_imaging(app, win, out: Path, res: dict) -> bool:
    from medpriv_desktop.core.demo import make_demo
    from medpriv_desktop.core.imaging.display import COLOUR_BLIND_PALETTE, slice_2d, window_to_uint8

    demo = make_demo()
    ws = win.workspaces["imaging"]
    win.open_path(demo / "demo_ct.nii.gz")
    if not _wait(app, 120, lambda: ws.state.volume is not None and not win.runner.busy):
        return False
    entry = ws.segment_panel.current_entry()
    if entry is not None:
        res["imaging_model"] = entry.card.id
        ws.run_segmentation(entry)
    else:
        res["imaging_model"] = "demo reference labels"
        ws.open_segmentation(demo / "demo_ct_reference_labels.nii.gz")
    if not _wait(app, 300, lambda: ws.state.labels is not None and not win.runner.busy):
        return False
    st, view = ws.state, ws.view
    body = next((v for v, n in st.names.items() if n in ("body", "soft_tissue")), None)
    organs = [v for v in st.names if v != body and (st.labels == v).sum() > 50]
    liver = next((v for v in organs if st.names[v] == "liver"), organs[0] if organs else None)
    res["structures"] = sorted(st.names.values())
    # Put the axial view on the slice with the most liver, away from the crosshair's lines.
    k = int(np.argmax((st.labels == liver).sum(axis=(0, 1))))
    st.set_cursor((0, 0, k))
    ws.crosshair_check.setChecked(False)
    _wait(app, 0.5)
    lab = slice_2d(st.labels, 2, view.index)
    grey = window_to_uint8(slice_2d(st.image, 2, view.index), st.level, st.width)
    shot = _shot(win)

    def screen_at(r: int, c: int) -> np.ndarray:
        p = view.image_label.mapTo(win, view.pixel_to_canvas(c + 0.5, r + 0.5).toPoint())
        return _rgb(shot.pixelColor(p.x(), p.y()))

    probes = {}
    if body is not None:
        inside = _core(lab == body)
        r, c = np.argwhere(inside)[len(np.argwhere(inside)) // 2]
        probes["body_inside_untinted"] = int(np.abs(screen_at(r, c) - int(grey[r, c])).max()) <= 12
        edge = (lab == body) & ~_core(lab == body)
        edge &= (np.roll(lab, 1, 0) == 0) | (np.roll(lab, -1, 0) == 0)  # the outer edge, against air
        er, ec = np.argwhere(edge)[len(np.argwhere(edge)) // 2]
        probes["body_edge_tinted"] = int(np.abs(screen_at(er, ec) - int(grey[er, ec])).sum()) > 40
    oc = _core(lab == liver)
    r, c = np.argwhere(oc)[len(np.argwhere(oc)) // 2]
    colour = np.array(st.colors[liver])
    on_screen = screen_at(r, c)
    expected = (1 - st.opacity) * int(grey[r, c]) + st.opacity * colour
    probes["organ_tinted_with_its_colour"] = int(np.abs(on_screen - expected).max()) <= 30
    res["axial_probes"] = probes
    ws.crosshair_check.setChecked(True)
    # 3D: the organs with the body hidden; the body's surface, when shown, covers them.
    v3 = ws.view3d
    v3.preset_combo.setCurrentText("Off")
    v3.build_pending_surfaces()
    v3.reset_camera()
    _wait(app, 0.8)
    v3.render_now()

    def surface_share() -> tuple[float, float]:
        """Shares of the 3D view's pixels that are lit surface (not the dark background) and bluish (lungs)."""
        img = _shot(win)
        tl = v3.interactor.mapTo(win, QPoint(0, 0))
        sub = img.copy(tl.x(), tl.y(), v3.interactor.width(), v3.interactor.height())
        px = np.array([_rgb(sub.pixelColor(x, y)) for y in range(0, sub.height(), 4) for x in range(0, sub.width(), 4)])
        lit = px.sum(1) > 200
        blue = (px[:, 2] > px[:, 0] + 50) & lit
        return float(lit.mean()), float(blue.mean())

    lit_hidden, blue_hidden = surface_share()
    res["body_surface_meshed_by_default"] = body in v3.scene.surfaces
    if body is not None:
        st.set_shown_in_3d(body, True)
        v3.build_pending_surfaces()
        _wait(app, 0.8)
        v3.render_now()
        lit_shown, blue_shown = surface_share()
        st.set_shown_in_3d(body, False)
        _wait(app, 0.5)
        v3.render_now()
        res["3d_lung_share_body_hidden_vs_shown"] = [round(blue_hidden, 4), round(blue_shown, 4)]
        res["3d_body_hides_organs"] = blue_hidden > 0.002 and blue_shown < blue_hidden / 2
    res["3d_lit_share"] = round(lit_hidden, 3)
    # A table row's jump is announced in the status bar.
    rows = ws.structures.values()
    ws.structures.table.cellActivated.emit(rows.index(liver), 0)
    _wait(app, 0.3)
    res["jump_announced"] = win.statusBar().currentMessage().startswith("Views centred on")
    # The colour-blind palette reaches the screen.
    ws.structures.palette_check.setChecked(True)
    st.set_cursor((0, 0, k))
    ws.crosshair_check.setChecked(False)
    _wait(app, 0.5)
    shot = _shot(win)
    expected = (1 - st.opacity) * int(grey[r, c]) + st.opacity * np.array(st.colors[liver])
    res["palette_on_screen"] = (tuple(st.colors[liver]) in COLOUR_BLIND_PALETTE
                                and int(np.abs(screen_at(r, c) - expected).max()) <= 30)
    ws.structures.palette_check.setChecked(False)
    ws.crosshair_check.setChecked(True)
    # For the pictures: the crosshair in the liver, so the coronal and sagittal views cut through the organs.
    ci, cj = np.argwhere(st.labels[:, :, k] == liver).mean(axis=0).round().astype(int).tolist()
    st.set_cursor((ci, cj, k))
    v3.preset_combo.setCurrentText("CT bone")
    _wait(app, 1.0)
    return all(probes.values()) and res.get("3d_body_hides_organs", True) and res["jump_announced"] \
        and res["palette_on_screen"] and not res["body_surface_meshed_by_default"]


def drive_notes(app, win, out: Path, res: dict, readme: Path | None) -> bool:
    from medpriv_desktop.core.demo import make_demo
    from medpriv_desktop.gui.notes.highlight import TAG_COLOURS

    demo = make_demo()
    ws = win.workspaces["notes"]
    note = sorted((demo / "notes").glob("*.txt"))[0]
    win.open_path(note)
    ws.deid.detect_button.click()
    if not _wait(app, 300, lambda: ws.deid.review is not None and not win.runner.busy):
        return False
    spans = ws.deid.review.active_spans()
    res["note_spans"] = len(spans)
    first = next(s for s in spans if s.tag in TAG_COLOURS)
    cur = ws.input_edit.textCursor()
    cur.setPosition(first.start + 1)
    ws.input_edit.setTextCursor(cur)
    _wait(app, 0.4)
    shot = _shot(win)
    p = ws.input_edit.viewport().mapTo(win, ws.input_edit.cursorRect(cur).center() + QPoint(3, 0))
    want = QColor(TAG_COLOURS[first.tag])
    got = shot.pixelColor(p.x(), p.y())
    res["highlight_on_screen"] = int(np.abs(_rgb(got) - _rgb(want)).sum()) <= 40
    if readme is not None:
        _settle(app)
        grab_window(win, readme / "notes.png")
    # Batch over the demo notes: every note listed with its counts; one opens in the review view.
    win.open_path(demo / "notes")
    ws.batch.run_button.click()
    done = _wait(app, 300, lambda: ws.batch.run is not None and not win.runner.busy)
    res["batch_listed"] = ws.batch.item_names() if done else []
    _close_boxes(app, win)
    ok_batch = done and len(res["batch_listed"]) == len(list((demo / "notes").glob("*.txt")))
    _settle(app)
    grab_window(win, out / "notes_batch.png")
    ws.batch.files_table.cellDoubleClicked.emit(1, 0)
    reviewed = _wait(app, 300, lambda: ws.tabs.currentWidget() is ws.deid and ws.deid.review is not None
                     and not win.runner.busy)
    res["batch_note_opened_for_review"] = reviewed and ws.input_edit.toPlainText() == (
        ws.batch.run.items[1].source.read_text(encoding="utf-8"))
    # Synthesis with the keyword method, for the README picture.
    ws.tabs.setCurrentWidget(ws.synth)
    ws.synth.method_combo.setCurrentIndex(ws.synth.method_combo.findData("keyword"))
    ws.synth.generate_button.click()
    synth = _wait(app, 300, lambda: ws.synth.result is not None and not win.runner.busy)
    res["synth_message"] = ws.synth.privacy_label.text()[:60] if synth else ""
    if synth:
        _close_boxes(app, win)
        _settle(app)
        grab_window(win, out / "notes_synthesis.png")
        res["synth_keywords_listed"] = ws.synth.keyword_list.count()
        if readme is not None:
            grab_window(win, readme / "notes_synthesis.png")
    ws.tabs.setCurrentWidget(ws.deid)
    return bool(res["highlight_on_screen"] and ok_batch and res["batch_note_opened_for_review"] and synth)


def drive_reports(app, win, out: Path, res: dict, readme: Path | None) -> bool:
    from medpriv_desktop.core.demo import make_demo
    from medpriv_desktop.gui.reports.bars import NEGATIVE_COLOUR, POSITIVE_COLOUR

    demo = make_demo()
    ws = win.workspaces["reports"]
    if ws.model_combo.count() == 0:
        res["reports_skipped"] = "no report model installed"
        return True
    win.open_path(demo / "reports" / "R002.txt")
    res["report_model"] = ws.model_combo.currentData()
    res["report_model_reason"] = ws.choice_label.text()
    ws.classify_button.click()
    if not _wait(app, 300, lambda: ws.result is not None and not win.runner.busy):
        return False
    bars = ws.result_panel.bars
    pos = next((i for i, r in enumerate(bars.rows) if r.assessed and r.decision), None)
    if pos is not None:
        bars.select(bars.rows[pos].label)
    _wait(app, 0.5)
    shot = _shot(win)
    probes = {}
    for i, r in enumerate(bars.rows):
        kind = "not_assessed" if not r.assessed else "positive" if r.decision else "negative"
        if kind in probes or (r.assessed and r.probability < 0.05):
            continue
        rect = bars.bar_rect(i)
        p = bars.mapTo(win, QPoint(int(rect.left()) + 3, int(rect.center().y())))
        want = {"positive": POSITIVE_COLOUR, "negative": NEGATIVE_COLOUR, "not_assessed": QColor("#f3f3f3")}[kind]
        probes[kind] = int(np.abs(_rgb(shot.pixelColor(p.x(), p.y())) - _rgb(want)).sum()) <= 40
    res["bar_probes"] = probes
    res["report_positives"] = ws.result.prediction.positives
    if readme is not None:
        _settle(app)
        grab_window(win, readme / "reports.png")
    return bool(probes) and all(probes.values())


def main(out_dir: str, readme_dir: str | None = None) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    readme = Path(readme_dir) if readme_dir else None
    app = QApplication(sys.argv[:1])
    res: dict[str, object] = {"platform": QGuiApplication.platformName()}
    win = MainWindow()
    win.resize(1400, 880)
    win.move(0, 0)
    win.show()
    _wait(app, 0.5)
    ok = {"imaging": drive_imaging(app, win, out, res)}
    _close_boxes(app, win)
    _settle(app)
    grab_window(win, out / "imaging.png")
    if readme is not None:
        grab_window(win, readme / "imaging.png")
    win.tabs.setCurrentWidget(win.workspaces["notes"])
    ok["notes"] = drive_notes(app, win, out, res, readme)
    _settle(app)
    grab_window(win, out / "notes.png")
    win.tabs.setCurrentWidget(win.workspaces["reports"])
    ok["reports"] = drive_reports(app, win, out, res, readme)
    _settle(app)
    grab_window(win, out / "reports.png")
    from medpriv_desktop.gui.notify import notifications

    res["ok"] = ok
    res["errors_shown"] = [n.text for n in notifications().history if n.level == "error"]
    win.close()
    _wait(app, 0.3)
    (out / "usability_e2e.json").write_text(json.dumps(res, indent=2, default=str))
    return 0 if all(ok.values()) and not res["errors_shown"] and res["platform"] == "xcb" else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    readme_arg = args[args.index("--readme") + 1] if "--readme" in args else None
    sys.exit(main(args[0], readme_arg))
