"""The right side of the Reports workspace: privacy guarantee, probability bars, evidence list, second opinion.

Bound to a :class:`~medpriv_desktop.core.app.report_jobs.ReportResult`; the report pane on the left is coloured through
:func:`evidence_selections`, so the evidence sentences sit highlighted in the text.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QScrollArea, QTextEdit,
                               QVBoxLayout, QWidget)

from medpriv_desktop.gui.reports.bars import BarRow, ProbabilityBarsWidget
from medpriv_desktop.core.app.report_jobs import ReportResult

#: Evidence colours, one per positive label in turn (readable under black text).
EVIDENCE_COLOURS = ("#ffd27f", "#a7d3ff", "#b8e6b0", "#f4b6c2", "#d7c4f2", "#c9ecec")
SELECTED_EVIDENCE = "#ffb000"


def evidence_ranges(result: ReportResult, label: str | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of the evidence sentences: of the positive labels, or of ``label`` (positive or
    negative) when given."""
    pred = result.prediction
    out = []
    for lb, items in pred.evidence.items():
        if (label is None and pred.decisions.get(lb)) or lb == label:
            out += [(e.start, e.end, lb) for e in items]
    return out


def evidence_line(lb: str, score: float, sentence: str) -> str:
    """One line of the evidence list: the label, the sentence, and what removing it does to the probability."""
    return f"{lb}: {sentence}   (probability {score:.2f} lower without it)"


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
        self.evidence_list.setToolTip("The sentences whose removal lowers the label's probability most")
        self.text = ""
        self._clicked_in_list = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.model_label)
        lay.addWidget(self.privacy_label)
        lay.addWidget(QLabel("Per-label probability, threshold (black tick) and decision; click a label (or Up/Down) "
                             "to see its evidence, negative labels too"))
        lay.addWidget(scroll, 1)
        lay.addWidget(self.agreement_label)
        self.evidence_title = QLabel("Evidence sentences")
        lay.addWidget(self.evidence_title)
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
        self.text = text
        pred = result.prediction
        dis = set(result.disagreements())
        rows = []
        for lb, th in zip(result.labels, result.thresholds):
            rv = result.rules.values.get(lb) if result.rules is not None else None
            why = ("empty report" if pred.empty else "not supported by this model" if th is None else None)
            rows.append(BarRow(lb, pred.probabilities[lb], th, pred.decisions[lb], rv, result.rules is not None,
                               lb in dis, why))
        self.bars.set_rows(rows)
        pos = ", ".join(pred.positives) or "none"
        skipped = sum(1 for r in rows if not r.assessed)
        note = f" · {skipped} label(s) not assessed" if skipped else ""
        self.model_label.setText(f"{result.model_id}: positive labels: {pos}{note}")
        if result.rules is None:
            self.agreement_label.setText("Second opinion off (or no rule set for this model's labels).")
        elif dis:
            self.agreement_label.setText(f"Rule labeler ({result.rule_set}) disagrees on {len(dis)} label(s): "
                                         + ", ".join(sorted(dis)) + " (amber rows).")
            self.agreement_label.setStyleSheet("color: #8a5a00;")
        else:
            self.agreement_label.setText(f"Rule labeler ({result.rule_set}) agrees on every supported label.")
            self.agreement_label.setStyleSheet("color: #1d4d1d;")
        self.fill_evidence(None)

    def fill_evidence(self, label: str | None) -> None:
        """The evidence list: every positive label's sentences, plus those of ``label`` when it is negative."""
        self.evidence_list.clear()
        if self.result is None:
            return
        pred = self.result.prediction
        ranges = evidence_ranges(self.result)
        if label is not None and not pred.decisions.get(label):
            ranges = evidence_ranges(self.result, label) + ranges
        for a, b, lb in ranges:
            score = next(e.score for e in pred.evidence[lb] if e.start == a)
            item = QListWidgetItem(evidence_line(lb, score, self.text[a:b]))
            item.setData(256, lb)
            if lb == label:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.evidence_list.addItem(item)
        if label is not None and label not in pred.evidence:
            row = next((r for r in self.bars.rows if r.label == label), None)
            why = ("not assessed: no evidence" if row is not None and not row.assessed
                   else "no sentence raises its probability")
            item = QListWidgetItem(f"{label}: {why}")
            item.setData(256, label)
            self.evidence_list.insertItem(0, item)
        self.evidence_title.setText("Evidence sentences" + (f" (selected: {label})" if label else ""))

    def clear(self) -> None:
        """Forget the result (the report changed)."""
        self.result = None
        self.bars.set_rows([])
        self.evidence_list.clear()
        self.agreement_label.setText("")
        self.model_label.setText("The report changed: classify it again.")

    @Slot(str)
    def _on_bars_label_selected(self, label: str) -> None:
        if self._clicked_in_list:
            # The click came from an item of the list: rebuild it after the click is handled, not under it.
            QTimer.singleShot(0, lambda: self.fill_evidence(label))
        else:
            self.fill_evidence(label)
        self.label_selected.emit(label)

    @Slot(QListWidgetItem)
    def _on_evidence_item_clicked(self, item: QListWidgetItem) -> None:
        self._clicked_in_list = True
        try:
            self.bars.select(item.data(256))  # the item's label; selecting it highlights its evidence
        finally:
            self._clicked_in_list = False
