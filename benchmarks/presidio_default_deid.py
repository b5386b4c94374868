"""A `deid IN_DIR -o OUT_DIR` stand-in that runs Presidio's out-of-the-box analyzer, for side-by-side comparison.

Presidio's default configuration needs the spaCy model ``en_core_web_lg`` (or ``_sm``), which cannot be installed
offline here; this runs every predefined recognizer of Presidio's default registry on a blank English spaCy pipeline
(so there is no spaCy NER: names and places come only from Presidio's pattern recognizers), score threshold 0,
entities replaced by ``<TYPE>`` tags. Usage: ``python benchmarks/presidio_default_deid.py deid IN -o OUT``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Tag every .txt of IN into OUT with Presidio defaults (blank pipeline)."""
    if len(argv) < 4 or argv[0] != "deid" or argv[2] != "-o":
        print("usage: presidio_default_deid.py deid IN_DIR -o OUT_DIR", file=sys.stderr)
        return 2
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    for name in ("torch", "tensorflow", "transformers"):
        sys.modules.setdefault(name, None)  # same start-up treatment as medpriv deid
    from presidio_analyzer import AnalyzerEngine

    from medpriv_desktop.core.notes.engine import blank_nlp_engine

    engine = AnalyzerEngine(nlp_engine=blank_nlp_engine(), supported_languages=["en"], default_score_threshold=0)
    src, out = Path(argv[1]), Path(argv[3])
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        results = sorted(engine.analyze(text=text, language="en"), key=lambda r: (r.start, -r.end))
        pieces, pos = [], 0
        for r in results:
            if r.start < pos:
                continue
            pieces += [text[pos: r.start], f"<{r.entity_type}>"]
            pos = r.end
        pieces.append(text[pos:])
        (out / f.name).write_text("".join(pieces), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
