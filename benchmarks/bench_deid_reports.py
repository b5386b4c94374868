"""Over-removal on radiology reports: what the de-identification engine masks in public chest X-ray and chest CT
reports, which hold no names, places or contacts (their publishers de-identified them).

Reads ``../shared/data/reports/openi/indiana_reports.csv`` (indication, comparison, findings, impression; "XXXX" marks
text the publisher removed) and ``../shared/data/reports/ct-rate/train.csv`` (``report_text``), runs the app's engine
(rules + tagger, or ``--rules-only``) over every report in one process, and counts the masked word tokens:

- outside any "XXXX" (a span over a publisher's mark is not counted either way);
- split into DATE spans that hold a digit or a month name (CT-RATE keeps exam dates: masking them is right under Safe
  Harbor) and **everything else**, which is over-removal: an anatomical word, a disease, "PA view" read as a name.

And one recall probe: every all-numeric date with a four-digit year ("27.05.2020", "3/14/2019", "31-12-1999") in the
reports, and how many of them end up wholly masked (a date with one digit left is a leaked date).

Counts only, per corpus, category and recognizer; no report text or masked word is printed or written (a report may
still hold a name its publisher missed). Used to find over-removal shapes on text outside the PhysioNet notes (the
2026-12-06 clinical-lexicon change); a validation figure, never a locked one.

Usage: python benchmarks/run.py deid_reports [--rules-only]
Writes ``benchmarks/results/deid_reports.json``; skips with a message when the shared data is absent.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import medpriv_desktop  # noqa: F401  - offline switches before anything else

REPO = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"\w+")
_MONTH = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"(?<![\w/.\-])\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d(?![\w/]|\.\d)")


def read_reports(root: Path) -> list[tuple[str, str]]:
    """(corpus, text) for every report of both corpora. Open-i is read here, not by ``training.reports.data``'s
    loader, which keeps findings and impression only: the indication and comparison hold most of its "XXXX"."""
    from training.reports.data import load_ctrate

    out = []
    with open(root / "openi" / "indiana_reports.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            text = "\n".join(f"{k.upper()}: {r[k]}" for k in ("indication", "comparison", "findings", "impression")
                             if r.get(k))
            if text.strip():
                out.append(("openi", text))
    return out + [("ct-rate", t) for t in load_ctrate(root / "ct-rate").texts if t.strip()]


def count(reports: list[tuple[str, str]], analyze_many) -> dict:
    """Masked word tokens per corpus: dates (kept apart) and over-removal, with per-category / recognizer counts."""
    res: dict = {}
    for i in range(0, len(reports), 64):
        part = reports[i:i + 64]
        for (corpus, text), spans in zip(part, analyze_many([t for _, t in part])):
            r = res.setdefault(corpus, {"reports": 0, "word_tokens": 0, "date_tokens": 0, "over_removed_tokens": 0,
                                        "over_removed_spans": collections.Counter(), "numeric_dates": 0,
                                        "numeric_dates_masked": 0})
            r["reports"] += 1
            r["word_tokens"] += len(_WORD.findall(text))
            for d in _NUMERIC_DATE.finditer(text):
                r["numeric_dates"] += 1
                covered = set()
                for s in spans:
                    covered.update(range(max(s.start, d.start()), min(s.end, d.end())))
                r["numeric_dates_masked"] += all(i in covered for i in range(d.start(), d.end()) if text[i].isdigit())
            for s in spans:
                piece = text[s.start:s.end]
                if "XXXX" in piece:
                    continue
                n = len(_WORD.findall(piece))
                if s.category == "DATE" and (any(c.isdigit() for c in piece) or _MONTH.search(piece)):
                    r["date_tokens"] += n
                else:
                    r["over_removed_tokens"] += n
                    r["over_removed_spans"][f"{s.category} by {s.source}"] += 1
    for r in res.values():
        r["over_removed_per_10k_words"] = round(1e4 * r["over_removed_tokens"] / max(r["word_tokens"], 1), 2)
        r["over_removed_spans"] = dict(r["over_removed_spans"].most_common())
    return res


def main() -> int:
    """Run the engine over both corpora and print the counts."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules-only", action="store_true", help="the engine without the PHI tagger")
    a = ap.parse_args()
    env = os.environ.get("MEDPRIV_DATA")  # as the notes benchmark: MEDPRIV_DATA or ../shared/data
    root = (Path(env) if env else REPO.parent / "shared" / "data") / "reports"
    if not (root / "openi" / "indiana_reports.csv").is_file() or not (root / "ct-rate" / "train.csv").is_file():
        print(f"skipped: {root}/openi/indiana_reports.csv or ct-rate/train.csv not present")
        return 0
    from medpriv_desktop.core.app.notes import keep_torch_out

    keep_torch_out()  # as the app does: the engine never needs torch
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    reports = read_reports(root)
    engine = DeidEngine(EngineConfig(use_model=not a.rules_only))
    t0 = time.perf_counter()
    res = count(reports, engine.analyze_many)
    seconds = time.perf_counter() - t0
    system = "rules only" if a.rules_only else f"rules + {getattr(engine, 'model_id', None) or 'tagger'}"
    print(f"{system}: {len(reports)} reports in {seconds:.1f} s")
    for corpus, r in res.items():
        print(f"{corpus:8s} {r['reports']:5d} reports {r['word_tokens']:7d} words; dates masked {r['date_tokens']}; "
              f"over-removed {r['over_removed_tokens']} words ({r['over_removed_per_10k_words']} per 10,000); "
              f"numeric dates wholly masked {r['numeric_dates_masked']} of {r['numeric_dates']}")
        for k, v in r["over_removed_spans"].items():
            print(f"    {v:4d} spans  {k}")
    out = REPO / "benchmarks" / "results" / "deid_reports.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                               "system": system, "results": res}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
