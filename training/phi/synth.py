"""Synthetic clinical notes with fake PHI spans, for training the PHI model (compatibility module).

The generator lives in :mod:`training.phi.generator` (21 note styles, fake PHI of every category and shape, hard
negatives); this module re-exports its API so ``training.phi.train`` and older callers keep working.
"""

from __future__ import annotations

from training.phi.generator import LABELS, STYLES, SynthNote, generate, iter_notes

__all__ = ["LABELS", "STYLES", "SynthNote", "generate", "iter_notes"]
