"""The reviewer's state of one note: detected spans, which were rejected, which were added by hand.

Plain Python (no Qt) so the decisions are easy to test; the Notes workspace binds its highlight and output panes to
it. A span is identified by ``(start, end)``; the text itself is never copied into the review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medpriv_desktop.core.notes.spans import PhiSpan

DETECTED, REJECTED, MANUAL = "detected", "rejected", "manual"
MANUAL_SOURCE = "reviewer"


@dataclass
class ReviewedSpan:
    """A span and its review status (``detected`` = accepted as found, ``rejected``, ``manual`` = added by hand)."""

    span: PhiSpan
    status: str = DETECTED

    @property
    def active(self) -> bool:
        """True when the span is replaced in the output."""
        return self.status != REJECTED


@dataclass
class NoteReview:
    """All spans of one note with their statuses; ``active_spans`` is what the operator replaces."""

    text: str
    items: list[ReviewedSpan] = field(default_factory=list)

    @classmethod
    def from_spans(cls, text: str, spans: list[PhiSpan]) -> NoteReview:
        """A review where every detected span starts accepted."""
        return cls(text, [ReviewedSpan(s) for s in sorted(spans)])

    def active_spans(self) -> list[PhiSpan]:
        """Accepted and hand-marked spans, sorted, overlaps removed (the earlier/longer span wins)."""
        out: list[PhiSpan] = []
        for s in sorted((it.span for it in self.items if it.active), key=lambda s: (s.start, -s.end)):
            if out and s.start < out[-1].end:
                continue
            out.append(s)
        return out

    def at(self, offset: int) -> ReviewedSpan | None:
        """The span covering character ``offset`` (hand-marked spans first), or None."""
        hits = [it for it in self.items if it.span.start <= offset < it.span.end]
        hits.sort(key=lambda it: (it.status != MANUAL, it.span.end - it.span.start))
        return hits[0] if hits else None

    def set_status(self, offset: int, status: str) -> ReviewedSpan | None:
        """Accept (``detected``) or reject the span at ``offset``; a rejected hand-marked span is removed."""
        it = self.at(offset)
        if it is None:
            return None
        if it.status == MANUAL and status == REJECTED:
            self.items.remove(it)
            return it
        if it.status != MANUAL:
            it.status = status
        return it

    def mark(self, start: int, end: int, category: str) -> ReviewedSpan | None:
        """Add a span the engine missed; whitespace at the edges is trimmed. None for an empty selection."""
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        if end <= start:
            return None
        # Spans the new one overlaps are superseded by the reviewer's decision; the new span grows to cover them,
        # so a partly detected value ("Mercy" of "Mercy Valley Hospital") ends up replaced as a whole.
        hit = [x for x in self.items if x.span.start < end and start < x.span.end]
        start = min([start] + [x.span.start for x in hit])
        end = max([end] + [x.span.end for x in hit])
        self.items = [x for x in self.items if x not in hit]
        it = ReviewedSpan(PhiSpan(start, end, category, 1.0, MANUAL_SOURCE), MANUAL)
        self.items.append(it)
        self.items.sort(key=lambda x: x.span)
        return it

    def counts(self) -> dict[str, int]:
        """Active spans per category (counts only, safe to log)."""
        out: dict[str, int] = {}
        for s in self.active_spans():
            out[s.category] = out.get(s.category, 0) + 1
        return out

    def status_counts(self) -> dict[str, int]:
        """How many spans are detected/rejected/manual."""
        out = {DETECTED: 0, REJECTED: 0, MANUAL: 0}
        for it in self.items:
            out[it.status] += 1
        return out
