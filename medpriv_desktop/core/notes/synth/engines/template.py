"""The default engine: no model. Writes a note of the requested type from section templates.

- ``keyword``: each keyword goes into the section its clinical list points to (symptoms and conditions to the
  assessment, medicines to medications, ...), in sentences picked with a seeded random generator, so the same input
  and seed give the same note. Only the keywords and the template's own words can appear in the output.
- ``one-shot`` / ``normalized``: the engine behaves like a model that copies from its context: it lifts the source
  segments (sentences, or 12-word windows of normalised text) that carry the most clinical terms into the same
  template. This is the behaviour the privacy assessment has to catch.
"""

from __future__ import annotations

import random
import re

from medpriv_desktop.core.notes.synth.engines.base import SynthEngine, SynthRequest
from medpriv_desktop.core.notes.synth.keywords import Keyword
from medpriv_desktop.core.notes.synth.terms import find_terms

#: Note type -> list of (section heading, keyword kinds that go there).
SECTIONS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "nursing": [("ASSESSMENT", ("symptom", "condition")), ("EXAM", ("finding", "anatomy", "vital", "negated")),
                ("INTERVENTIONS", ("procedure",)), ("MEDICATIONS", ("medication",)),
                ("PLAN", ("care", "yake"))],
    "radiology": [("INDICATION", ("symptom", "condition")), ("TECHNIQUE", ("procedure",)),
                  ("FINDINGS", ("finding", "anatomy", "vital", "medication", "negated")), ("IMPRESSION", ("yake", "care"))],
    "discharge": [("HISTORY OF PRESENT ILLNESS", ("symptom",)), ("HOSPITAL COURSE", ("condition", "procedure")),
                  ("PERTINENT RESULTS", ("finding", "vital", "anatomy", "negated")), ("DISCHARGE MEDICATIONS", ("medication",)),
                  ("FOLLOW-UP", ("care", "yake"))],
}
#: Sentence frames per section; ``{items}`` is a comma list of keywords.
FRAMES: dict[str, tuple[str, ...]] = {
    "ASSESSMENT": ("Patient presents with {items}.", "Ongoing issues include {items}.", "Assessed for {items}."),
    "EXAM": ("Exam notable for {items}.", "On examination: {items}.", "Reviewed {items}."),
    "INTERVENTIONS": ("Interventions this shift: {items}.", "Care included {items}."),
    "MEDICATIONS": ("Receiving {items}.", "Medications given: {items}."),
    "PLAN": ("Plan: continue to monitor; address {items}.", "Will follow up on {items}.", "Focus on {items}."),
    "INDICATION": ("Evaluate for {items}.", "History of {items}."),
    "TECHNIQUE": ("Study performed: {items}.", "{Items} obtained."),
    "FINDINGS": ("There is evidence of {items}.", "Findings include {items}.", "{Items} noted."),
    "IMPRESSION": ("{Items}.", "Consistent with {items}."),
    "HISTORY OF PRESENT ILLNESS": ("Admitted with {items}.", "Presented with {items}."),
    "HOSPITAL COURSE": ("Hospital course notable for {items}.", "Treated for {items}."),
    "PERTINENT RESULTS": ("Results showed {items}.", "Notable results: {items}."),
    "DISCHARGE MEDICATIONS": ("Discharged on {items}.", "{Items}."),
    "FOLLOW-UP": ("Follow up regarding {items}.", "Outstanding: {items}."),
}
EMPTY = {"nursing": "No acute events.", "radiology": "No acute abnormality.", "discharge": "Not documented."}
TITLES = {"nursing": "NURSING PROGRESS NOTE", "radiology": "RADIOLOGY REPORT", "discharge": "DISCHARGE SUMMARY"}
# Sentence ends, but not after titles ("Dr. Smith" stays one sentence, as a copying model would copy it).
_SENT = re.compile(r"(?<![DdMm][Rr]\.)(?<![Mm][Rr][Ss]\.)(?<![Mm][Ss]\.)(?<=[.!?])\s+|\n+")


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fill(frame: str, items: list[str]) -> str:
    text = _join(items)
    return frame.replace("{Items}", text[:1].upper() + text[1:]).replace("{items}", text)


def guess_note_type(keywords: list[Keyword], context: str | None = None) -> str:
    """``radiology`` when imaging findings dominate or the text has FINDINGS/IMPRESSION headings, else ``nursing``."""
    if context and re.search(r"\b(impression|findings)\s*:", context, re.I):
        return "radiology"
    kinds = [k.kind for k in keywords]
    if kinds.count("finding") > max(kinds.count("symptom") + kinds.count("procedure"), 2):
        return "radiology"
    return "nursing"


class TemplateEngine(SynthEngine):
    """Section templates filled from keywords (see the module docstring)."""

    name = "template"

    def __init__(self, per_sentence: int = 3, max_segments: int = 12) -> None:
        self.per_sentence = per_sentence
        self.max_segments = max_segments

    def generate(self, request: SynthRequest) -> str:
        """One synthetic note for ``request``."""
        rng = random.Random(request.seed)
        note_type = request.note_type if request.note_type in SECTIONS else "nursing"
        if request.method == "keyword":
            body = self._from_keywords(request.keywords, note_type, rng)
        else:
            body = self._from_context(request.context or "", note_type, rng)
        return f"{TITLES[note_type]}\n\n" + "\n\n".join(f"{h}:\n{t}" for h, t in body) + "\n"

    def _from_keywords(self, keywords: list[Keyword], note_type: str, rng: random.Random) -> list[tuple[str, str]]:
        out = []
        placed: set[str] = set()
        for heading, kinds in SECTIONS[note_type]:
            items = [k.text for k in keywords if k.kind in kinds and k.kind != "negated" and k.text not in placed]
            negs = [k.text for k in keywords if k.kind in kinds and k.kind == "negated" and k.text not in placed]
            placed.update(items + negs)
            sentences = [_fill(rng.choice(FRAMES[heading]), items[i:i + self.per_sentence])
                         for i in range(0, len(items), self.per_sentence)]
            if negs:  # negated findings keep their negation: "No pleural effusion or pneumothorax."
                neg = [n[3:] if n.startswith("no ") else n for n in negs]
                sentences.append("No " + (", ".join(neg[:-1]) + " or " + neg[-1] if len(neg) > 1 else neg[0]) + ".")
            out.append((heading, " ".join(sentences) or EMPTY[note_type]))
        return out

    def _segments(self, context: str) -> list[str]:
        if re.search(r"[.!?\n]", context):
            return [s.strip() for s in _SENT.split(context) if len(s.split()) >= 3]
        words = context.split()  # normalised text has no punctuation: copy 12-word windows
        return [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]

    def _from_context(self, context: str, note_type: str, rng: random.Random) -> list[tuple[str, str]]:
        scored = []
        for i, seg in enumerate(self._segments(context)):
            terms = find_terms(seg)
            kinds = [k for _, k, _ in terms]
            if terms:
                scored.append((len(terms) + rng.random() * 0.5, i, seg, kinds))
        chosen = sorted(sorted(scored, reverse=True)[: self.max_segments], key=lambda x: x[1])
        sections = SECTIONS[note_type]
        buckets: dict[str, list[str]] = {h: [] for h, _ in sections}
        for _, _, seg, kinds in chosen:
            heading = next((h for h, ks in sections if any(k in ks for k in kinds)), sections[-1][0])
            buckets[heading].append(seg)
        return [(h, " ".join(buckets[h]) or EMPTY[note_type]) for h, _ in sections]
