"""Utility of synthetic reports (issue item 5): train on synthetic, test on real, compare with training on real.

For each labelled report dataset in the shared data (Open-i with NegBio labels, CT-RATE), reports are split by a
keyed hash of their id (70/10/20, the reports module's :func:`split_ids`). For each synthesis method, every train and
validation report is replaced by a synthetic report generated from it (keywords only for ``keyword``) and inherits its
labels; a TF-IDF + logistic-regression classifier (one per label, thresholds tuned on the validation split of the
same kind of text) is trained on the synthetic reports and on the real ones, and both are tested on the same real
held-out reports. The result is the F1 ratio synthetic / real, macro (over labels with test positives) and micro.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from medpriv_desktop.core.jobs import Job, Progress, run_job
from medpriv_desktop.core.notes.synth.engines import get_engine
from medpriv_desktop.core.notes.synth.keywords import KeywordGate
from medpriv_desktop.core.notes.synth.methods import prepare_request
from medpriv_desktop.core.reports.thresholds import decide, tune_thresholds


def _fit_predict(train_texts: list[str], train_y: np.ndarray, val_texts: list[str], val_y: np.ndarray,
                 test_texts: list[str], seed: int = 0) -> np.ndarray:
    """TF-IDF (1-2 grams) + one balanced logistic regression per label; thresholds tuned on validation."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    xtr = vec.fit_transform(train_texts)
    xva, xte = vec.transform(val_texts), vec.transform(test_texts)
    pva = np.zeros((len(val_texts), train_y.shape[1]))
    pte = np.zeros((len(test_texts), train_y.shape[1]))
    for j in range(train_y.shape[1]):
        y = train_y[:, j]
        if y.min() == y.max():
            pva[:, j] = pte[:, j] = float(y[0])
            continue
        clf = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced", random_state=seed)
        clf.fit(xtr, y)
        pva[:, j] = clf.predict_proba(xva)[:, 1]
        pte[:, j] = clf.predict_proba(xte)[:, 1]
    return decide(pte, tune_thresholds(pva, val_y))


def f1_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Macro F1 over labels with positives in ``y_true``, and micro F1 over all label decisions."""
    y_true, y_pred = y_true.astype(bool), y_pred.astype(bool)
    tp = (y_true & y_pred).sum(0)
    fp = (~y_true & y_pred).sum(0)
    fn = (y_true & ~y_pred).sum(0)
    has = y_true.sum(0) > 0
    per = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1)
    return {"f1_macro": float(per[has].mean()) if has.any() else 0.0, "f1_micro": float(micro)}


def synthesize_texts(texts: list[str], method: str, detector: Any, engine: Any, seed: int = 0,
                     max_keywords: int = 20) -> Job[list[str]]:
    """One synthetic radiology report per text (keyword method: from the de-identified text's keywords)."""
    gate = KeywordGate(detector)
    out = []
    for i, text in enumerate(texts):
        if i % 50 == 0:
            yield Progress(i / max(len(texts), 1), f"{method}: {i}/{len(texts)}")
        mode = "tagged" if detector is not None else "raw"
        prep = prepare_request(text, method, detector, source_mode=mode, seed=seed + i, note_type="radiology",
                               max_keywords=max_keywords, gate=gate)
        out.append(engine.generate(prep.request))
    return out


def utility_experiment(datasets: list[Any], methods: list[str], detector: Any, engine_name: str = "template",
                       seed: int = 0, limit: int | None = None, max_keywords: int = 20) -> Job[dict[str, Any]]:
    """Run the experiment on ``ReportDataset`` objects (see the module docstring)."""
    from training.reports.data import split_ids

    engine = get_engine(engine_name)
    result: dict[str, Any] = {"engine": engine.describe(), "seed": seed, "classifier": "tfidf-1-2gram+logreg",
                              "max_keywords": max_keywords, "datasets": {}}
    for d_i, ds in enumerate(datasets):
        if limit:
            ds = ds.subset(list(range(min(limit, len(ds)))))
        tr, va, te = split_ids(ds.ids)
        tr_t, va_t, te_t = [ds.texts[i] for i in tr], [ds.texts[i] for i in va], [ds.texts[i] for i in te]
        ytr, yva, yte = ds.labels[tr], ds.labels[va], ds.labels[te]
        yield Progress(d_i / len(datasets), f"{ds.name}: real baseline")
        real = f1_scores(yte, _fit_predict(tr_t, ytr, va_t, yva, te_t, seed))
        entry: dict[str, Any] = {"n_train": len(tr), "n_val": len(va), "n_test": len(te), "real": real,
                                 "label_set": ds.label_set, "methods": {}}
        for method in methods:
            syn = yield from synthesize_texts(tr_t + va_t, method, detector, engine, seed, max_keywords)
            s_tr, s_va = syn[:len(tr_t)], syn[len(tr_t):]
            f = f1_scores(yte, _fit_predict(s_tr, ytr, s_va, yva, te_t, seed))
            entry["methods"][method] = {
                "f1_macro_synth": f["f1_macro"], "f1_micro_synth": f["f1_micro"],
                "ratio_macro": f["f1_macro"] / real["f1_macro"] if real["f1_macro"] else 0.0,
                "ratio_micro": f["f1_micro"] / real["f1_micro"] if real["f1_micro"] else 0.0}
        result["datasets"][ds.name] = entry
    yield Progress(1.0, "done")
    return result


def run_utility(data_root: str | Path, out_json: str | Path, specs: tuple[str, ...] = ("openi", "ctrate"),
                methods: tuple[str, ...] = ("keyword", "one-shot", "normalized"), limit: int | None = None,
                use_deid: bool = True, on_progress: Any = None, max_keywords: int = 20) -> dict[str, Any]:
    """Load the datasets, run the experiment and write ``out_json`` (numbers only)."""
    from training.reports.data import load_dataset

    detector = None
    if use_deid:
        from medpriv_desktop.core.notes.engine import DeidEngine

        detector = DeidEngine()
    datasets = [load_dataset(s, data_root) for s in specs]
    res = run_job(utility_experiment(datasets, list(methods), detector, limit=limit, max_keywords=max_keywords),
                  on_progress=on_progress)
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return res
