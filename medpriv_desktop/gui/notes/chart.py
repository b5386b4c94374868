"""A grouped bar chart painted with QPainter: PHI occurrence rate per category (groups) for each method (bars).

Small on purpose (no plotting library at run time); the numbers are also listed in a table beside it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

METHOD_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2")


class OccurrenceChart(QWidget):
    """Grouped bars: x = category, one bar per method, y = rate in [0, 1]."""

    MARGIN_L, MARGIN_B, MARGIN_T = 44, 36, 28

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.methods: list[str] = []
        self.categories: list[str] = []
        self.rates: list[list[float]] = []
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, methods: list[str], categories: list[str], rates: list[list[float]]) -> None:
        """Show ``rates[m][c]`` for each method ``m`` and category ``c``."""
        self.methods, self.categories, self.rates = list(methods), list(categories), [list(r) for r in rates]
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API name
        """A comfortable default size."""
        return QSize(560, 260)

    def plot_rect(self) -> QRectF:
        """The area inside the axes."""
        return QRectF(self.MARGIN_L, self.MARGIN_T, self.width() - self.MARGIN_L - 10,
                      self.height() - self.MARGIN_T - self.MARGIN_B)

    def bar_rect(self, m: int, c: int) -> QRectF:
        """Where the bar of method ``m`` in category ``c`` is drawn (tests probe its pixels)."""
        plot = self.plot_rect()
        group_w = plot.width() / max(1, len(self.categories))
        bar_w = group_w * 0.8 / max(1, len(self.methods))
        x = plot.left() + c * group_w + group_w * 0.1 + m * bar_w
        h = plot.height() * max(0.0, min(1.0, self.rates[m][c]))
        return QRectF(x, plot.bottom() - h, bar_w - 2, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API name
        """Axes, grid, bars and a legend."""
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        plot = self.plot_rect()
        p.setPen(QPen(QColor("#dddddd")))
        for k in range(5):
            y = plot.bottom() - plot.height() * k / 4
            p.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            p.setPen(QColor("#555555"))
            p.drawText(QRectF(0, y - 8, self.MARGIN_L - 4, 16), Qt.AlignmentFlag.AlignRight, f"{k * 25}%")
            p.setPen(QPen(QColor("#dddddd")))
        if not self.categories:
            p.setPen(QColor("#777777"))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "Run an assessment to see PHI occurrence per method")
            p.end()
            return
        group_w = plot.width() / len(self.categories)
        for c, cat in enumerate(self.categories):
            for m in range(len(self.methods)):
                p.fillRect(self.bar_rect(m, c), QColor(METHOD_COLOURS[m % len(METHOD_COLOURS)]))
            p.setPen(QColor("black"))
            p.drawText(QRectF(plot.left() + c * group_w, plot.bottom() + 4, group_w, 18),
                       Qt.AlignmentFlag.AlignHCenter, cat)
        x = plot.left()
        for m, name in enumerate(self.methods):
            p.fillRect(QRectF(x, 8, 12, 12), QColor(METHOD_COLOURS[m % len(METHOD_COLOURS)]))
            p.setPen(QColor("black"))
            p.drawText(QRectF(x + 16, 4, 150, 20), Qt.AlignmentFlag.AlignVCenter, name)
            x += 170
        p.end()
