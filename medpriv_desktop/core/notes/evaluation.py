"""Evaluation of the de-identification engine on annotated corpora.

Readers: the PhysioNet deid format (``id.text`` + ``id-phi.phrase``), BRAT standoff (``x.txt`` + ``x.ann`` with
``T1<TAB>TYPE start end<TAB>text`` lines), and JSONL (one ``{"id", "text", "spans": [[start, end, type], ...]}`` a
line). Scores, per gold category (recall) and per predicted category (precision), both at token level (word tokens,
as the shared harness counts them: a gold token is found when any predicted span covers it, whatever its category)
and at span level (a gold span is found when all its word tokens are covered; a predicted span is right when it
overlaps any gold span). Misses can be written to a file for a person to read; that file holds note text, so it is
written only where the user asks.
"""

from __future__ import annotations

import collections
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress

_WORD = re.compile(r"\w+")


@dataclass
class GoldDoc:
    """One annotated document."""

    doc_id: str
    text: str
    spans: list[tuple[int, int, str]]


@dataclass
class Counts:
    """tp/fp/fn counts with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp)."""
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        """tp / (tp + fn)."""
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / max(p + r, 1e-12)


@dataclass
class EvalReport:
    """Token- and span-level counts overall and per category, plus the misses (kept in memory only)."""

    docs: int = 0
    token: dict[str, Counts] = field(default_factory=lambda: collections.defaultdict(Counts))
    span: dict[str, Counts] = field(default_factory=lambda: collections.defaultdict(Counts))
    misses: list[tuple[str, int, int, str]] = field(default_factory=list)  # doc id, start, end, category

    def table(self) -> str:
        """A plain-text table of the scores (no note text)."""
        lines = [f"{'level':6s} {'category':20s} {'tp':>6s} {'fp':>6s} {'fn':>6s} {'prec':>6s} {'rec':>6s} {'f1':>6s}"]
        for level, d in (("token", self.token), ("span", self.span)):
            for cat in sorted(d, key=lambda c: (c != "ALL", c)):
                c = d[cat]
                lines.append(f"{level:6s} {cat:20s} {c.tp:6d} {c.fp:6d} {c.fn:6d} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """Scores as plain data (for JSON)."""
        def dump(d):
            return {k: {"tp": v.tp, "fp": v.fp, "fn": v.fn, "precision": round(v.precision, 4),
                        "recall": round(v.recall, 4), "f1": round(v.f1, 4)} for k, v in sorted(d.items())}
        return {"docs": self.docs, "token": dump(self.token), "span": dump(self.span)}


# -- readers -------------------------------------------------------------------------------------------------------

def read_physionet_corpus(folder: Path) -> list[GoldDoc]:
    """PhysioNet deid: ``folder/id.text`` and ``folder/id-phi.phrase``."""
    folder = Path(folder)
    text_file = folder / "id.text"
    if not text_file.is_file():
        raise InputError("no id.text in this folder (PhysioNet deid format)", path=folder)
    raw = text_file.read_text(encoding="latin-1")
    recs = re.findall(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", raw, re.S)
    docs = {(p, n): GoldDoc(f"{p}-{n}", body, []) for p, n, body in recs}
    phrase = folder / "id-phi.phrase"
    if phrase.is_file():
        for line in phrase.read_text(encoding="latin-1").splitlines():
            f = line.split(None, 5)
            if len(f) >= 5 and (f[0], f[1]) in docs:
                docs[(f[0], f[1])].spans.append((int(f[2]), int(f[3]), f[4]))
    return list(docs.values())


def read_brat_corpus(folder: Path) -> list[GoldDoc]:
    """BRAT standoff: every ``x.txt`` with its ``x.ann`` (text-bound ``T`` lines; discontinuous parts kept)."""
    folder = Path(folder)
    docs = []
    for txt in sorted(folder.glob("*.txt")):
        ann = txt.with_suffix(".ann")
        spans = []
        if ann.is_file():
            for line in ann.read_text(encoding="utf-8").splitlines():
                if not line.startswith("T"):
                    continue
                parts = line.split("\t")
                if len(parts) < 2:
                    raise InputError(f"malformed BRAT line (no tab): {parts[0][:10]}", path=ann)
                typ, _, ranges = parts[1].partition(" ")
                for rng in ranges.split(";"):
                    s, e = rng.split()
                    spans.append((int(s), int(e), typ))
        docs.append(GoldDoc(txt.stem, txt.read_text(encoding="utf-8"), spans))
    if not docs:
        raise InputError("no .txt/.ann pairs in this folder (BRAT format)", path=folder)
    return docs


def read_jsonl_corpus(path: Path) -> list[GoldDoc]:
    """JSONL: ``{"id": ..., "text": ..., "spans": [[start, end, type], ...]}`` per line."""
    docs = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                docs.append(GoldDoc(str(d.get("id", n)), d["text"], [(int(s), int(e), str(t)) for s, e, t in d.get("spans", [])]))
            except (ValueError, KeyError, TypeError):
                raise InputError(f"line {n} is not a JSON object with text and spans", path=path) from None
    return docs


def read_corpus(path: Path, fmt: str = "auto") -> list[GoldDoc]:
    """Read an annotated corpus in ``fmt`` (physionet, brat, jsonl) or guess it from the path."""
    path = Path(path)
    if fmt == "auto":
        fmt = "jsonl" if path.suffix == ".jsonl" else "physionet" if (path / "id.text").exists() else "brat"
    readers = {"physionet": read_physionet_corpus, "brat": read_brat_corpus, "jsonl": read_jsonl_corpus}
    if fmt not in readers:
        raise InputError(f"unknown corpus format '{fmt}'", hint="physionet, brat or jsonl")
    if not path.exists():
        raise InputError("corpus not found", path=path)
    return readers[fmt](path)


# -- scoring -------------------------------------------------------------------------------------------------------

def score_document(doc: GoldDoc, predicted: list, report: EvalReport) -> None:
    """Add one document's counts to ``report``. ``predicted`` holds PhiSpan-like objects."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(doc.text)]
    gold_cat: dict[int, str] = {}
    for s, e, cat in doc.spans:
        for i, (ws, we) in enumerate(words):
            if ws < e and we > s:
                gold_cat[i] = cat
    pred_cat: dict[int, str] = {}
    for p in predicted:
        for i, (ws, we) in enumerate(words):
            if ws < p.end and we > p.start:
                pred_cat[i] = p.category
    for i in set(gold_cat) | set(pred_cat):
        g, p = gold_cat.get(i), pred_cat.get(i)
        if g and p:
            report.token[g].tp += 1
            report.token["ALL"].tp += 1
        elif g:
            report.token[g].fn += 1
            report.token["ALL"].fn += 1
        else:
            report.token[f"pred:{p}"].fp += 1
            report.token["ALL"].fp += 1
    for s, e, cat in doc.spans:
        idx = [i for i, (ws, we) in enumerate(words) if ws < e and we > s]
        if not idx:
            continue
        if all(i in pred_cat for i in idx):
            report.span[cat].tp += 1
            report.span["ALL"].tp += 1
        else:
            report.span[cat].fn += 1
            report.span["ALL"].fn += 1
            report.misses.append((doc.doc_id, s, e, cat))
    for p in predicted:
        if not any(p.start < e and s < p.end for s, e, _ in doc.spans):
            report.span[f"pred:{p.category}"].fp += 1
            report.span["ALL"].fp += 1
    report.docs += 1


def evaluate_corpus(docs: list[GoldDoc], engine, per_document: list[EvalReport] | None = None) -> Job[EvalReport]:
    """Run ``engine.analyze`` on every document and score it (a job: progress, cancellable); with
    ``per_document``, also append each document's own report there (for bootstrap intervals)."""
    report = EvalReport()
    for i, doc in enumerate(docs):
        yield Progress(i / max(len(docs), 1), f"document {i + 1}/{len(docs)}")
        predicted = engine.analyze(doc.text)
        score_document(doc, predicted, report)
        if per_document is not None:
            own = EvalReport()
            score_document(doc, predicted, own)
            per_document.append(own)
    yield Progress(1.0, "done")
    return report


def write_misses(report: EvalReport, docs: list[GoldDoc], path: Path, context: int = 50) -> int:
    """Write each missed gold span with some context to ``path`` (contains note text: only where the user asks)."""
    from medpriv_desktop.core.fileio import atomic_open

    by_id = {d.doc_id: d for d in docs}
    with atomic_open(path) as fh:
        fh.write("# missed PHI spans: document, category, [[span]] in context. Contains note text: keep it safe.\n")
        for doc_id, s, e, cat in report.misses:
            t = by_id[doc_id].text
            left = t[max(0, s - context): s].replace("\n", " ")
            right = t[e: e + context].replace("\n", " ")
            fh.write(f"{doc_id}\t{cat}\t...{left}[[{t[s:e]}]]{right}...\n")
    return len(report.misses)
