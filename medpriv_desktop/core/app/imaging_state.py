"""The state of one open study that every Imaging view binds to: the study, the label maps, cursor, window, overlay
settings and the edit history. A plain evented model (no Qt): the window observes it, and a headless caller drives a
whole imaging workflow with it (open, segment through ``core.app``, edit, statistics, export).

Plain data plus change events (the napari / glue pattern, :class:`~medpriv_desktop.core.events.Event`): observers
read the fields when an event fires and change them only through the setters, so three slice views, the 3D view and
the tables stay in step without knowing each other. Arrays are held in canonical RAS voxel order (see
:mod:`medpriv_desktop.core.imaging.display`); :meth:`labelmap` converts the label array back to the study's own grid
for export.

What the user chose to see belongs to the study, not to one result: structures hidden (in every view, or in 3D only)
stay hidden when another result of the same study arrives (a second run, a comparison), matched by name; the body is
an outline in the slices and hidden in 3D until asked for; the palette is the card's or a colour-blind-safe one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medpriv_desktop.core.events import Event
from medpriv_desktop.core.imaging.display import (BODY_NAMES, CT_PRESETS, DIFF_COLORS, DIFF_NAMES, auto_window,
                                                  colour_blind_colors, difference_labels, palette_color)
from medpriv_desktop.core.imaging.editing import EditHistory, paint_disc
from medpriv_desktop.core.imaging.volume import LabelMap, Volume, apply_reorient, reorient_transform, undo_reorient


class ImagingState:
    """Shared state of one open study (one Imaging workspace, or one headless workflow).

    Events: ``study_changed()``; ``labels_changed()`` (a new label array, or none: redraw everything, rebuild
    surfaces); ``labels_edited(values)`` (the set of label values a brush stroke, undo or redo changed);
    ``cursor_changed()``; ``window_changed()``; ``overlay_changed()`` (visibility, opacity, palette or overlay mode).
    """

    def __init__(self) -> None:
        self.study_changed = Event("study_changed")
        self.labels_changed = Event("labels_changed")
        self.labels_edited = Event("labels_edited")
        self.cursor_changed = Event("cursor_changed")
        self.window_changed = Event("window_changed")
        self.overlay_changed = Event("overlay_changed")
        self.volume: Volume | None = None  # as read (export goes back to this grid)
        self.volume_ras: Volume | None = None
        self.labels: np.ndarray | None = None  # RAS order, uint16
        self.names: dict[int, str] = {}
        self.colors: dict[int, tuple[int, int, int]] = {}
        self.visible: dict[int, bool] = {}
        #: Names the user hid (everywhere) and names hidden in 3D only; both survive a new result of the study.
        self.hidden_names: set[str] = set()
        self.hidden_3d_names: set[str] = set(BODY_NAMES)
        #: Label values drawn as an outline in the slices (the body).
        self.outline: set[int] = set()
        self.palette = "card"  # "card" | "colour-blind"
        self._card_colors: dict[int, tuple[int, int, int]] = {}
        self.opacity = 0.4
        self.compare_labels: np.ndarray | None = None  # the teacher's result in a comparison (RAS)
        self.diff_labels: np.ndarray | None = None
        self.overlay_mode = "result"  # "result" | "difference"
        self.cursor = [0, 0, 0]
        self.level, self.width = CT_PRESETS["Soft tissue"]
        self.history = EditHistory()
        self.source: dict[str, Any] = {}  # where the labels came from: model id, file...
        self._perm: tuple[int, int, int] = (0, 1, 2)
        self._flips: tuple[bool, bool, bool] = (False, False, False)

    # -- study ------------------------------------------------------------------------------------------------

    @property
    def image(self) -> np.ndarray | None:
        """The study's voxels in RAS order (None before a study is open)."""
        return None if self.volume_ras is None else self.volume_ras.array

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size (mm) along the RAS-ordered axes."""
        return (1.0, 1.0, 1.0) if self.volume_ras is None else self.volume_ras.spacing

    def set_study(self, volume: Volume) -> None:
        """Show a new study: RAS copy, cursor at the centre, window from the modality; drops any labels."""
        self._perm, self._flips = reorient_transform(volume.orientation_codes(), "RAS")
        self.volume = volume
        self.volume_ras = volume.reoriented("RAS")
        self.cursor = [n // 2 for n in self.volume_ras.shape]
        if volume.modality == "CT":
            self.level, self.width = CT_PRESETS["Soft tissue"]
        else:
            self.level, self.width = auto_window(self.volume_ras.array)
        self.labels = None
        self.compare_labels = self.diff_labels = None
        self.overlay_mode = "result"
        self.names, self.colors, self.visible, self.source = {}, {}, {}, {}
        self.hidden_names, self.hidden_3d_names, self.outline = set(), set(BODY_NAMES), set()
        self.history.clear()
        self.study_changed.emit()
        self.labels_changed.emit()

    # -- labels -----------------------------------------------------------------------------------------------

    def to_ras(self, array: np.ndarray) -> np.ndarray:
        """An array on the study's own grid, reordered like :attr:`image`."""
        return np.ascontiguousarray(apply_reorient(array, self._perm, self._flips))

    def set_labels(self, labelmap: LabelMap, source: dict[str, Any] | None = None) -> None:
        """Show a label map on the study's grid (a model result or an opened file); resets undo and comparison."""
        if self.volume is None or labelmap.shape != self.volume.shape:
            raise ValueError("label map is not on the study's grid")
        self.labels = self.to_ras(labelmap.array).astype(np.uint16, copy=False)
        values = set(labelmap.labels) | set(labelmap.present_values())
        values.discard(0)
        self.names = {v: labelmap.labels.get(v, f"label_{v}") for v in sorted(values)}
        self._card_colors = {v: tuple(labelmap.colors.get(v) or palette_color(v)) for v in self.names}
        self.outline = {v for v, n in self.names.items() if n.lower() in BODY_NAMES}
        self.colors = self._palette_colors()
        self.visible = {v: n not in self.hidden_names for v, n in self.names.items()}
        self.compare_labels = self.diff_labels = None
        self.overlay_mode = "result"
        self.source = dict(source or {})
        self.history.clear()
        self.labels_changed.emit()

    def set_comparison(self, teacher: LabelMap) -> None:
        """Hold a second result on the same grid (matched by name) and its difference map."""
        if self.labels is None:
            raise ValueError("no result to compare with")
        inv = {n: v for v, n in self.names.items()}
        arr = self.to_ras(teacher.array)
        lut = np.zeros(int(max(arr.max(), max(teacher.labels, default=0))) + 1, np.uint16)
        for v, n in teacher.labels.items():
            if v < len(lut) and n in inv:
                lut[v] = inv[n]
        self.compare_labels = lut[arr]
        self.diff_labels = difference_labels(self.labels, self.compare_labels)
        self.labels_changed.emit()

    def set_overlay_mode(self, mode: str) -> None:
        """"result" shows the labels, "difference" where the two results of a comparison disagree."""
        if mode == "difference" and self.diff_labels is None:
            mode = "result"
        self.overlay_mode = mode
        self.overlay_changed.emit()

    def overlay(self, source: str = "labels") -> tuple[np.ndarray | None, dict[int, tuple[int, int, int]],
                                                     dict[int, bool]]:
        """(label array, colours, visibility) that a slice view draws for ``source`` ("labels" or "compare")."""
        if source == "compare":
            return self.compare_labels, self.colors, self.visible
        if self.overlay_mode == "difference" and self.diff_labels is not None:
            return self.diff_labels, DIFF_COLORS, {v: True for v in DIFF_NAMES}
        return self.labels, self.colors, self.visible

    def labelmap(self, ras: bool = False) -> LabelMap | None:
        """The current (possibly edited) labels as a LabelMap on the study's grid, or on the RAS grid."""
        if self.labels is None or self.volume is None:
            return None
        ref = self.volume_ras if ras else self.volume
        arr = self.labels if ras else np.ascontiguousarray(undo_reorient(self.labels, self._perm, self._flips))
        top = int(arr.max()) if arr.size else 0
        arr = arr.astype(np.uint8 if top < 256 else np.uint16)
        return LabelMap.like(ref, arr, {0: "background", **self.names}, dict(self.colors))

    def set_visible(self, value: int, shown: bool) -> None:
        """Show or hide one structure everywhere (remembered by name for the study's next results)."""
        self.visible[value] = bool(shown)
        name = self.names.get(value)
        if name is not None:
            (self.hidden_names.discard if shown else self.hidden_names.add)(name)
        self.overlay_changed.emit()

    def shown_in_3d(self, value: int) -> bool:
        """Visible and not hidden from the 3D view (the body is, until the user shows it there)."""
        return self.visible.get(value, True) and self.names.get(value) not in self.hidden_3d_names

    def set_shown_in_3d(self, value: int, shown: bool) -> None:
        """Show or hide one structure's surface in the 3D view only."""
        name = self.names.get(value, f"label_{value}")
        (self.hidden_3d_names.discard if shown else self.hidden_3d_names.add)(name)
        self.overlay_changed.emit()

    def _palette_colors(self) -> dict[int, tuple[int, int, int]]:
        if self.palette == "colour-blind":
            return colour_blind_colors(list(self.names), self.outline)
        return dict(self._card_colors)

    def set_palette(self, palette: str) -> None:
        """``"card"`` (the model's colours) or ``"colour-blind"`` (Okabe-Ito / Tol) for every view."""
        if palette not in ("card", "colour-blind"):
            raise ValueError(f"unknown palette {palette!r}")
        self.palette = palette
        for v in self.names:  # painted labels added since keep a colour
            self._card_colors.setdefault(v, palette_color(v))
        self.colors = self._palette_colors()
        self.overlay_changed.emit()

    def set_opacity(self, opacity: float) -> None:
        """Overlay opacity 0..1 on the slice views."""
        self.opacity = float(np.clip(opacity, 0.0, 1.0))
        self.overlay_changed.emit()

    def notify_edited(self, values: set[int]) -> None:
        """Tell the views that brush strokes (or undo/redo) changed these label values."""
        self.diff_labels = (difference_labels(self.labels, self.compare_labels)
                            if self.compare_labels is not None and self.labels is not None else None)
        self.labels_edited.emit(set(values))

    # -- hand corrections -------------------------------------------------------------------------------------

    def begin_stroke(self, axis: int, index: int) -> None:
        """Start a brush stroke in slice ``index`` across ``axis`` (one undo step however many dabs it takes)."""
        if self.labels is not None:
            self.history.begin(self.labels, axis, index)

    def paint(self, axis: int, centre: tuple[int, int, int], radius_mm: float, value: int,
              only_value: int | None = None) -> int:
        """One dab of the brush (RAS voxel ``centre``, in its slice across ``axis``): set voxels within
        ``radius_mm`` to ``value`` (0 erases; ``only_value`` limits the change to one structure); returns the
        number of voxels changed and tells the observers which structures changed."""
        if self.labels is None:
            return 0
        touched: set[int] = set()
        n = paint_disc(self.labels, axis, tuple(centre), radius_mm, self.spacing, value, only_value, touched)
        if n:
            if value and value not in self.names:  # a structure painted by hand gets a name
                self.names[value] = f"label_{value}"
            self.notify_edited(touched)
        return n

    def end_stroke(self) -> bool:
        """Close the stroke; True when it changed something (then it can be undone)."""
        return self.labels is not None and self.history.end(self.labels)

    def undo(self) -> set[int]:
        """Revert the last stroke; the label values it touched (empty when there was nothing to undo)."""
        if self.labels is None or not self.history.can_undo:
            return set()
        values = self.history.undo(self.labels)
        self.notify_edited(values)
        return values

    def redo(self) -> set[int]:
        """Re-apply the last undone stroke; the label values it touched."""
        if self.labels is None or not self.history.can_redo:
            return set()
        values = self.history.redo(self.labels)
        self.notify_edited(values)
        return values

    # -- cursor and window ------------------------------------------------------------------------------------

    def set_cursor(self, ijk: tuple[int, int, int] | list[int]) -> None:
        """Move the crosshair (clipped into the volume)."""
        if self.image is None:
            return
        new = [int(np.clip(int(round(c)), 0, n - 1)) for c, n in zip(ijk, self.image.shape)]
        if new != self.cursor:
            self.cursor = new
            self.cursor_changed.emit()

    def centre_on_world(self, xyz_mm: tuple[float, float, float]) -> None:
        """Move the crosshair to a RAS+ position in mm."""
        if self.volume_ras is not None:
            self.set_cursor(tuple(np.round(self.volume_ras.world_to_voxel(np.asarray(xyz_mm))).astype(int)))

    def set_window(self, level: float, width: float) -> None:
        """Change window/level of every slice view."""
        self.level, self.width = float(level), max(float(width), 1.0)
        self.window_changed.emit()

    def world_at(self, ijk: tuple[int, int, int]) -> np.ndarray:
        """RAS+ mm of a voxel of the RAS-ordered image."""
        assert self.volume_ras is not None
        return self.volume_ras.voxel_to_world(np.asarray(ijk, float))
