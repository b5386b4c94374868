"""What the Imaging workspace shows must follow the study in effect (a mixin of ``ImagingWorkspace``).

- the Window box names the preset whose window is in effect, or ``Custom`` after a right-drag, never the preset the
  drag started from;
- the readout line is cleared when another study opens (the last study's "-107 HU" is not this study's);
- before a model runs, the study is checked against the model's card (``core/imaging/study_fit.py``): a modality
  the card lacks is refused in one sentence, a body region that does not fit asks the user first.
"""

from __future__ import annotations

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.display import CUSTOM_WINDOW, window_preset_name
from medpriv_desktop.gui.notify import notify_error, notify_info

__all__ = ["CUSTOM_WINDOW", "NO_READOUT", "FollowStudyMixin"]

#: The readout line before the mouse has been over this study.
NO_READOUT = "Move the mouse over a view to read the voxel under it."


class FollowStudyMixin:
    """Mixed into ``ImagingWorkspace`` (needs ``state``, ``preset_combo``, ``confirm_fit``)."""

    def _on_state_window_changed(self) -> None:
        """The Window box names the preset in effect: a CT preset, MR automatic, or Custom after a drag."""
        name = window_preset_name(self.state.level, self.state.width, getattr(self, "_mr_auto", None))
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

