"""Per-label probability bars with the decision threshold marked, the decision, and the rule labeler beside it.

One row per label: name, a bar filled to the probability (red when the label is decided positive, grey otherwise), a
black tick at the label's threshold, the comparison that decided it written out ("0.62 ≥ 0.50 positive"), and, with
a second opinion, the rule labeler's value. A label the model does not support, or any label of an empty report, is
"not assessed" (no bar, no decision): never shown as a negative. Rows where model and rules disagree get an amber
background and a "≠" mark. Clicking a row (or Up/Down with the keyboard) selects the label; its evidence sentences
are then highlighted in the report, for negative labels too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

POSITIVE_COLOUR = QColor("#d9534f")
NEGATIVE_COLOUR = QColor("#9aa4ad")
DISAGREE_COLOUR = QColor("#ffe6a8")
SELECTED_COLOUR = QColor("#dbe9ff")
RULE_TEXT = {1: "rules: positive", 0: "rules: negative", -1: "rules: uncertain", None: "rules: not mentioned"}


@dataclass
class BarRow:
    """What one row shows."""

    label: str
    probability: float | None
    threshold: float | None
    decision: int
    rule_value: int | None = None
    has_rules: bool = False
    disagree: bool = False
    #: Why the label has no decision ("not supported by this model", "empty report"); None when assessed.
    not_assessed: str | None = None

    @property
    def assessed(self) -> bool:
        """The model gave this label a probability and a decision."""
        return self.not_assessed is None and self.probability is not None and self.threshold is not None

    def status_text(self) -> str:
        """The decision with the comparison that made it, or "not assessed"."""
        if not self.assessed:
            return "not assessed"
        p, t = self.probability, self.threshold
        return f"{p:.2f} {'≥' if self.decision else '<'} {t:.2f}  {'POSITIVE' if self.decision else 'negative'}"


class ProbabilityBarsWidget(QWidget):
    """Paints :class:`BarRow` rows; emits ``label_selected(name)`` on click."""

    label_selected = Signal(str)
    ROW_H = 24
    NAME_W = 210
    BAR_W = 220
    STATUS_W = 170

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[BarRow] = []
        self.selected: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Up/Down walk the labels without a mouse
        self.setToolTip("Probability, threshold (black tick) and decision per label; click or use Up/Down to show a "
                        "label's evidence")

    def set_rows(self, rows: list[BarRow]) -> None:
        """Show ``rows`` (replaces the previous result)."""
        self.rows = list(rows)
        if self.selected not in {r.label for r in rows}:
            self.selected = None
        self.setFixedHeight(max(1, len(rows)) * self.ROW_H + 8)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API name
        """Room for every row."""
        return QSize(self.NAME_W + self.BAR_W + self.STATUS_W + 170, max(1, len(self.rows)) * self.ROW_H + 8)

    def bar_rect(self, index: int) -> QRectF:
        """Where row ``index``'s bar is drawn (tests probe pixels inside it)."""
        return QRectF(self.NAME_W, 4 + index * self.ROW_H + 5, self.BAR_W, self.ROW_H - 10)

    def threshold_x(self, index: int) -> float | None:
        """x of the threshold tick of row ``index``."""
        row = self.rows[index]
        return None if not row.assessed else self.bar_rect(index).left() + row.threshold * self.BAR_W

    def row_at(self, y: float) -> int | None:
        """Row index under a y coordinate."""
        i = int((y - 4) // self.ROW_H)
        return i if 0 <= i < len(self.rows) else None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API name
        """Draw every row."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        fm_bold = QFont(self.font())
        fm_bold.setBold(True)
        for i, r in enumerate(self.rows):
            top = 4 + i * self.ROW_H
            row_rect = QRectF(0, top, self.width(), self.ROW_H)
            if r.label == self.selected:
                p.fillRect(row_rect, SELECTED_COLOUR)
            elif r.disagree:
                p.fillRect(row_rect, DISAGREE_COLOUR)
            p.setFont(fm_bold if r.decision else self.font())
            p.setPen(QColor("black"))
            p.drawText(QRectF(6, top, self.NAME_W - 12, self.ROW_H),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, r.label)
            bar = self.bar_rect(i)
            p.setPen(QPen(QColor("#c8c8c8")))
            p.setBrush(QColor("#f3f3f3"))
            p.drawRect(bar)
            p.setFont(self.font())
            if not r.assessed:
                p.setPen(QColor("#777777"))
                p.drawText(bar, Qt.AlignmentFlag.AlignCenter, r.not_assessed or "not supported by this model")
            else:
                fill = QRectF(bar.left(), bar.top(), bar.width() * max(0.0, min(1.0, r.probability)), bar.height())
                p.fillRect(fill, POSITIVE_COLOUR if r.decision else NEGATIVE_COLOUR)
                tx = self.threshold_x(i)
                p.setPen(QPen(QColor("black"), 2))
                p.drawLine(int(tx), int(bar.top()) - 3, int(tx), int(bar.bottom()) + 3)
            p.setPen(QColor("black") if r.assessed else QColor("#777777"))
            x = self.NAME_W + self.BAR_W + 10
            p.drawText(QRectF(x, top, self.STATUS_W, self.ROW_H), Qt.AlignmentFlag.AlignVCenter, r.status_text())
            if r.has_rules:
                p.setPen(QColor("#8a5a00") if r.disagree else QColor("#444444"))
                mark = "≠ " if r.disagree else ""
                p.drawText(QRectF(x + self.STATUS_W, top, 200, self.ROW_H), Qt.AlignmentFlag.AlignVCenter,
                           mark + RULE_TEXT.get(r.rule_value, "rules: ?"))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API name
        """Select the clicked label."""
        i = self.row_at(event.position().y())
        if i is not None:
            self.select(self.rows[i].label)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API name
        """Up/Down select the previous/next label."""
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(event.key()))
        if step is None or not self.rows:
            super().keyPressEvent(event)
            return
        names = [r.label for r in self.rows]
        i = names.index(self.selected) + step if self.selected in names else (0 if step > 0 else len(names) - 1)
        self.select(names[max(0, min(len(names) - 1, i))])

    def select(self, label: str) -> None:
        """Select ``label`` and announce it."""
        self.selected = label
        self.update()
        self.label_selected.emit(label)
