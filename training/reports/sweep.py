"""The epsilon sweep: the rules + encoder head (``dp-rules-head``, :mod:`.hybrid`), DP-LoRA and DP on the pooled-feature
head at several epsilons (inf = non-private) x datasets x seeds, plus baselines (the rule labeler, TF-IDF + logistic
regression, full fine-tuning).

Every run writes ``runs/<dataset>/<run>.json`` when it finishes and is skipped when that file exists, so an
interrupted sweep resumes run by run. DP-LoRA and DP-head runs tune thresholds on the validation split (outside
epsilon: those records are kept from the earlier sweep); ``dp-rules-head`` runs use the fixed threshold 0.5 and tune
nothing. F1 is measured on the test split. At the end the table (Markdown + JSON) and the
privacy-utility plot (PNG) are rebuilt from all finished runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from medpriv_desktop.core.fileio import atomic_write_text
from training.reports.data import ReportDataset, load_dataset, split_ids
from medpriv_desktop.core.reports.labeler import MENTIONS as RULE_SETS
from training.reports.hybrid import HYBRID_METHODS
from training.reports.hybrid import config_dict as hybrid_config_dict
from training.reports.hybrid_run import hybrid_recipe, load_hybrid_data, rule_decisions, run_hybrid, write_per_label
from training.reports.metrics import evaluate_probs, tfidf_baseline
from training.reports.train import TrainConfig, config_dict, predict_cached, train_classifier

DEFAULT_EPSILONS = (0.01, 0.1, 1.0, 10.0, math.inf)


def cpu_recipe() -> TrainConfig:
    """The CPU base recipe, as used by the sweep's ``dp-head`` runs: DP-SGD on the classifier head over frozen pooled
    MiniLM features.

    Model: MiniLM's first 3 layers (the exported architecture), masked mean pooling, linear head. The encoder is
    frozen and run once per report (pooled features cached, train/val/test); only the head (384 x labels + bias,
    ~5k weights: the lowest-dimensional DP option, LoRA of rank 0) is trained, on features standardised with the
    validation split's mean and std (folded into the head afterwards; like the thresholds, outside epsilon).
    DP-SGD: Poisson sampling with expected batch 1024 on Open-i (q = 1/3), 200 epochs = 600 steps, AdamW lr 0.03,
    clip 1.0, PRV accountant, delta 1/(10 N). Epsilon inf uses exactly the same hyper-parameters without clipping and
    noise, so the non-private point is the limit of the DP curve.

    Why (chosen on the validation split of Open-i at epsilon 10; thresholds tuned on one half of validation and
    scored on the other, averaged over both halves; the test split was not looked at):
    the old recipe (LoRA on the top layer, Poisson batch 128, 3 epochs = 51 steps, lr 5e-3) was under-trained, not
    noise-limited (test weighted F1 0.354 at epsilon 10 against 0.728 non-private with another batch size). More
    steps of DP-LoRA are what it needs, but one DP-LoRA epoch of the top layer costs ~130 s on one thread (60 s
    without per-example gradients), so 300+ steps at batch 64+ is 20+ minutes per run, and a 20-run sweep does not
    fit in 2 hours here. The head-only runs take ~40 s each after a one-off ~1 min feature pass. Measured
    (validation weighted F1, epsilon 10 unless said): head, batch 256, 450 steps, lr 0.01, raw features 0.28;
    batch 512, 500 steps, lr 0.03..0.3 raw 0.35; SGD (momentum 0.9) lr 3 raw 0.38; standardised features, batch 512,
    lr 0.03: 0.39 (SGD lr 0.3: 0.47); batch 1024 (q = 1/3), 600 steps, lr 0.03: 0.53 (lr 0.1: 0.48; 1200 steps
    0.46; full batch q = 1, 500 steps: 0.50); the same recipe without DP: 0.69. Larger expected batches win: the
    noise on the mean gradient is sigma*C/B and sigma grows slower than B at a fixed epsilon.
    The sweep's ``dp-lora`` runs start from this recipe and apply :data:`LORA_CPU` (one adapter on the top layer's
    feed-forward output projection, 150 steps); ``--full`` runs DP-LoRA on every layer on a GPU.
    """
    return TrainConfig(method="dp-head", num_layers=3, lora_layers=1, epochs=200, batch_size=1024,
                       physical_batch_size=64, lr=0.03, head_lr_mult=1.0, max_tokens=128, max_grad_norm=1.0)


# Per dataset: CT-RATE reports are long (median ~370 tokens, 99% over 128) and name many findings only past the first
# 128 tokens (the rule labeler on the first 128 tokens of each training report scores weighted F1 0.43 against 0.87
# on the whole report), so CT-RATE trains and runs on 512-token windows; with ~600 training reports (vs ~2,100
# Open-i) the expected batch is 256 so the sampling rate (1/3) and the step count match Open-i's.
CPU_OVERRIDES: dict[str, dict[str, Any]] = {"ctrate": {"batch_size": 256, "physical_batch_size": 16,
                                                       "max_tokens": 512}}
NONPRIVATE_BATCH = None  # None: epsilon inf uses the DP runs' batch (same hyper-parameters)
FULL_FT = {"lr": 1e-4, "epochs": 1.0, "batch_size": 32}  # full fine-tuning baseline (every weight of the encoder)
# DP-LoRA on this machine (the CPU sweep's "dp-lora" runs): one rank-8 adapter on the top layer's feed-forward output
# projection, everything below it cached (training/reports/model.py FFNOutTop), so a DP step costs ~1 s on two threads
# instead of ~4 s for adapters on the whole top layer. Same Poisson sampling rate (1/3) and standardised pooled
# features as the head-only recipe, but 150 steps (50 epochs) instead of 600 to fit the 2-hour sweep.
# Chosen on Open-i validation at epsilon 10 (thresholds tuned on one half of validation, scored on the other; the
# test split not looked at), 150 steps: adapter and head at lr 0.1, alpha 16: 0.16; adapter lr 0.003, head 0.1,
# alpha 16: 0.29; adapter lr 0.01, head 0.1, alpha 2 (adapter scale 0.25): 0.34; DP on the head alone, same 150
# steps: 0.43. Per-example clipping is shared by the adapter and the head: the adapter's gradients take part of the
# clipping budget and its noise moves the features under the head; a smaller adapter scale gives the head more.
LORA_CPU = {"method": "dp-lora", "lora_scope": "ffn-out", "lora_layers": 1, "epochs": 50, "lr": 0.01,
            "head_lr_mult": 10.0, "lora_alpha": 2, "physical_batch_size": 256}
# CT-RATE: 512-token windows (smaller micro-batches), and the head at the head-only recipe's lr 0.03: its expected
# batch is 256 against Open-i's 1,024, so the noise on each mean gradient is ~3x larger, and at head lr 0.1 the
# training loss climbed from 0.7 to 3 within 70 steps (first CT-RATE run at epsilon 10, stopped).
LORA_CPU_OVERRIDES: dict[str, dict[str, Any]] = {"ctrate": {"physical_batch_size": 64, "lr": 3e-3}}


@dataclass
class SweepConfig:
    """What the sweep runs; the defaults are the CPU setting, :func:`full_config` the GPU one."""

    datasets: tuple[str, ...] = ("openi", "ctrate")
    methods: tuple[str, ...] = ("dp-rules-head", "dp-lora", "dp-head")  # the DP methods of the epsilon sweep
    epsilons: tuple[float, ...] = DEFAULT_EPSILONS
    seeds: tuple[int, ...] = (0, 1)
    baselines: tuple[str, ...] = ("rules", "tfidf", "full")
    cache_dir: Path | None = None  # cached encoder features of the rules + encoder runs (None: no disk cache)
    base: TrainConfig = field(default_factory=cpu_recipe)
    save_models: tuple[float, ...] = (10.0,)
    overrides: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(CPU_OVERRIDES))
    nonprivate_batch: int | None = NONPRIVATE_BATCH
    full_ft: dict[str, Any] = field(default_factory=lambda: dict(FULL_FT))
    explicit: dict[str, Any] = field(default_factory=dict)  # command-line training flags: applied last, every run
    hybrid_explicit: dict[str, Any] = field(default_factory=dict)  # the same for the dp-rules-head runs


def full_config() -> SweepConfig:
    """The setting for a GPU machine: all 6 layers with LoRA on each, 256 tokens, more epochs, larger batches,
    three seeds."""
    return SweepConfig(methods=("dp-lora",), seeds=(0, 1, 2),
                       base=TrainConfig(epochs=10, max_tokens=256, batch_size=256, physical_batch_size=64, lr=5e-3,
                                        head_lr_mult=3.0, threads=8),
                       overrides={"ctrate": {"epochs": 20, "batch_size": 128, "max_tokens": 512}},
                       full_ft={"lr": 5e-5, "epochs": 3.0})


def job_order(datasets: tuple[str, ...], epsilons: tuple[float, ...], seeds: tuple[int, ...],
              full: bool, methods: tuple[str, ...] = ("dp-lora",)) -> list[tuple[str, str, float, int]]:
    """(dataset, method, epsilon, seed) in the order the sweep runs them, most informative first.

    Per seed: epsilon 10 then inf on every dataset and DP method (10 first: it gives the shipped models), then 1,
    then the smaller ones, then the full fine-tuning baseline; then the next seed. An interrupted sweep thus leaves
    the runs that matter most done.
    """
    if isinstance(methods, str):
        methods = (methods,)

    def rank(e: float) -> int:
        return 0 if (not math.isfinite(e) or e >= 10) else (1 if e >= 1 else 2)

    jobs: list[tuple[str, str, float, int]] = []
    for seed in seeds:
        for r in (0, 1, 2):
            for e in sorted((e for e in epsilons if rank(e) == r), key=lambda e: -e if math.isfinite(e) else 0.0):
                jobs += [(d, m, e, seed) for m in methods for d in datasets]
        if full:
            jobs += [(d, "full", math.inf, seed) for d in datasets]
    return jobs


def run_config(sc: SweepConfig, dataset: str, method: str, eps: float, seed: int) -> TrainConfig:
    """The training config of one run: base recipe, the dataset's overrides, then the method's."""
    key = dataset.lower().replace("-", "")
    cfg = replace(sc.base, **sc.overrides.get(key, {}))
    cfg = replace(cfg, method=method, target_epsilon=eps, seed=seed)
    if method == "dp-lora" and sc.base.method == "dp-head":  # DP-LoRA asked for on top of the CPU recipe
        cfg = replace(cfg, **{**LORA_CPU, **LORA_CPU_OVERRIDES.get(key, {})}, target_epsilon=eps, seed=seed)
    if method == "full":
        cfg = replace(cfg, **{"batch_size": sc.nonprivate_batch or cfg.batch_size, **sc.full_ft})
    elif not math.isfinite(eps) and sc.nonprivate_batch:
        cfg = replace(cfg, batch_size=sc.nonprivate_batch)
    if sc.explicit:
        cfg = replace(cfg, **sc.explicit)
    return cfg


def _eps_tag(eps: float) -> str:
    return "inf" if not math.isfinite(eps) else f"{eps:g}"


def run_name(method: str, eps: float, seed: int) -> str:
    """File-safe name of one run."""
    return f"{method}-eps{_eps_tag(eps)}-seed{seed}" if method in DP_METHODS else f"{method}-seed{seed}"


# DP method -> the name of its epsilon-inf (non-private) run
DP_METHODS = {"dp-rules-head": "rules-head", "dp-lora": "lora", "dp-head": "head"}


def record_method(method: str, eps: float) -> str:
    """The method name a run's record carries: the DP method at finite epsilon, its non-private name at inf."""
    if method in DP_METHODS:
        return method if math.isfinite(eps) else DP_METHODS[method]
    return method


def _splits(ds: ReportDataset) -> tuple[ReportDataset, ReportDataset, ReportDataset]:
    tr, va, te = split_ids(ds.ids)
    return ds.subset(tr), ds.subset(va), ds.subset(te)


def run_one(cfg: TrainConfig, train: ReportDataset, val: ReportDataset, test: ReportDataset, log: Callable,
            save_to: Path | None = None) -> dict[str, Any]:
    """Train, tune thresholds on val, score test; return the run's record (and save the merged model if asked)."""
    res = train_classifier(cfg, train, log=log, norm_texts=val.texts)
    pva = predict_cached(cfg, res.model, res.tokenizer, val.texts, log=log)
    pte = predict_cached(cfg, res.model, res.tokenizer, test.texts, log=log)
    th, scores = evaluate_probs(pva, val, pte, test)
    priv = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in res.privacy.items()}
    rec = {"config": config_dict(cfg), "privacy": priv, "thresholds": th.tolist(), "test": scores,
           "seconds": res.seconds, "steps": res.steps, "n_train": len(train), "n_val": len(val), "n_test": len(test)}
    if save_to is not None:
        from training.reports.model import save_checkpoint

        meta = {"backbone": cfg.backbone or str(_default_backbone()), "num_layers": cfg.num_layers,
                "label_names": train.label_names, "label_set": train.label_set, "record": rec}
        save_checkpoint(res.model, save_to, meta)
        rec["checkpoint"] = str(save_to)
    return rec


def _default_backbone() -> Path:
    from training.reports.model import default_backbone

    return default_backbone()


def run_sweep(sc: SweepConfig, data_root: Path, out_dir: Path, log: Callable = print) -> list[dict[str, Any]]:
    """Run every missing run of the sweep, then rebuild the table and plot; return all records."""
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "sweep_config.json", json.dumps(
        {"datasets": sc.datasets, "methods": sc.methods, "epsilons": [_eps_tag(e) for e in sc.epsilons],
         "seeds": sc.seeds,
         "baselines": sc.baselines, "base": config_dict(sc.base),
         "rules_head_recipe": {d: hybrid_config_dict(hybrid_recipe(d, **sc.hybrid_explicit)) for d in sc.datasets},
         "note": "each run's JSON keeps the config it ran with; runs of other invocations are kept as they are"},
        indent=2))
    data: dict[str, tuple[ReportDataset, ReportDataset, ReportDataset, Path]] = {}
    hybrid: dict[str, Any] = {}
    for name in sc.datasets:
        ds = load_dataset(name, data_root)
        train, val, test = _splits(ds)
        rdir = out_dir / "runs" / ds.name
        rdir.mkdir(parents=True, exist_ok=True)
        data[name] = (train, val, test, rdir)
        if "tfidf" in sc.baselines and not (rdir / "tfidf.json").exists():
            scores = tfidf_baseline(train, val, test)
            atomic_write_text(rdir / "tfidf.json", json.dumps({"method": "tfidf-logreg", "dataset": ds.name,
                                                               "test": scores, "epsilon": None}, indent=2))
            log(f"{ds.name} tfidf weighted F1 {scores['weighted_f1']:.3f}")
        if "rules" in sc.baselines and ds.label_set in RULE_SETS and not (rdir / "rules.json").exists():
            atomic_write_text(rdir / "rules.json", json.dumps(rules_baseline(ds, val, test), indent=2))
    for name, method, eps, seed in job_order(sc.datasets, sc.epsilons, sc.seeds, "full" in sc.baselines, sc.methods):
        train, val, test, rdir = data[name]
        ds = train
        rname = run_name(method, eps, seed)
        target = rdir / f"{rname}.json"
        if target.exists():
            log(f"{ds.name} {rname}: done before, skipped")
            continue
        log(f"{ds.name} {rname}: training on {len(train)} reports")
        save = rdir / f"{rname}.pt" if method in DP_METHODS and eps in sc.save_models else None
        if method in HYBRID_METHODS:
            hcfg = hybrid_recipe(name, **{**sc.hybrid_explicit, "method": method, "target_epsilon": eps,
                                          "seed": seed})
            if name not in hybrid:
                hybrid[name] = load_hybrid_data(load_dataset(name, data_root), hcfg, sc.cache_dir, log)
            rec = run_hybrid(hcfg, hybrid[name], log, save)
        else:
            rec = run_one(run_config(sc, name, method, eps, seed), train, val, test, log, save)
        rec.update(method=record_method(method, eps), dataset=ds.name, seed=seed, target_epsilon=_eps_tag(eps))
        atomic_write_text(target, json.dumps(rec, indent=2))
        log(f"{ds.name} {rname}: weighted F1 {rec['test']['weighted_f1']:.3f} in {rec['seconds']:.0f}s")
        write_table(collect(out_dir), out_dir)  # partial results stay readable while the sweep runs
    records = collect(out_dir)
    write_table(records, out_dir)
    write_per_label(records, out_dir)
    plot(records, out_dir / "privacy_utility.png")
    return records


def rules_baseline(ds: ReportDataset, val: ReportDataset, test: ReportDataset) -> dict[str, Any]:
    """The rule labeler (positive or uncertain = 1) on the validation and test splits: no training, no privacy cost."""
    from training.reports.features import prepare, rule_inputs
    from training.reports.metrics import multilabel_scores

    rec: dict[str, Any] = {"method": "rules", "dataset": ds.name, "epsilon": None}
    for part, sub in (("val", val), ("test", test)):
        dec = rule_decisions(rule_inputs(prepare(sub.texts), sub.label_set))
        rec[part] = multilabel_scores(sub.labels.astype(int), dec, sub.label_names)
    return rec


def collect(out_dir: Path) -> list[dict[str, Any]]:
    """Every finished run record under ``out_dir/runs``."""
    recs = []
    for f in sorted((out_dir / "runs").glob("*/*.json")):
        r = json.loads(f.read_text())
        r.setdefault("run", f.stem)
        r.setdefault("dataset", f.parent.name)
        recs.append(r)
    return recs


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (dataset, method, target epsilon): mean and std over seeds of weighted and macro F1."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        key = (r["dataset"], r.get("method", "?"), str(r.get("target_epsilon", "-")))
        groups.setdefault(key, []).append(r)
    rows = []
    for (dsn, method, eps), rs in groups.items():
        w = np.array([r["test"]["weighted_f1"] for r in rs])
        m = np.array([r["test"]["macro_f1"] for r in rs])
        spent = [r.get("privacy", {}).get("epsilon") for r in rs]
        sigma = [r.get("privacy", {}).get("noise_multiplier") for r in rs]
        reached = all(r.get("privacy", {}).get("target_epsilon_reached", True) for r in rs)
        rows.append({"dataset": dsn, "method": method, "target_epsilon": eps, "seeds": len(rs),
                     "weighted_f1": float(w.mean()), "weighted_f1_std": float(w.std()),
                     "macro_f1": float(m.mean()), "macro_f1_std": float(m.std()),
                     "epsilon_spent": None if None in spent else float(np.max(spent)),
                     "noise_multiplier": None if None in sigma else float(np.mean(sigma)),
                     "target_reached": reached,
                     "seconds": float(np.mean([r.get("seconds", 0.0) for r in rs]))})
    order = {"dp-rules-head": 0, "rules-head": 1, "dp-head": 2, "head": 3, "dp-lora": 4, "lora": 5, "full": 6,
             "rules": 7, "tfidf-logreg": 8}
    rows.sort(key=lambda r: (r["dataset"], order.get(r["method"], 9), _eps_sort(r["target_epsilon"])))
    return rows


def _eps_sort(e: str) -> float:
    try:
        return float(e)
    except ValueError:
        return math.inf


def write_table(records: list[dict[str, Any]], out_dir: Path) -> str:
    """Write ``sweep_table.md`` and ``sweep_table.json``; return the Markdown."""
    rows = summarise(records)
    lines = ["| dataset | method | target eps | eps spent | sigma | seeds | weighted F1 | macro F1 | s/run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        spent = "-" if r["epsilon_spent"] is None else f"{r['epsilon_spent']:.3g}"
        sigma = "-" if r["noise_multiplier"] is None else f"{r['noise_multiplier']:.3g}"
        reach = "" if r["target_reached"] else " (not reached)"
        lines.append(f"| {r['dataset']} | {r['method']} | {r['target_epsilon']}{reach} | {spent} | {sigma} | "
                     f"{r['seeds']} | {r['weighted_f1']:.3f} ± {r['weighted_f1_std']:.3f} | "
                     f"{r['macro_f1']:.3f} ± {r['macro_f1_std']:.3f} | {r['seconds']:.0f} |")
    md = "\n".join(lines) + "\n"
    atomic_write_text(out_dir / "sweep_table.md", md)
    atomic_write_text(out_dir / "sweep_table.json", json.dumps(rows, indent=2))
    return md


def plot(records: list[dict[str, Any]], path: Path) -> None:
    """Privacy-utility plot: weighted F1 against epsilon (log axis), one line per dataset, baselines dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summarise(records)
    fig, ax = plt.subplots(figsize=(7.0, 6.2), dpi=120)
    datasets = sorted({r["dataset"] for r in rows})
    finite = [float(r["target_epsilon"]) for r in rows if r["method"] in DP_METHODS]
    x_inf = (max(finite) * 10) if finite else 100.0
    names = {"dp-rules-head": "rules+encoder head", "dp-head": "head", "dp-lora": "LoRA"}
    for i, dsn in enumerate(datasets):
        color = f"C{i}"
        for k, (dpm, npm) in enumerate(DP_METHODS.items()):
            dp = [r for r in rows if r["dataset"] == dsn and r["method"] in (dpm, npm)]
            if not dp:
                continue
            xs = [x_inf if r["method"] == npm else float(r["target_epsilon"]) for r in dp]
            ax.errorbar(xs, [r["weighted_f1"] for r in dp], yerr=[r["weighted_f1_std"] for r in dp],
                        marker="o^s"[k % 3], ls=("-", "--", "-.")[k % 3], color=color, capsize=3,
                        lw=2.0 if k == 0 else 1.0, alpha=1.0 if k == 0 else 0.6,
                        label=f"{dsn} {names[dpm]} (DP; rightmost = non-private)")
        for r in rows:
            if r["dataset"] == dsn and r["method"] in ("tfidf-logreg", "full", "rules"):
                style = {"tfidf-logreg": (0, (5, 3)), "full": ":", "rules": (0, (1, 1, 4, 1))}[r["method"]]
                what = "no training" if r["method"] == "rules" else "non-private"
                ax.axhline(r["weighted_f1"], color=color, ls=style, lw=1, label=f"{dsn} {r['method']} ({what})")
    ax.set_xscale("log")
    ax.set_xlabel("epsilon (rightmost point: no DP)")
    ax.set_ylabel("weighted F1 (test split)")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)  # below: the lines sit high
    ax.set_title("Privacy-utility trade-off, report classification")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
