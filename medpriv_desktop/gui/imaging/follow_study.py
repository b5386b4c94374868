"""What the Imaging workspace shows must follow the study in effect (a mixin of ``ImagingWorkspace``).

- the Window box names the preset whose window is in effect, or ``Custom`` after a right-drag, never the preset the
  drag started from;
- the readout line is cleared when another study opens (the last study's "-107 HU" is not this study's);
- before a model runs, the study is checked against the model's card (``core/imaging/study_fit.py``): a modality
  the card lacks is refused in one sentence, a body region that does not fit asks the user first.
"""

from __future__ import annotations

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.gui.imaging.display import CT_PRESETS, MR_AUTO
from medpriv_desktop.gui.imaging.state import ImagingState
from medpriv_desktop.gui.notify import notify_error, notify_info

#: The readout line before the mouse has been over this study.
NO_READOUT = "Move the mouse over a view to read the voxel under it."
CUSTOM_WINDOW = "Custom"


def window_preset_name(state: ImagingState, mr_auto: tuple[float, float] | None = None) -> str:
    """The preset whose window is in effect (within half a unit), else ``Custom``; ``mr_auto`` is the study's
    automatic MR window (computed once per study, not on every drag step)."""
    lw = (state.level, state.width)
    presets = dict(CT_PRESETS)
    if mr_auto is not None:
        presets[MR_AUTO] = mr_auto
    for name, (level, width) in presets.items():
        if abs(lw[0] - level) < 0.5 and abs(lw[1] - width) < 0.5:
            return name
    return CUSTOM_WINDOW


class FollowStudyMixin:
    """Mixed into ``ImagingWorkspace`` (needs ``state``, ``preset_combo``, ``confirm_fit``)."""

    def _on_state_window_changed(self) -> None:
        """The Window box names the preset in effect: a CT preset, MR automatic, or Custom after a drag."""
        name = window_preset_name(self.state, getattr(self, "_mr_auto", None))
        if self.preset_combo.findText(name) < 0:
            self.preset_combo.addItem(name)
        self.preset_combo.setCurrentText(name)

    def study_fits(self, *entries) -> bool:
        """Check the open study against each model's card; on a mismatch ask whether to run anyway."""
        from medpriv_desktop.core.imaging.study_fit import check_study

        vol = self.state.volume_ras
        if vol is None:
            return False
        problems = []
        for e in entries:
            fit = check_study(vol, e.card)
            if not fit.modality_ok:  # the model cannot read this modality at all: nothing to ask
                notify_error(InputError(fit.problems[0], hint="choose a model made for this modality"))
                return False
            problems += [p for p in fit.problems if p not in problems]
        if not problems:
            return True
        if self.confirm_fit(" ".join(problems) + "\n\nRun the model anyway? Its result would not be meaningful."):
            return True
        notify_info("Segmentation not started: " + problems[0])
        return False

