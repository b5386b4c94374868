"""A `deid IN_DIR -o OUT_DIR` stand-in that runs Presidio's out-of-the-box analyzer, for side-by-side comparison.

Presidio's default configuration is ``AnalyzerEngine()``: every predefined recognizer of the default registry,
score threshold 0, and a spaCy NER model (``en_core_web_lg`` by default; the published out-of-the-box figure in
issue 5 used ``en_core_web_sm``). spaCy models are not PyPI packages of the project, so give one explicitly:

    MEDPRIV_PRESIDIO_SPACY_MODEL=/path/to/en_core_web_sm-3.8.0   (a model folder or an installed package name)

With it, this is Presidio's default configuration with that model (entities replaced by ``<TYPE>`` tags). Without
it, the same default registry runs on a blank English pipeline (no NER: names and places come only from
Presidio's pattern recognizers), and the benchmark labels the column ``presidio-default-blank``.
Usage: ``python benchmarks/presidio_default_deid.py deid IN -o OUT``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def build_engine():
    """Presidio's default analyzer; with ``MEDPRIV_PRESIDIO_SPACY_MODEL`` on that spaCy model, else on a blank one."""
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    for name in ("torch", "tensorflow", "transformers"):
        sys.modules.setdefault(name, None)  # same start-up treatment as medpriv deid
    from presidio_analyzer import AnalyzerEngine

    model = os.environ.get("MEDPRIV_PRESIDIO_SPACY_MODEL")
    if model:
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
        nlp = NlpEngineProvider(nlp_configuration=conf).create_engine()
        return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    from medpriv_desktop.core.notes.engine import blank_nlp_engine

    return AnalyzerEngine(nlp_engine=blank_nlp_engine(), supported_languages=["en"], default_score_threshold=0)


def main(argv: list[str]) -> int:
    """Tag every .txt of IN into OUT with Presidio defaults."""
    if len(argv) < 4 or argv[0] != "deid" or argv[2] != "-o":
        print("usage: presidio_default_deid.py deid IN_DIR -o OUT_DIR", file=sys.stderr)
        return 2
    engine = build_engine()
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
