"""A rule-based, CheXpert-style report labeler: mention phrases per label, negation and uncertainty, aggregation.

Each label has mention patterns. A mention is *negative* when a negation cue governs it (a cue before it in the same
clause, "no pleural effusion", or after it, "pneumothorax is not seen"), *uncertain* when an uncertainty cue does
("may represent atelectasis", "pneumonia cannot be excluded"; uncertainty wins over negation, as in CheXpert), else
*positive*. Per report a label is 1 if any mention is positive, else -1 if any is uncertain, else 0 if any is negative,
else None (not mentioned). "No Finding" (CheXpert) is 1 when no finding is positive or uncertain.

Used in the app as a second opinion beside the model, and in training as a source of weak labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medpriv_desktop.core.reports.labels import CHESTXRAY14, CHEXPERT14, CTRATE18
from medpriv_desktop.core.reports.sentences import split_sentences

POSITIVE, NEGATIVE, UNCERTAIN = 1, 0, -1
#: Version of the rules below. Models that read the labeler's outputs record it; bump it whenever a pattern changes
#: (a test pins it to a hash of the pattern tables, :func:`~.rule_features.labeler_fingerprint`).
LABELER_VERSION = "1"

_HEART_BIG = r"(?:heart|cardiac silhouette|cardiac shadow)(?: size)? (?:is |was |appears |remains )?(?:mildly |moderately |markedly |severely )?(?:enlarged|increased)"
_DEVICE = (r"pacemaker|pacer|defibrillator|aicd|(?:endotracheal|nasogastric|feeding|chest|tracheostomy|et|ng) tube|"
           r"catheter|picc|port-?a-?cath|stent|sternotomy wires?|sternal wires?|surgical clips?|prosthe\w*|"
           r"valve replacement|drain|central (?:venous )?line|(?:ij|subclavian) line")

MENTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "CheXpert": {
        "Enlarged Cardiomediastinum": (r"enlarged cardiomediastin\w*", r"(?:mediastinal|mediastinum) (?:widening|enlargement)",
                                       r"widen(?:ed|ing) (?:of the )?mediastinum", r"enlarged mediastin\w*",
                                       r"cardiomediastinal silhouette (?:is )?enlarged"),
        "Cardiomegaly": (r"cardiomegaly", r"cardiac enlargement", r"enlarged (?:heart|cardiac silhouette)", _HEART_BIG),
        "Lung Lesion": (r"mass(?:es)?", r"nodul\w*", r"lesions?", r"tumou?rs?", r"neoplasms?", r"carcinoma"),
        "Lung Opacity": (r"opacit(?:y|ies)", r"infiltrat\w*", r"air ?-?space (?:disease|opacit\w*)", r"haziness",
                         r"ground[- ]glass", r"densit(?:y|ies)"),
        "Edema": (r"o?edema", r"vascular congestion", r"pulmonary congestion", r"heart failure", r"chf"),
        "Consolidation": (r"consolidat\w*",),
        "Pneumonia": (r"pneumonias?", r"infectious process", r"infection"),
        "Atelectasis": (r"atelecta\w*", r"collapse"),
        "Pneumothorax": (r"pneumothora\w*",),
        "Pleural Effusion": (r"(?:pleural )?effusions?", r"pleural fluid", r"costophrenic (?:angle )?blunting",
                             r"blunting of the (?:left |right |bilateral )?costophrenic"),
        "Pleural Other": (r"pleural thickening", r"pleural plaques?", r"pleural scar\w*", r"fibrothorax",
                          r"pleural calcification"),
        "Fracture": (r"fractur\w*",),
        "Support Devices": (_DEVICE,),
    },
    "ChestX-ray14": {
        "Atelectasis": (r"atelecta\w*", r"collapse"),
        "Cardiomegaly": (r"cardiomegaly", r"cardiac enlargement", r"enlarged (?:heart|cardiac silhouette)", _HEART_BIG),
        "Effusion": (r"effusions?", r"pleural fluid", r"costophrenic (?:angle )?blunting"),
        "Infiltration": (r"infiltrat\w*", r"air ?-?space disease"),
        "Mass": (r"mass(?:es)?",),
        "Nodule": (r"nodul\w*",),
        "Pneumonia": (r"pneumonias?", r"infectious process"),
        "Pneumothorax": (r"pneumothora\w*",),
        "Consolidation": (r"consolidat\w*",),
        "Edema": (r"o?edema", r"vascular congestion"),
        "Emphysema": (r"emphysema\w*", r"copd", r"chronic obstructive", r"hyperinflat\w*", r"hyperexpan\w*"),
        "Fibrosis": (r"fibros\w*", r"fibrotic"),
        "Pleural_Thickening": (r"pleural thickening", r"thickening of the pleura", r"pleural plaques?"),
        "Hernia": (r"hernia\w*",),
    },
    "CT-RATE": {
        "Medical material": (_DEVICE, r"(?:surgical|medical|metallic) materials?", r"graft", r"implant\w*"),
        "Arterial wall calcification": (r"(?:aort\w*|arter\w*|vascular|vessel)[\w\s-]{0,30}?calcif\w*",
                                        r"atheroscleros\w*", r"atheroma\w*", r"calcified plaques?"),
        "Cardiomegaly": (r"cardiomegaly", r"cardiac enlargement", r"enlarged heart", _HEART_BIG),
        "Pericardial effusion": (r"pericardial (?:effusion|fluid)\w*",),
        "Coronary artery wall calcification": (r"coronary[\w\s-]{0,30}?calcif\w*", r"calcif\w*[\w\s,-]{0,60}?coronary",
                                               r"(?:atherom\w*|atheroscleros\w*|plaques?)[\w\s,-]{0,60}?coronary"),
        "Hiatal hernia": (r"hiat(?:al|us) hernia", r"hernia"),
        # CT-RATE's annotators count any reported (non-negated) lymph node, millimetric ones included.
        "Lymphadenopathy": (r"lymphadenopath\w*", r"lymph nodes?"),
        "Emphysema": (r"emphysema\w*", r"bullae?", r"bullous"),
        "Atelectasis": (r"atelecta\w*",),
        "Lung nodule": (r"nodul\w*",),
        "Lung opacity": (r"opacit(?:y|ies)", r"ground[- ]glass", r"density increase\w*", r"infiltrat\w*"),
        "Pulmonary fibrotic sequela": (r"fibrotic", r"fibros\w*", r"sequela\w*", r"parenchymal bands?"),
        "Pleural effusion": (r"pleural effusions?", r"pleural fluid"),
        "Mosaic attenuation pattern": (r"mosaic (?:attenuation|perfusion|pattern)\w*",),
        "Peribronchial thickening": (r"peribronchial (?:wall )?(?:thickening|cuffing)", r"bronchial wall thickening"),
        "Consolidation": (r"consolidat\w*",),
        "Bronchiectasis": (r"bronchiectas\w*",),
        "Interlobular septal thickening": (r"(?:interlobular )?septal thickening",
                                           r"thickening of (?:the )?interlobular sept\w*"),
    },
}

#: Phrases that state a label is absent without a negation word ("heart size is normal").
NORMAL_PHRASES: dict[str, tuple[str, ...]] = {
    "Cardiomegaly": (r"(?:heart|cardiac silhouette|cardiac)(?: size)? (?:is |was |appears |remains )?(?:within normal limits|normal|not enlarged)",
                     r"normal (?:heart|cardiac) size"),
}

_PRE_NEG = (r"\bno\b", r"\bnot\b", r"\bwithout\b", r"\bfree of\b", r"\bnegative for\b", r"\babsence of\b",
            r"\bclear of\b", r"\bresolution of\b", r"\bnor\b", r"\bneither\b", r"\bnone\b")
_POST_NEG = (r"^[^.;]{0,40}?\b(?:is|are|was|were|has|have)? ?(?:not|no longer) (?:been )?(?:seen|observed|detected|"
             r"identified|present|visualized|evident|noted|demonstrated|appreciated)",
             r"^[^.;]{0,20}?\b(?:has|have)? ?resolved", r"^[^.;]{0,20}?\b(?:is|are|was|were)? ?absent")
_PRE_UNC = (r"\bmay\b", r"\bmight\b", r"\bpossibl[ey]\b", r"\bprobabl[ey]\b", r"\blikely\b", r"\bsuspicious for\b",
            r"\bsuggestive of\b", r"\bconcerning for\b", r"\bquestionable\b", r"\bcould (?:be|represent)\b",
            r"\bcannot (?:be )?exclude\b", r"\bdifferential\b", r"\brule out\b", r"\bversus\b", r"\bvs\.?", r"\bequivocal\b",
            r"\bsuspected\b", r"\bpresumed\b")
_POST_UNC = (r"^[^.;]{0,40}?\b(?:cannot|can not|could not|not) be (?:excluded|ruled out)", r"^[^.;]{0,40}?\b(?:versus|vs)\b",
             r"^[^.;]{0,30}?\b(?:is|are) (?:not )?excluded", r"^[^.;]{0,30}?\b(?:is|are)? ?(?:possible|suspected|likely)\b")
# A negation or uncertainty cue does not reach past these words or marks.
_SCOPE_END = re.compile(r"\b(?:but|however|although|though|except|which|whereas|while|with|and there is|there is)\b|[;:]",
                        re.I)


def _compile(patterns: tuple[str, ...]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.I)


_PRE_NEG_RE, _PRE_UNC_RE = _compile(_PRE_NEG), _compile(_PRE_UNC)
_POST_NEG_RE = [re.compile(p, re.I) for p in _POST_NEG]
_POST_UNC_RE = [re.compile(p, re.I) for p in _POST_UNC]


@dataclass(frozen=True)
class Mention:
    """One mention of a label: character span in the report and its status (1, 0 or -1)."""

    label: str
    start: int
    end: int
    status: int


@dataclass
class LabelerResult:
    """Per-label CheXpert-style value (1, 0, -1 or None) and the mentions behind it."""

    values: dict[str, int | None]
    mentions: list[Mention] = field(default_factory=list)

    def binary(self, uncertain_as: int = 1) -> dict[str, int]:
        """0/1 per label: uncertain mapped to ``uncertain_as``, not mentioned to 0."""
        return {k: (uncertain_as if v == UNCERTAIN else int(v == POSITIVE)) for k, v in self.values.items()}


def _governed_before(clause: str, cue_re: re.Pattern) -> bool:
    """A cue in the text before the mention, with no scope break between the cue and the mention."""
    last = None
    for m in cue_re.finditer(clause):
        last = m
    return last is not None and not _SCOPE_END.search(clause[last.end():])


def _status(sentence: str, s: int, e: int) -> int:
    before, after = sentence[:s], sentence[e:]
    cut = _SCOPE_END.search(after)
    after_clause = after[: cut.start()] if cut else after
    if _governed_before(before, _PRE_UNC_RE) or any(p.search(after_clause) for p in _POST_UNC_RE):
        return UNCERTAIN
    if _governed_before(before, _PRE_NEG_RE) or any(p.search(after_clause) for p in _POST_NEG_RE):
        return NEGATIVE
    return POSITIVE


class RuleLabeler:
    """The labeler for one label set (``CheXpert``, ``ChestX-ray14`` or ``CT-RATE``)."""

    def __init__(self, label_set: str = "CheXpert") -> None:
        if label_set not in MENTIONS:
            raise KeyError(f"no rules for label set {label_set!r}; known: {', '.join(MENTIONS)}")
        self.label_set = label_set
        order = {"CheXpert": CHEXPERT14, "ChestX-ray14": CHESTXRAY14, "CT-RATE": CTRATE18}[label_set]
        self.labels: tuple[str, ...] = order
        self._mention_re = {lb: _compile(p) for lb, p in MENTIONS[label_set].items()}
        self._normal_re = {lb: _compile(p) for lb, p in NORMAL_PHRASES.items() if lb in self._mention_re}

    def label(self, text: str) -> LabelerResult:
        """Label one report."""
        mentions: list[Mention] = []
        for s0, e0 in split_sentences(text):
            sent = text[s0:e0]
            for lb, rx in self._mention_re.items():
                normal = self._normal_re.get(lb)
                normal_spans = [(m.start(), m.end()) for m in normal.finditer(sent)] if normal else []
                for a, b in normal_spans:
                    mentions.append(Mention(lb, s0 + a, s0 + b, NEGATIVE))
                for m in rx.finditer(sent):
                    if any(a <= m.start() < b for a, b in normal_spans):
                        continue
                    mentions.append(Mention(lb, s0 + m.start(), s0 + m.end(), _status(sent, m.start(), m.end())))
        values: dict[str, int | None] = {}
        for lb in self.labels:
            st = {m.status for m in mentions if m.label == lb}
            values[lb] = (POSITIVE if POSITIVE in st else UNCERTAIN if UNCERTAIN in st
                          else NEGATIVE if NEGATIVE in st else None)
        if "No Finding" in values:
            findings = [v for k, v in values.items() if k not in ("No Finding", "Support Devices")]
            values["No Finding"] = 1 if not any(v in (POSITIVE, UNCERTAIN) for v in findings) else None
        return LabelerResult(values, mentions)
