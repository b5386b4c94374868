"""The reviewer's state of one note: detected spans, which were accepted or rejected, which were added by hand.

Plain Python (no Qt) so the decisions are easy to test; the Notes workspace binds its highlight and output panes to
it. A span is identified by ``(start, end)``; the text itself is never copied into the review.

A reviewer's decisions outlive a new detection run: :func:`carry_decisions` moves them onto the new spans (and, when
the note was edited in between, onto the new text through the unchanged stretches), and :func:`lost_decisions` says
beforehand how many sit on edited text and would be lost, so the window can ask first.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from medpriv_desktop.core.notes.spans import PhiSpan

DETECTED, ACCEPTED, REJECTED, MANUAL = "detected", "accepted", "rejected", "manual"
#: Statuses that record a reviewer's decision (``detected`` is only the engine's word).
DECISIONS = (ACCEPTED, REJECTED, MANUAL)
MANUAL_SOURCE = "reviewer"


@dataclass
class ReviewedSpan:
    """A span and its review status: ``detected`` (as found, not reviewed), ``accepted`` (confirmed by the
    reviewer), ``rejected`` or ``manual`` (added by hand)."""

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
        """Accept or reject the span at ``offset``; a rejected hand-marked span is removed.

        ``detected`` is taken as "accept" too (older callers used it for that)."""
        it = self.at(offset)
        if it is None:
            return None
        if status == DETECTED:
            status = ACCEPTED
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
        """How many spans are detected (unreviewed), accepted, rejected and added by hand."""
        out = {DETECTED: 0, ACCEPTED: 0, REJECTED: 0, MANUAL: 0}
        for it in self.items:
            out[it.status] += 1
        return out

    def decisions(self) -> list[ReviewedSpan]:
        """The items that hold a reviewer's decision (accepted, rejected, added)."""
        return [it for it in self.items if it.status in DECISIONS]


def _offset_map(old: str, new: str) -> list[tuple[int, int, int]]:
    """Unchanged stretches ``(old_start, new_start, length)`` between two versions of a note."""
    if old == new:
        return [(0, 0, len(old))]
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [(a, b, n) for a, b, n in sm.get_matching_blocks() if n]


def _moved(span: PhiSpan, blocks: list[tuple[int, int, int]]) -> PhiSpan | None:
    """``span`` on the new text when it lies wholly in one unchanged stretch, else None."""
    for a, b, n in blocks:
        if a <= span.start and span.end <= a + n:
            d = b - a
            return PhiSpan(span.start + d, span.end + d, span.category, span.score, span.source)
    return None


def lost_decisions(old: NoteReview | None, new_text: str) -> int:
    """How many of ``old``'s decisions sit on text that differs in ``new_text`` (they cannot be carried over)."""
    if old is None:
        return 0
    blocks = _offset_map(old.text, new_text)
    return sum(1 for it in old.decisions() if _moved(it.span, blocks) is None)


def carry_decisions(old: NoteReview | None, new: NoteReview) -> int:
    """Apply ``old``'s decisions to ``new`` (a fresh detection, possibly on an edited text); return how many were
    lost because their text changed.

    A rejected span stays rejected where the engine finds it again (where it does not, there is nothing to reject);
    an accepted span stays, found again or not; a span added by hand is added again over whatever overlaps it.
    """
    if old is None:
        return 0
    blocks = _offset_map(old.text, new.text)
    lost = 0
    for it in old.decisions():
        span = _moved(it.span, blocks)
        if span is None:
            lost += 1
            continue
        same = [x for x in new.items if (x.span.start, x.span.end) == (span.start, span.end) and x.status != MANUAL]
        if it.status == MANUAL:
            new.mark(span.start, span.end, span.category)
        elif same:
            for x in same:
                x.status = it.status
        elif it.status == ACCEPTED:
            new.items.append(ReviewedSpan(span, ACCEPTED))
            new.items.sort(key=lambda x: x.span)
    return lost
