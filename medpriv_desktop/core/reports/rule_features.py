"""The rule labeler's per-label outputs as numeric model inputs (numpy only).

A report classifier may read, beside the text, what the rule labeler (:mod:`.labeler`, public code, no training data)
says about each label: whether a mention of it is positive, uncertain or negated. These inputs cost no privacy: they
are a fixed function of the report, the same at training time and in the app. The model card declares them
(``text_input.rule_features``: ONNX input name, label set, encoding, labeler version), and the runtime refuses a
model whose declared labeler version differs from the app's labeler, since the same report would then get other
inputs than the model was trained on.

Encoding ``status-v1``: three 0/1 values per label of the set, in label order: ``positive``, ``uncertain``,
``negated`` (all 0 when the label is not mentioned), so ``3 * len(labels)`` values per report.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from medpriv_desktop.core.reports.labeler import MENTIONS, NEGATIVE, POSITIVE, UNCERTAIN, RuleLabeler

ENCODING = "status-v1"
STATUSES = (POSITIVE, UNCERTAIN, NEGATIVE)
STATUS_NAMES = ("positive", "uncertain", "negated")
INPUT_NAME = "rule_features"


def feature_names(label_set: str) -> list[str]:
    """``<label>:<status>`` for every value of the encoding, in order."""
    return [f"{lb}:{s}" for lb in RuleLabeler(label_set).labels for s in STATUS_NAMES]


def encode_values(values: dict[str, int | None], labels: tuple[str, ...] | list[str]) -> np.ndarray:
    """One report's labeler values (1, 0, -1 or None per label) as the ``status-v1`` vector."""
    out = np.zeros(3 * len(labels), dtype=np.float32)
    for j, lb in enumerate(labels):
        v = values.get(lb)
        if v is not None:
            out[3 * j + STATUSES.index(v)] = 1.0
    return out


class RuleFeatures:
    """Computes the ``status-v1`` rule inputs of one label set for prepared report texts."""

    def __init__(self, label_set: str, encoding: str = ENCODING) -> None:
        if encoding != ENCODING:
            raise ValueError(f"unknown rule-feature encoding {encoding!r}; this app knows {ENCODING}")
        self.labeler = RuleLabeler(label_set)
        self.label_set = label_set

    @property
    def width(self) -> int:
        """Values per report."""
        return 3 * len(self.labeler.labels)

    def __call__(self, texts: list[str]) -> np.ndarray:
        """``(N, width)`` float32 features of ``texts`` (the same text the encoder reads)."""
        if not texts:
            return np.zeros((0, self.width), dtype=np.float32)
        return np.stack([encode_values(self.labeler.label(t).values, self.labeler.labels) for t in texts])


def labeler_fingerprint() -> str:
    """A hash of the labeler's pattern tables: a test pins it to :data:`~.labeler.LABELER_VERSION`, so a change of the
    rules cannot ship without a new version (and models trained on the old rules are then refused, not misread)."""
    from medpriv_desktop.core.reports import labeler as lab

    blob = json.dumps({"mentions": MENTIONS, "normal": lab.NORMAL_PHRASES, "pre_neg": lab._PRE_NEG,
                       "post_neg": lab._POST_NEG, "pre_unc": lab._PRE_UNC, "post_unc": lab._POST_UNC,
                       "scope": lab._SCOPE_END.pattern}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
