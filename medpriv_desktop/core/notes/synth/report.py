"""Writing the ``eval synth`` report: ``report.json``, ``report.md`` and PNG charts.

The charts need matplotlib, which only the ``train`` extra installs; it is imported here lazily, and without it the
Markdown says plainly that the charts were skipped and why. The report holds numbers only, never note text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medpriv_desktop.core.fileio import atomic_path, atomic_write_text

CATEGORY_ORDER = ("NAME", "DATE", "LOCATION", "PHONE", "EMAIL", "URL", "IP", "ID", "AGE")


def _categories(result: dict[str, Any]) -> list[str]:
    seen = {t for c in result["configs"].values() for t in c["privacy"]["categories"]}
    return [t for t in CATEGORY_ORDER if t in seen] + sorted(seen - set(CATEGORY_ORDER))


def utility_for(utility: dict[str, Any] | None, method: str) -> dict[str, float] | None:
    """The mean utility ratios of ``method`` over the utility experiment's datasets, or None."""
    if not utility:
        return None
    rows = [d["methods"][method] for d in utility.get("datasets", {}).values() if method in d.get("methods", {})]
    if not rows:
        return None
    return {k: sum(r[k] for r in rows) / len(rows) for k in ("ratio_macro", "ratio_micro")}


def markdown(result: dict[str, Any], utility: dict[str, Any] | None = None, charts: list[str] | None = None,
             chart_note: str | None = None) -> str:
    """The side-by-side table (configurations x PHI categories, ROUGE, cosine, utility) and the details."""
    cats = _categories(result)
    hipaa = {t: c["hipaa"] for cfg in result["configs"].values() for t, c in cfg["privacy"]["categories"].items()}
    head = ["method/source"] + [f"{t} %" for t in cats] + ["any %", "8-gram %", "R-1", "R-2", "R-L", "cosine",
                                                            "utility macro", "utility micro"]
    lines = [f"# Synthetic notes: privacy, quality and utility\n",
             f"{result['n_notes']} source notes; engine `{result['engine'].get('engine')}`"
             f"{' (' + result['engine']['model_id'] + ')' if result['engine'].get('model_id') else ''}; "
             f"seed {result.get('seed', 0)}"
             f"{'; at most ' + str(result['max_keywords']) + ' keywords a note' if result.get('max_keywords') else ''}.\n",
             "PHI columns: share of notes whose source has the category and whose synthetic note contains one of "
             "its values (names: first and last name together; dates by pattern). 8-gram: share of the synthetic "
             "note's 8-grams found verbatim in its source. Utility: F1 of a classifier trained on synthetic reports "
             "divided by F1 of the same classifier trained on real ones, both tested on real held-out reports.\n",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, cfg in result["configs"].items():
        pc, q = cfg["privacy"]["categories"], cfg["quality"]
        u = utility_for(utility, cfg["method"])
        row = [label] + [f"{100 * pc[t]['rate']:.1f}" if t in pc else "-" for t in cats]
        row += [f"{100 * cfg['privacy']['any_leak_rate']:.1f}", f"{100 * cfg['privacy']['ngram8_overlap']:.1f}"]
        row += [f"{q.get(k, float('nan')):.3f}" for k in ("rouge1", "rouge2", "rougeL")]
        row += [f"{q['cosine']:.3f}" if "cosine" in q else "-"]
        row += [f"{u['ratio_macro']:.3f}", f"{u['ratio_micro']:.3f}"] if u else ["-", "-"]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "HIPAA identifiers: " + "; ".join(f"{t} = {hipaa.get(t, '')}" for t in cats) + ".", "",
              "## Co-occurrence (notes leaking 2, 3, 4, 5 categories at once)", "",
              "| method/source | 2 | 3 | 4 | 5 | single-word names % | de-identifier flags in output % |",
              "|---|---|---|---|---|---|---|"]
    for label, cfg in result["configs"].items():
        p = cfg["privacy"]
        det = sum(p["detector_rate"].values()) if p["detector_rate"] else 0.0
        co = p["cooccurrence"]
        lines.append(f"| {label} | {co['2']} | {co['3']} | {co['4']} | {co['5']} | "
                     f"{100 * p['name_single_word_rate']:.1f} | {100 * det:.1f} (sum over categories) |")
    if utility:
        lines += ["", "## Utility (TF-IDF + logistic regression, real held-out test reports)", "",
                  "| dataset | method | F1 macro synth | F1 macro real | ratio | F1 micro synth | F1 micro real | ratio |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, d in utility.get("datasets", {}).items():
            for m, r in d.get("methods", {}).items():
                lines.append(f"| {name} | {m} | {r['f1_macro_synth']:.3f} | {d['real']['f1_macro']:.3f} | "
                             f"{r['ratio_macro']:.3f} | {r['f1_micro_synth']:.3f} | {d['real']['f1_micro']:.3f} | "
                             f"{r['ratio_micro']:.3f} |")
    lines += [""]
    if charts:
        lines += [f"![{c}]({c})" for c in charts]
    if chart_note:
        lines += [f"_{chart_note}_"]
    return "\n".join(lines) + "\n"


def occurrence_chart(result: dict[str, Any], target: Path) -> bool:
    """Grouped bars of occurrence rate per category per configuration; False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cats = _categories(result)
    labels = list(result["configs"])
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(cats), 4), dpi=100)
    width = 0.8 / max(1, len(labels))
    for j, label in enumerate(labels):
        pc = result["configs"][label]["privacy"]["categories"]
        ax.bar([i + j * width for i in range(len(cats))], [100 * pc.get(t, {}).get("rate", 0.0) for t in cats],
               width, label=label)
    ax.set_xticks([i + width * (len(labels) - 1) / 2 for i in range(len(cats))], cats)
    ax.set_ylabel("notes with the source's PHI (%)")
    ax.set_ylim(0, 100)
    ax.set_title("PHI occurrence in synthetic notes, per category and method")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return True


def write_report(result: dict[str, Any], out_dir: str | Path, utility: dict[str, Any] | None = None) -> list[Path]:
    """Write ``report.json``, ``report.md`` and ``occurrence.png`` (when matplotlib is installed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    charts, note = [], None
    if occurrence_chart(result, out / "occurrence.png"):
        charts.append("occurrence.png")
        written.append(out / "occurrence.png")
    else:
        note = ("PNG charts skipped: matplotlib is not installed (it comes with the train extra: "
                "pip install 'medpriv-desktop[train]').")
    atomic_write_text(out / "report.json", json.dumps({**result, "utility": utility, "chart_note": note}, indent=2,
                                                      sort_keys=True) + "\n")
    atomic_write_text(out / "report.md", markdown(result, utility, charts, note))
    return [out / "report.json", out / "report.md", *written]
