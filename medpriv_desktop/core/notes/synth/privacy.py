"""Privacy assessment of synthetic notes against the PHI of their own sources (Chuang et al.'s occurrence measure).

For each (source, gold PHI spans, synthetic note) the assessment asks which PHI values of the source occur in the
synthetic note:

- names count when the whole multi-word value (first and last name together) occurs; single-word names are counted
  apart (``name_single_word``) because a lone first name or surname is mostly an ordinary word;
- dates are found by pattern in the synthetic note (``8/18``, ``8/18/2017``, ``Aug 18``, ``18 August``) and compared
  by month and day (and year when both have one); a year alone is a four-digit match;
- phone numbers by their digits; everything else as a case-insensitive whole phrase.

Categories are the project's PHI categories (:mod:`medpriv_desktop.core.notes.spans`) grouped by their tag, each with
its HIPAA Safe Harbor identifier. Per method: occurrence rate per category (notes whose source has the category and
whose synthetic note contains at least one of its values), co-occurrence counts of 2 to 5 categories in one note,
verbatim 8-gram overlap with the source, and the de-identifier's own findings in the output as a second check.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.notes.spans import CATEGORIES, NAME_CATEGORIES

#: PhysioNet deid gold types -> project categories.
PHYSIONET_CATEGORIES = {"PTName": "PATIENT", "HCPName": "CLINICIAN", "RelativeProxyName": "RELATIVE",
                        "Date": "DATE", "DateYear": "YEAR", "Location": "LOCATION", "Phone": "PHONE"}
MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_NUM_DATE = re.compile(r"(?<!\d)(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?(?!\d)")
_MON_DAY = re.compile(rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
_DAY_MON = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}(?:,?\s+(\d{{4}}))?", re.I)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_PHONEISH = re.compile(r"\d[\d\s().\-/]{5,}\d")
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class PhiValue:
    """One PHI value of a source: category (project name) and its text."""

    category: str
    text: str

    @property
    def tag(self) -> str:
        """Category group (NAME, DATE, LOCATION, PHONE, ID, ...)."""
        return CATEGORIES[self.category].tag


def tag_hipaa() -> dict[str, str]:
    """Category group (tag) -> HIPAA Safe Harbor identifier of the group's first category."""
    out: dict[str, str] = {}
    for c in CATEGORIES.values():
        out.setdefault(c.tag, c.hipaa)
    return out


def group_values(text: str, spans: list[tuple[int, int, str]]) -> list[PhiValue]:
    """Values from gold spans ``(start, end, category)``; neighbouring spans of one category separated only by
    spaces or punctuation join (``john`` + ``bowman`` -> ``john bowman``)."""
    out: list[list[Any]] = []
    for start, end, cat in sorted(spans):
        if out and out[-1][2] == cat and re.fullmatch(r"[\s.,'-]{0,3}", text[out[-1][1]:start] or ""):
            out[-1][1] = end
        else:
            out.append([start, end, cat])
    return [PhiValue(c, text[s:e].strip()) for s, e, c in out if text[s:e].strip()]


def _date_keys(text: str) -> set[tuple[int, int, int | None]]:
    keys: set[tuple[int, int, int | None]] = set()

    def year(y: str | None) -> int | None:
        if not y:
            return None
        v = int(y)
        return v + (2000 if v < 50 else 1900) if v < 100 else v

    for m in _NUM_DATE.finditer(text):
        mo, d = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            keys.add((mo, d, year(m.group(3))))
    for m in _MON_DAY.finditer(text):
        keys.add((MONTHS[m.group(1).lower()[:3]], int(m.group(2)), year(m.group(3))))
    for m in _DAY_MON.finditer(text):
        keys.add((MONTHS[m.group(2).lower()[:3]], int(m.group(1)), year(m.group(3))))
    return keys


def _phrase_in(value: str, text_low: str) -> bool:
    words = _TOKEN.findall(value.lower())
    if not words:
        return False
    return re.search(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(map(re.escape, words)) + r"(?![a-z0-9])", text_low) is not None


def occurs(value: PhiValue, synthetic: str) -> bool:
    """True when ``value`` occurs in ``synthetic`` (rules in the module docstring)."""
    low = synthetic.lower()
    if value.category in NAME_CATEGORIES:
        return len(_TOKEN.findall(value.text.lower())) >= 2 and _phrase_in(value.text, low)
    if value.category in ("DATE", "HOLIDAY"):
        src = _date_keys(value.text)
        if not src:
            return len(value.text.strip(" .")) >= 3 and _phrase_in(value.text, low)
        got = _date_keys(synthetic)
        return any(a[:2] == b[:2] and (a[2] is None or b[2] is None or a[2] == b[2]) for a in src for b in got)
    if value.category == "YEAR":
        ys = _YEAR.findall(value.text)
        return bool(ys) and any(y in _YEAR.findall(synthetic) for y in ys)
    if value.category in ("PHONE", "FAX"):
        digits = re.sub(r"\D", "", value.text)
        return len(digits) >= 7 and any(digits in re.sub(r"\D", "", m.group()) for m in _PHONEISH.finditer(synthetic))
    return _phrase_in(value.text, low)


def single_word_name(value: PhiValue, synthetic: str) -> bool:
    """A one-word name that occurs as a whole word (reported apart from full names)."""
    return value.category in NAME_CATEGORIES and len(_TOKEN.findall(value.text.lower())) == 1 \
        and _phrase_in(value.text, synthetic.lower())


def ngram_overlap(source: str, synthetic: str, n: int = 8) -> tuple[int, int]:
    """(synthetic n-grams also in the source, all synthetic n-grams), on lower-cased alphanumeric tokens."""
    s, t = _TOKEN.findall(source.lower()), _TOKEN.findall(synthetic.lower())
    src = {tuple(s[i:i + n]) for i in range(len(s) - n + 1)}
    grams = [tuple(t[i:i + n]) for i in range(len(t) - n + 1)]
    return sum(g in src for g in grams), len(grams)


@dataclass
class NoteAssessment:
    """What one synthetic note leaked (category groups -> counts; no text)."""

    present: dict[str, int]
    leaked: dict[str, int]
    name_single_word: int = 0
    shared_8grams: int = 0
    total_8grams: int = 0
    detector_spans: dict[str, int] = field(default_factory=dict)


def assess_note(source: str, values: list[PhiValue], synthetic: str, detector: Any = None) -> NoteAssessment:
    """Assess one synthetic note against its source's PHI values."""
    present: Counter[str] = Counter(v.tag for v in values if not (v.category in NAME_CATEGORIES and
                                                                  len(_TOKEN.findall(v.text.lower())) < 2))
    leaked: Counter[str] = Counter(v.tag for v in values if occurs(v, synthetic))
    single = sum(single_word_name(v, synthetic) for v in values)
    shared, total = ngram_overlap(source, synthetic)
    det: Counter[str] = Counter()
    if detector is not None:
        det.update(CATEGORIES[s.category].tag for s in detector.analyze(synthetic))
    return NoteAssessment(dict(present), dict(leaked), single, shared, total, dict(det))


def summarize(notes: list[NoteAssessment]) -> dict[str, Any]:
    """Rates and co-occurrence over one method's notes (see the module docstring)."""
    n = len(notes)
    tags = sorted({t for a in notes for t in a.present} | {t for a in notes for t in a.leaked})
    hipaa = tag_hipaa()
    per_cat = {}
    for t in tags:
        with_src = [a for a in notes if a.present.get(t)]
        hit = sum(1 for a in notes if a.leaked.get(t))
        per_cat[t] = {"hipaa": hipaa.get(t, ""), "notes_with_category": len(with_src),
                      "notes_leaking": hit, "rate": hit / len(with_src) if with_src else 0.0,
                      "values_present": sum(a.present.get(t, 0) for a in notes),
                      "values_leaked": sum(a.leaked.get(t, 0) for a in notes)}
    k_counts = Counter(len([t for t, v in a.leaked.items() if v]) for a in notes)
    combos = Counter("+".join(sorted(t for t, v in a.leaked.items() if v)) for a in notes
                     if len([t for t, v in a.leaked.items() if v]) >= 2)
    shared = sum(a.shared_8grams for a in notes)
    total = sum(a.total_8grams for a in notes)
    det_tags = sorted({t for a in notes for t in a.detector_spans})
    return {
        "n_notes": n,
        "categories": per_cat,
        "any_leak_rate": sum(1 for a in notes if any(a.leaked.values())) / n if n else 0.0,
        "name_single_word_rate": sum(1 for a in notes if a.name_single_word) / n if n else 0.0,
        "cooccurrence": {str(k): k_counts.get(k, 0) for k in range(2, 6)},
        "cooccurrence_combinations": dict(combos.most_common()),
        "ngram8_overlap": shared / total if total else 0.0,
        "notes_with_shared_8gram": sum(1 for a in notes if a.shared_8grams) / n if n else 0.0,
        "detector_rate": {t: sum(1 for a in notes if a.detector_spans.get(t)) / n for t in det_tags} if n else {},
    }
