"""PHI highlighting: a colour per tag group, the legend, and a text pane that colours spans and explains them on hover.

Colours are chosen per tag (``NAME``, ``DATE``, ``LOCATION`` ...) rather than per fine category, so a legend of
eight entries covers all 29 categories; the tooltip names the fine category. Rejected spans keep a grey strike-out so
the reviewer can still see (and undo) them; hand-marked spans get an underline.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QToolTip, QWidget

from medpriv_desktop.core.notes.spans import CATEGORIES, PhiSpan
from medpriv_desktop.core.app.note_review import MANUAL, REJECTED, NoteReview

#: Tag -> background colour (pastel, readable under black text, distinct for common colour-vision deficiencies).
TAG_COLOURS: dict[str, str] = {
    "NAME": "#f4a6a6",
    "DATE": "#9fc5f8",
    "AGE": "#ffe08a",
    "LOCATION": "#a8e0a0",
    "PHONE": "#f9c38d",
    "EMAIL": "#f9c38d",
    "URL": "#f9c38d",
    "IP": "#f9c38d",
    "ID": "#d3b8f5",
}
LEGEND: tuple[tuple[str, str], ...] = (
    ("Names", "NAME"), ("Dates", "DATE"), ("Ages", "AGE"), ("Locations", "LOCATION"),
    ("Contact", "PHONE"), ("IDs", "ID"),
)
REJECTED_COLOUR = "#d0d0d0"


def colour_for(category: str) -> QColor:
    """Background colour of a PHI category."""
    return QColor(TAG_COLOURS.get(CATEGORIES[category].tag, "#e0e0e0"))


def describe(span: PhiSpan, status: str = "") -> str:
    """Tooltip text of a span: category, tag, score and recognizer (no note text)."""
    who = "marked by the reviewer" if status == MANUAL else f"found by {span.source or 'unknown recognizer'}"
    state = {"rejected": " · rejected (kept in the output)", "manual": " · added by hand",
             "accepted": " · accepted by the reviewer"}.get(status, "")
    return (f"{span.category} [{span.tag}] · score {span.score:.2f} · {who}{state}\n"
            f"HIPAA {span.hipaa}")


class LegendWidget(QWidget):
    """Coloured chips naming each tag group, plus the rejected/hand-marked styles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(QLabel("Legend:"))
        self.chips: dict[str, QLabel] = {}
        for text, tag in LEGEND:
            chip = QLabel(text)
            chip.setStyleSheet(f"background: {TAG_COLOURS[tag]}; color: black; border-radius: 3px; padding: 1px 6px;")
            lay.addWidget(chip)
            self.chips[tag] = chip
        rej = QLabel("rejected")
        rej.setStyleSheet(f"background: {REJECTED_COLOUR}; color: #555; text-decoration: line-through;"
                          "border-radius: 3px; padding: 1px 6px;")
        man = QLabel("added by hand")
        man.setStyleSheet("border-bottom: 2px solid #333; padding: 1px 6px;")
        lay.addWidget(rej)
        lay.addWidget(man)
        lay.addStretch(1)


def _selection(edit: QPlainTextEdit, start: int, end: int, fmt: QTextCharFormat) -> QTextEdit.ExtraSelection:
    sel = QTextEdit.ExtraSelection()
    cur = QTextCursor(edit.document())
    cur.setPosition(start)
    cur.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    sel.cursor = cur
    sel.format = fmt
    return sel


class _HoverFilter(QObject):
    """Shows the tooltip of the span under the mouse of a :class:`PhiTextEdit`'s viewport."""

    def __init__(self, edit: PhiTextEdit) -> None:
        super().__init__(edit)  # the edit is reached through parent(): no Python reference cycle with it

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API name
        """Answer ToolTip events; let everything else through."""
        if ev.type() != QEvent.Type.ToolTip:
            return False
        edit = self.parent()
        text = edit.tooltip_at(edit.cursorForPosition(ev.pos()).position())
        if text:
            QToolTip.showText(ev.globalPos(), text, edit)
        else:
            QToolTip.hideText()
        return True


class PhiTextEdit(QPlainTextEdit):
    """A plain-text pane that colours PHI spans and shows what each one is on hover.

    ``show_review`` colours the input from a :class:`NoteReview`; ``show_regions`` colours replacement regions of
    the output. ``tooltip_at(offset)`` is what the hover shows (tests read it directly).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review: NoteReview | None = None
        self.regions: list[tuple[PhiSpan, int, int]] = []
        # Hover help comes from an event filter on the viewport rather than a Python override of viewportEvent,
        # which PySide calls for every paint and resize event (and for events that reach a widget being torn down).
        self._hover = _HoverFilter(self)
        self.viewport().installEventFilter(self._hover)

    def clear_highlights(self) -> None:
        """Remove every highlight."""
        self.review = None
        self.regions = []
        self.setExtraSelections([])

    def show_review(self, review: NoteReview) -> None:
        """Colour the spans of ``review`` (which must describe this pane's current text)."""
        self.review = review
        self.regions = []
        sels = []
        for it in review.items:
            fmt = QTextCharFormat()
            if it.status == REJECTED:
                fmt.setBackground(QColor(REJECTED_COLOUR))
                fmt.setFontStrikeOut(True)
            else:
                fmt.setBackground(colour_for(it.span.category))
                fmt.setForeground(QColor("black"))
                if it.status == MANUAL:
                    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
                    fmt.setUnderlineColor(QColor("#222222"))
                    fmt.setFontWeight(600)
            sels.append(_selection(self, it.span.start, it.span.end, fmt))
        self.setExtraSelections(sels)

    def show_regions(self, regions: list[tuple[PhiSpan, int, int]]) -> None:
        """Colour replacement regions ``(span, start, end)`` of an output text."""
        self.review = None
        self.regions = list(regions)
        sels = []
        for span, a, b in regions:
            fmt = QTextCharFormat()
            fmt.setBackground(colour_for(span.category))
            fmt.setForeground(QColor("black"))
            sels.append(_selection(self, a, b, fmt))
        self.setExtraSelections(sels)

    def highlight_background(self, offset: int) -> QColor | None:
        """Background colour of the highlight covering ``offset`` (None when plain): tests check colours by it."""
        for sel in self.extraSelections():
            if sel.cursor.selectionStart() <= offset < sel.cursor.selectionEnd():
                return sel.format.background().color()
        return None

    def tooltip_at(self, offset: int) -> str:
        """The hover text for character ``offset`` ('' when no span is there)."""
        if self.review is not None:
            it = self.review.at(offset)
            return describe(it.span, it.status) if it else ""
        for span, a, b in self.regions:
            if a <= offset < b:
                return f"replaced {span.category} [{span.tag}] · score {span.score:.2f} · {span.source or 'reviewer'}"
        return ""

    def offset_at_cursor(self) -> int:
        """Character offset of the text cursor."""
        return self.textCursor().position()

    def selected_range(self) -> tuple[int, int] | None:
        """``(start, end)`` of the selection, or None."""
        cur = self.textCursor()
        return (cur.selectionStart(), cur.selectionEnd()) if cur.hasSelection() else None

