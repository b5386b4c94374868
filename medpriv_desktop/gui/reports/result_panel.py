"""The right side of the Reports workspace: privacy guarantee, probability bars, evidence list, second opinion.

Bound to a :class:`~medpriv_desktop.gui.reports.jobs.ReportResult`; the report pane on the left is coloured through
:func:`evidence_selections`, so the evidence sentences sit highlighted in the text.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QScrollArea, QTextEdit,
                               QVBoxLayout, QWidget)

from medpriv_desktop.gui.reports.bars import BarRow, ProbabilityBarsWidget
from medpriv_desktop.gui.reports.jobs import ReportResult

#: Evidence colours, one per positive label in turn (readable under black text).
EVIDENCE_COLOURS = ("#ffd27f", "#a7d3ff", "#b8e6b0", "#f4b6c2", "#d7c4f2", "#c9ecec")
SELECTED_EVIDENCE = "#ffb000"


def evidence_ranges(result: ReportResult, label: str | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of the evidence sentences (of ``label`` only, when given)."""
    out = []
    for lb, items in result.prediction.evidence.items():
        if label is None or lb == label:
            out += [(e.start, e.end, lb) for e in items]
    return out


def evidence_selections(edit: QPlainTextEdit, result: ReportResult,
                        label: str | None = None) -> list[QTextEdit.ExtraSelection]:
    """Extra selections colouring the evidence of every positive label (or of ``label`` in a stronger colour)."""
    colours = {lb: EVIDENCE_COLOURS[i % len(EVIDENCE_COLOURS)] for i, lb in enumerate(result.prediction.positives)}
    sels = []
    for a, b, lb in evidence_ranges(result, label):
        sel = QTextEdit.ExtraSelection()
        cur = QTextCursor(edit.document())
        cur.setPosition(a)
        cur.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(SELECTED_EVIDENCE if label else colours.get(lb, EVIDENCE_COLOURS[0])))
        fmt.setForeground(QColor("black"))
        fmt.setToolTip(f"evidence for {lb}")
        sel.cursor, sel.format = cur, fmt
        sels.append(sel)
    return sels


class ReportResultPanel(QWidget):
    """Privacy line, bars, evidence list and the agreement summary for one classified report."""

    label_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: ReportResult | None = None
        self.model_label = QLabel("No report classified yet.")
        self.model_label.setStyleSheet("font-weight: 600;")
        # Long label lists wrap instead of widening the window.
        self.model_label.setWordWrap(True)
        self.privacy_label = QLabel("")
        self.privacy_label.setWordWrap(True)
        self.privacy_label.setStyleSheet("background: #eef6ee; border: 1px solid #9cc79c; border-radius: 4px;"
                                         "padding: 4px; color: #1d4d1d;")
        self.privacy_label.setVisible(False)
        self.bars = ProbabilityBarsWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.bars)
        self.agreement_label = QLabel("")
        self.agreement_label.setWordWrap(True)
        self.evidence_list = QListWidget()
        self.evidence_list.setMaximumHeight(150)
        self.evidence_list.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.model_label)
        lay.addWidget(self.privacy_label)
        lay.addWidget(QLabel("Per-label probability (black tick = threshold); click a label to see its evidence"))
        lay.addWidget(scroll, 1)
        lay.addWidget(self.agreement_label)
        lay.addWidget(QLabel("Evidence sentences"))
        lay.addWidget(self.evidence_list)
        self.bars.label_selected.connect(self._on_bars_label_selected)
        self.evidence_list.itemClicked.connect(self._on_evidence_item_clicked)

    def set_privacy(self, short: str, detail: str) -> None:
        """Show the model's privacy guarantee."""
        self.privacy_label.setText(f"Privacy of the model: {short}")
        self.privacy_label.setToolTip(detail)
        self.privacy_label.setVisible(True)

    def show_result(self, result: ReportResult, text: str) -> None:
        """Fill bars, evidence and the agreement line from ``result`` (``text`` is the classified report)."""
        self.result = result
        pred = result.prediction
        dis = set(result.disagreements())
        rows = []
        for lb, th in zip(result.labels, result.thresholds):
            rv = result.rules.values.get(lb) if result.rules is not None else None
            rows.append(BarRow(lb, pred.probabilities[lb], th, pred.decisions[lb], rv, result.rules is not None,
                               lb in dis))
        self.bars.set_rows(rows)
        pos = ", ".join(pred.positives) or "none"
        self.model_label.setText(f"{result.model_id}: positive labels: {pos}")
        if result.rules is None:
            self.agreement_label.setText("Second opinion off (or no rule set for this model's labels).")
        elif dis:
            self.agreement_label.setText(f"Rule labeler ({result.rule_set}) disagrees on {len(dis)} label(s): "
                                         + ", ".join(sorted(dis)) + " (amber rows).")
            self.agreement_label.setStyleSheet("color: #8a5a00;")
        else:
            self.agreement_label.setText(f"Rule labeler ({result.rule_set}) agrees on every supported label.")
            self.agreement_label.setStyleSheet("color: #1d4d1d;")
        self.evidence_list.clear()
        for a, b, lb in evidence_ranges(result):
            score = next(e.score for e in pred.evidence[lb] if e.start == a)
            item = QListWidgetItem(f"{lb} ({score:.2f}): {text[a:b]}")
            item.setData(256, lb)
            self.evidence_list.addItem(item)

    def clear(self) -> None:
        """Forget the result (the report changed)."""
        self.result = None
        self.bars.set_rows([])
        self.evidence_list.clear()
        self.agreement_label.setText("")
        self.model_label.setText("The report changed: classify it again.")

    @Slot(str)
    def _on_bars_label_selected(self, label: str) -> None:
        self.label_selected.emit(label)

    @Slot(QListWidgetItem)
    def _on_evidence_item_clicked(self, item: QListWidgetItem) -> None:
        self.bars.select(item.data(256))  # the item's label; selecting it highlights its evidence
