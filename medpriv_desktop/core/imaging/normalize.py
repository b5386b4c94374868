"""Intensity normalisation from a model card, shared by the app's preprocessing and by ``training``."""

from __future__ import annotations

import numpy as np

from medpriv_desktop.core.models.card import IntensityNormalization


def normalize_intensity(array: np.ndarray, norm: IntensityNormalization, mask: np.ndarray | None = None) -> np.ndarray:
    """Return ``array`` as float32 network input according to ``norm``.

    - ``ct-clip-zscore``: clip to [clip_min, clip_max] HU, then ``(x - mean) / std`` with the card's fixed statistics
      (the same for every scan, so HU keep their meaning);
    - ``percentile-zscore`` (MR and other uncalibrated modalities): clip to the image's own percentiles
      ``[percentile_low, percentile_high]`` (computed inside ``mask`` when given, e.g. the non-zero foreground), then
      z-score with the clipped image's own mean and std;
    - ``zscore``: the image's own mean and std; ``none``: unchanged.
    """
    x = np.asarray(array, dtype=np.float32)
    if norm.kind == "none":
        return x.copy()
    if norm.kind == "ct-clip-zscore":
        out = np.clip(x, norm.clip_min, norm.clip_max)
        out -= np.float32(norm.mean)
        out /= np.float32(norm.std)
        return out
    sample = x[mask] if mask is not None and mask.any() else x
    if sample.size > 2_000_000:
        # Percentiles of a strided sample: same result to ~0.1%, much less time on a 512x512x400 CT.
        sample = sample.ravel()[:: max(1, sample.size // 2_000_000)]
    if norm.kind == "percentile-zscore":
        lo, hi = np.percentile(sample, [norm.percentile_low, norm.percentile_high])
        out = np.clip(x, lo, hi)
        s = np.clip(sample, lo, hi)
    else:
        out = x.copy()
        s = sample
    mean, std = float(s.mean()), float(s.std())
    out -= np.float32(mean)
    out /= np.float32(std if std > 1e-6 else 1.0)
    return out
