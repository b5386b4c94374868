"""``medpriv-train reports audit``: measured leakage of the shipped recipe, by one-run canary auditing.

Method: Steinke, Nasr and Jagielski, "Privacy Auditing with One (1) Training Run", NeurIPS 2023. Each of m canaries
joins the training set independently with probability 1/2; after one training run an auditor ranks the canaries by
how well the model knows them and guesses "member" for the top and "non-member" for the bottom of the ranking. If
the run is (epsilon, delta)-DP, the number of correct guesses among r guesses is at most Binomial(r, e^eps / (1 +
e^eps)) plus a delta term (:func:`p_value`); the largest epsilon that the observed count rejects at the stated
confidence is an empirical lower bound on the run's epsilon. It can only ever under-state the leakage: a bound far
below the accounted epsilon says the attack is weak, not that the model is safer than accounted.

The design, fixed before any audit run (changing it means a new design, stated as such):

- **Canaries**: m = 1000 reports, each ``FINDINGS: <phrase>.`` where the phrase is 6 invented pseudo-words built
  from random syllables (seeded, :data:`CANARY_SEED`), unique to that canary and absent from every real report; the
  rule labeler finds no mention in them, so only the text (the encoder residual) can carry them.
- **Chosen label**: canary i is labelled positive for exactly one label, ``i mod L`` (L labels of the dataset), every
  other label 0.
- **Copies**: 1 copy per included canary (so the audit measures per-record epsilon, not group privacy).
- **Inclusion**: independent Bernoulli(1/2) per canary, seeded (:data:`INCLUSION_SEED`).
- **Training**: the shipped recipe (:func:`~training.reports.hybrid_run.hybrid_recipe`, seed 0) on the dataset's
  training split plus the included canaries, at epsilon 0.01, 0.1, 1, 10 and inf (the same recipe without DP);
  delta = 1/(10 N) with N the training set size including canaries.
- **Score**: the canary's logit for its chosen label minus the mean of its other logits (removes what all the
  invented-word canaries share).
- **Guesses**: for each k in :data:`GUESSES`, "member" for the k/2 highest scores and "non-member" for the k/2
  lowest; each k's bound is computed at confidence 1 - 0.05/len(GUESSES) (Bonferroni), and the largest is reported,
  so the reported bound holds at 95% confidence overall.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from medpriv_desktop.core.fileio import atomic_write_text

M_CANARIES = 1000
CANARY_WORDS = 6
CANARY_SEED = 20231
INCLUSION_SEED = 20232
GUESSES = (20, 50, 100, 200, 500, 1000)
CONFIDENCE = 0.95
_SYLLABLES = ("ka", "zor", "vil", "mep", "tru", "quo", "sned", "lax", "brim", "yod", "fen", "gup", "wix", "plo",
              "drae", "nuk", "hes", "jib", "orv", "tam", "cel", "ruq", "ib", "oz")


def canary_texts(m: int | None = None, seed: int = CANARY_SEED) -> list[str]:
    """``m`` (default :data:`M_CANARIES`) unique canary reports of invented words."""
    m = M_CANARIES if m is None else m
    rng = random.Random(seed)
    seen: set[str] = set()
    out = []
    while len(out) < m:
        words = ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(CANARY_WORDS)]
        phrase = " ".join(words)
        if phrase not in seen:
            seen.add(phrase)
            out.append(f"FINDINGS: {phrase[:1].upper() + phrase[1:]}.")
    return out


def canary_labels(m: int, n_labels: int) -> np.ndarray:
    """One-hot chosen labels: canary i is positive for label ``i mod n_labels``."""
    y = np.zeros((m, n_labels), dtype=np.float32)
    y[np.arange(m), np.arange(m) % n_labels] = 1.0
    return y


def inclusion(m: int | None = None, seed: int = INCLUSION_SEED) -> np.ndarray:
    """Which of ``m`` (default :data:`M_CANARIES`) canaries join the training set (Bernoulli 1/2 each)."""
    m = M_CANARIES if m is None else m
    return np.random.default_rng(seed).random(m) < 0.5


def p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """Probability of at least ``v`` correct guesses out of ``r`` under the hypothesis that the run is
    (eps, delta)-DP (Steinke, Nasr, Jagielski 2023): the binomial tail at accuracy e^eps / (1 + e^eps), plus
    2 m delta times the largest average of the binomial mass just below ``v``."""
    from scipy import stats

    if not 0 <= v <= r <= m:
        raise ValueError("need 0 <= v <= r <= m")
    q = 1.0 / (1.0 + math.exp(-eps))
    tail = float(stats.binom.sf(v - 1, r, q))
    below = np.cumsum(stats.binom.pmf(np.arange(v - 1, -1, -1), r, q))  # P[v - i <= B < v] for i = 1..v
    alpha = float(np.max(below / np.arange(1, v + 1))) if v else 0.0
    return min(1.0, tail + 2.0 * m * delta * alpha)


def epsilon_lower_bound(m: int, r: int, v: int, delta: float, beta: float) -> float:
    """The largest epsilon rejected at level ``beta`` by ``v`` correct guesses of ``r`` (0 when none is)."""
    if r == 0 or p_value(m, r, v, 0.0, delta) >= beta:
        return 0.0
    lo, hi = 0.0, 1.0
    while p_value(m, r, v, hi, delta) < beta:
        lo, hi = hi, hi * 2
        if hi > 200:
            return lo
    for _ in range(50):
        mid = (lo + hi) / 2
        if p_value(m, r, v, mid, delta) < beta:
            lo = mid
        else:
            hi = mid
    return lo


def audit_scores(scores: np.ndarray, member: np.ndarray, delta: float) -> dict[str, Any]:
    """Guess from ``scores`` (higher = member) and return the bound per k and the reported (largest) one."""
    m = len(scores)
    order = np.argsort(-scores, kind="stable")
    beta = (1 - CONFIDENCE) / len(GUESSES)
    rows = []
    for k in GUESSES:
        half = min(k // 2, m // 2)
        top, bottom = order[:half], order[m - half:]
        v = int(member[top].sum() + (~member[bottom]).sum())
        rows.append({"guesses": 2 * half, "correct": v,
                     "epsilon_lower_bound": epsilon_lower_bound(m, 2 * half, v, delta, beta)})
    best = max(rows, key=lambda r: r["epsilon_lower_bound"])
    return {"per_k": rows, "epsilon_lower_bound": best["epsilon_lower_bound"], "best_guesses": best["guesses"],
            "best_correct": best["correct"], "confidence": CONFIDENCE}


def run_audit(dataset: str, data_root: Path, out_dir: Path, epsilons: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0,
                                                                                          math.inf),
              cache_dir: Path | None = None, log: Callable[[str], Any] = print) -> list[dict[str, Any]]:
    """Run the audit design for each epsilon (resumable: one JSON per epsilon), then the table and the plot."""
    from training.reports.data import load_dataset
    from training.reports.features import pooled_features, prepare, rule_inputs
    from training.reports.hybrid import train_hybrid
    from training.reports.hybrid_run import hybrid_recipe, load_hybrid_data

    ds = load_dataset(dataset, data_root)
    base = hybrid_recipe(dataset)
    data = load_hybrid_data(ds, base, cache_dir, log)
    tr = data.split[0]
    texts = prepare(canary_texts())
    c_pooled = pooled_features(texts, base.num_layers, base.max_tokens, base.backbone, cache_dir, log=log)
    c_rules = rule_inputs(texts, ds.label_set)
    c_y = canary_labels(M_CANARIES, len(ds.label_names))
    member = inclusion()
    pooled = np.concatenate([data.pooled[tr], c_pooled[member]])
    rules = np.concatenate([data.rules[tr], c_rules[member]])
    y = np.concatenate([ds.labels[tr], c_y[member]])
    rdir = Path(out_dir) / "runs" / ds.name
    rdir.mkdir(parents=True, exist_ok=True)
    for eps in epsilons:
        tag = "inf" if not math.isfinite(eps) else f"{eps:g}"
        target = rdir / f"audit-eps{tag}.json"
        if target.exists():
            log(f"{ds.name} audit eps {tag}: done before, skipped")
            continue
        cfg = replace(base, method="dp-rules-head" if math.isfinite(eps) else "rules-head", target_epsilon=eps)
        res = train_hybrid(cfg, pooled, rules, y, data.mean, data.std, log)
        import torch

        with torch.no_grad():
            logits = res.head(res.head.inputs(torch.as_tensor(c_pooled), torch.as_tensor(c_rules))).numpy()
        chosen = c_y.astype(bool)
        score = logits[chosen] - (logits.sum(1) - logits[chosen]) / max(1, logits.shape[1] - 1)
        delta = res.privacy["delta"]
        rec = {"dataset": ds.name, "target_epsilon": tag, "privacy": {k: (None if isinstance(v, float) and
                                                                            not math.isfinite(v) else v)
                                                                        for k, v in res.privacy.items()},
               "n_train": len(y), "canaries": len(member), "included": int(member.sum()),
               **audit_scores(score, member, delta)}
        atomic_write_text(target, json.dumps(rec, indent=2))
        log(f"{ds.name} audit eps {tag}: empirical lower bound {rec['epsilon_lower_bound']:.3f} "
            f"({rec['best_correct']}/{rec['best_guesses']} guesses right)")
    records = [json.loads(f.read_text()) for f in sorted(rdir.parent.glob("*/audit-eps*.json"))]
    write_audit_table(records, Path(out_dir))
    plot_audit(records, Path(out_dir) / "audit_plot.png")
    return records


def _eps_key(r: dict[str, Any]) -> float:
    return math.inf if r["target_epsilon"] == "inf" else float(r["target_epsilon"])


def write_audit_table(records: list[dict[str, Any]], out_dir: Path) -> str:
    """``audit_table.md`` and ``audit_table.json``: accounted epsilon against the empirical lower bound."""
    rows = sorted(records, key=lambda r: (r["dataset"], _eps_key(r)))
    lines = ["| dataset | target eps | accounted eps | empirical lower bound (95%) | correct / guesses | "
             "canaries in training |", "|---|---|---|---|---|---|"]
    for r in rows:
        acc = r["privacy"].get("epsilon")
        lines.append(f"| {r['dataset']} | {r['target_epsilon']} | {'inf' if acc is None else f'{acc:.3g}'} | "
                     f"{r['epsilon_lower_bound']:.3f} | {r['best_correct']} / {r['best_guesses']} | "
                     f"{r['included']} of {r['canaries']} |")
    md = "\n".join(lines) + "\n"
    atomic_write_text(out_dir / "audit_table.md", md)
    atomic_write_text(out_dir / "audit_table.json", json.dumps(rows, indent=2))
    return md


def plot_audit(records: list[dict[str, Any]], path: Path) -> None:
    """Empirical lower bound against accounted epsilon (log x axis; rightmost point: no DP), y = x for reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2), dpi=120)
    finite = [_eps_key(r) for r in records if math.isfinite(_eps_key(r))]
    x_inf = max(finite) * 10 if finite else 100.0
    for i, dsn in enumerate(sorted({r["dataset"] for r in records})):
        rs = sorted((r for r in records if r["dataset"] == dsn), key=_eps_key)
        xs = [x_inf if not math.isfinite(_eps_key(r)) else (r["privacy"].get("epsilon") or _eps_key(r)) for r in rs]
        ax.plot(xs, [r["epsilon_lower_bound"] for r in rs], marker="o", color=f"C{i}",
                label=f"{dsn}: empirical lower bound (95%)")
    grid = np.logspace(-2, math.log10(x_inf), 50)
    ax.plot(grid, np.minimum(grid, x_inf), ls=":", color="grey", label="accounted epsilon (y = x)")
    ax.set_xscale("log")
    ax.set_xlabel("accounted epsilon (rightmost point: no DP)")
    ax.set_ylabel("empirical epsilon lower bound")
    ax.set_ylim(0, max(2.0, max((r["epsilon_lower_bound"] for r in records), default=0) * 1.2))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("One-run canary audit of the shipped recipe")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
