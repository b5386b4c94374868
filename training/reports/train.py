"""Training: DP-LoRA (opacus + peft), non-private LoRA, and full fine-tuning, on a :class:`ReportDataset`.

DP-SGD details: Poisson sampling (each report joins a step with probability q = B/N), per-example clipping at
``max_grad_norm``, Gaussian noise ``sigma * C``; the noise comes from :func:`noise_for_epsilon` for the target epsilon
at this q and step count. Logical batches of expected size B are cut into physical micro-batches by opacus'
``BatchMemoryManager`` so memory stays bounded whatever B is (each logical batch is sorted by length before it is
cut, so micro-batches carry little padding). Only LoRA adapters and the head are trained, so the guarantee covers
exactly the weights that change.

CPU economy: with ``lora_layers`` = k smaller than the encoder depth, adapters sit on the top k layers only; the
layers below are frozen and see the same input every epoch, so their output is computed once and cached, and each
step runs only the top k layers. That is what makes ten-odd DP epochs affordable on one CPU thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from training.reports.accounting import NoiseChoice, compute_epsilon, default_delta, noise_for_epsilon, search_error
from training.reports.data import ReportDataset
from training.reports.model import ReportClassifier, add_lora, load_backbone, merge_lora

METHODS = ("dp-lora", "lora", "full", "dp-head", "head")
HEAD_METHODS = ("dp-head", "head")
# Frozen-layer outputs (lower-layer states, or pooled features for the head-only methods) per (backbone, depth,
# tokens, texts): a sweep alternates datasets and also scores val/test, so several entries are kept, not one.
_STATE_CACHE: dict[tuple, Any] = {}
_STATE_CACHE_MAX = 8


@dataclass
class TrainConfig:
    """Everything one training run needs (saved into the card's ``training.config``)."""

    method: str = "dp-lora"
    target_epsilon: float = 8.0
    delta: float | None = None  # None: 1/(10 N)
    accountant: str = "prv"
    max_grad_norm: float = 1.0
    batch_size: int = 64  # expected logical batch (Poisson) under DP; fixed batch otherwise
    physical_batch_size: int = 16
    epochs: float = 2.0
    lr: float = 2e-3
    weight_decay: float = 0.0
    max_tokens: int = 128
    lora_rank: int = 8
    lora_alpha: int = 16
    backbone: str | None = None
    num_layers: int | None = None
    seed: int = 0
    threads: int = 1
    noise_multiplier: float | None = None  # explicit DP noise instead of a target epsilon (tests, studies)
    head_lr_mult: float = 1.0  # the head's learning rate = lr * this (mean-pooled features move it slowly)
    lora_layers: int | None = None  # LoRA on the top N layers only, lower layers frozen and cached (None: all)
    lora_targets: list[str] | None = None  # projections with adapters (None: query, key, value, every dense)
    lora_scope: str = "layers"  # "ffn-out": one adapter, on the top layer's FFN output projection (all below cached)
    optimizer: str = "adamw"  # "adamw", or "sgd" (momentum 0.9: averages DP noise over steps)


@dataclass
class TrainResult:
    """A trained classifier (LoRA merged) and the privacy facts of its run."""

    model: ReportClassifier
    tokenizer: Any
    config: TrainConfig
    privacy: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    steps: int = 0
    losses: list[float] = field(default_factory=list)


def tokenize(tokenizer: Any, texts: list[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and masks, truncated to ``max_tokens`` and padded to it (trimmed per batch later)."""
    enc = tokenizer(texts, truncation=True, max_length=max_tokens, padding="max_length", return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def _trim(inputs: Any, mask: torch.Tensor) -> tuple[Any, torch.Tensor]:
    # Drop padding columns no row in this batch uses: short Open-i reports then cost what they are long.
    # ``inputs``: one (B, T, ...) tensor or a list of them, cut along T like the mask.
    n = max(int(mask.sum(1).max().item()) if mask.numel() else 1, 1)
    if isinstance(inputs, torch.Tensor):
        return inputs[:, :n], mask[:, :n]
    return [t[:, :n] for t in inputs], mask[:, :n]


def build_model(cfg: TrainConfig, num_labels: int) -> tuple[ReportClassifier, Any]:
    """Backbone + head, with LoRA for the LoRA methods and everything trainable for ``full``."""
    if cfg.method not in METHODS:
        raise ValueError(f"unknown method {cfg.method!r}; use one of {METHODS}")
    enc, tok = load_backbone(cfg.backbone, cfg.num_layers)
    model = ReportClassifier(enc, num_labels)
    if cfg.method in ("dp-lora", "lora"):
        # No adapter dropout for ffn-out: DP noise regularises, and dropping the wide cached activations was most
        # of a step's time there.
        model = add_lora(model, cfg.lora_rank, cfg.lora_alpha, dropout=0.0 if cfg.lora_scope == "ffn-out" else 0.05,
                         top_layers=cfg.lora_layers,
                         targets=list(cfg.lora_targets) if cfg.lora_targets else None, scope=cfg.lora_scope)
    return model, tok


def ffn_out(cfg: TrainConfig) -> bool:
    """True for LoRA on the top layer's FFN output projection only (trained from cached block inputs)."""
    return cfg.method in ("dp-lora", "lora") and cfg.lora_scope == "ffn-out"


def cached_ffn_inputs(cfg: TrainConfig, model: ReportClassifier, tokenizer: Any, texts: list[str],
                      log: Any = print) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x, a, mask): the top FFN output block's cached inputs (see :func:`~training.reports.model.ffn_out_inputs`)."""
    from training.reports.model import ffn_out_inputs

    ids, mask = tokenize(tokenizer, texts, cfg.max_tokens)
    key = (str(cfg.backbone), cfg.num_layers, "ffn-out", cfg.max_tokens, len(texts), hash(tuple(texts)))
    x, a = _cached(key, lambda: ffn_out_inputs(model.encoder, ids, mask),
                   f"the top block's inputs for {len(ids)} reports", log)
    return x, a, mask


def _cached(key: tuple, compute: Callable[[], Any], what: str, log: Any) -> Any:
    """``_STATE_CACHE[key]``, computed (and logged with its time) on first use; the oldest entry goes when full."""
    if key not in _STATE_CACHE:
        t0 = time.time()
        while len(_STATE_CACHE) >= _STATE_CACHE_MAX:
            _STATE_CACHE.pop(next(iter(_STATE_CACHE)))
        _STATE_CACHE[key] = compute()
        log(f"cached {what} in {time.time() - t0:.0f}s")
    return _STATE_CACHE[key]


def frozen_depth(cfg: TrainConfig, model: ReportClassifier) -> int:
    """How many lower encoder layers are frozen and cached (0 unless a LoRA method with ``lora_layers`` set;
    every layer for the head-only methods)."""
    depth = int(getattr(model.encoder.config, "num_hidden_layers", 0) or 0)
    if cfg.method in HEAD_METHODS:
        return depth
    if cfg.method not in ("dp-lora", "lora") or not cfg.lora_layers:
        return 0
    return max(0, depth - int(cfg.lora_layers))


def cached_states(cfg: TrainConfig, model: ReportClassifier, tokenizer: Any, texts: list[str], n_frozen: int,
                  pooled: bool, log: Any = print) -> tuple[torch.Tensor, torch.Tensor]:
    """(states, mask) of ``texts`` after the ``n_frozen`` pretrained lower layers, computed once and kept.

    The frozen layers are the pretrained ones (LoRA sits only above them, and merging touches only the layers that
    carry adapters), so the cache is valid for every run of a sweep, before and after training.
    """
    from training.reports.model import lower_states

    ids, mask = tokenize(tokenizer, texts, cfg.max_tokens)
    key = (str(cfg.backbone), cfg.num_layers, n_frozen, cfg.max_tokens, pooled, len(texts), hash(tuple(texts)))
    states = _cached(key, lambda: lower_states(model.encoder, ids, mask, n_frozen, pooled=pooled),
                     f"the {n_frozen} frozen layers{' (pooled)' if pooled else ''} for {len(ids)} reports", log)
    return states, mask


class _BucketSampler(torch.utils.data.Sampler):
    """Shuffled fixed-size batches of similar length (non-private runs): a random permutation is cut into pools of
    ``pool`` batches, each pool sorted by length and cut into batches, and the batches shuffled. Less padding, the
    same examples per epoch."""

    def __init__(self, lengths: np.ndarray, batch_size: int, generator: torch.Generator, pool: int = 16) -> None:
        self.lengths, self.bs, self.gen, self.pool = lengths, batch_size, generator, pool

    def __iter__(self):
        perm = torch.randperm(len(self.lengths), generator=self.gen).numpy()
        batches = []
        step = self.bs * self.pool
        for i in range(0, len(perm), step):
            chunk = sorted(perm[i:i + step].tolist(), key=lambda j: int(self.lengths[j]))
            batches += [chunk[k:k + self.bs] for k in range(0, len(chunk), self.bs)]
        for b in torch.randperm(len(batches), generator=self.gen).tolist():
            yield batches[b]

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.bs)


class _SortedSplittingSampler(torch.utils.data.Sampler):
    """Opacus' batch splitting (one optimiser step per Poisson batch), with each logical batch sorted by length."""

    def __init__(self, sampler: Any, max_batch_size: int, optimizer: Any, lengths: np.ndarray) -> None:
        self.sampler, self.max_batch_size, self.optimizer, self.lengths = sampler, max_batch_size, optimizer, lengths

    def __iter__(self):
        for idxs in self.sampler:
            if len(idxs) == 0:
                self.optimizer.signal_skip_step(do_skip=False)
                yield []
                continue
            idxs = sorted(idxs, key=lambda i: int(self.lengths[i]))
            parts = [p.tolist() for p in np.array_split(np.asarray(idxs), math.ceil(len(idxs) / self.max_batch_size))]
            for part in parts[:-1]:
                self.optimizer.signal_skip_step(do_skip=True)
                yield part
            self.optimizer.signal_skip_step(do_skip=False)
            yield parts[-1]

    def __len__(self) -> int:
        return len(self.sampler)


def _physical(dl: Any, optimizer: Any, max_batch_size: int, lengths: np.ndarray) -> Any:
    return torch.utils.data.DataLoader(dl.dataset, collate_fn=dl.collate_fn, generator=dl.generator,
                                       batch_sampler=_SortedSplittingSampler(dl.batch_sampler, max_batch_size,
                                                                             optimizer, lengths))


def _record_step(result: TrainResult, loss: float, step: int, total_steps: int, every: int,
                 log: Callable[[str], Any]) -> None:
    """Keep one optimiser step's loss and log the running mean every ``every`` steps and at the last one."""
    result.losses.append(loss)
    if step % every == 0 or step == total_steps:
        log(f"step {step}/{total_steps} loss {np.mean(result.losses[-10:]):.4f}")


def train_classifier(cfg: TrainConfig, train: ReportDataset, model: ReportClassifier | None = None,
                     tokenizer: Any = None, log: Any = print, max_steps: int | None = None,
                     norm_texts: list[str] | None = None) -> TrainResult:
    """Train on ``train`` and return the merged model with the privacy facts (epsilon inf for non-DP runs).

    Head-only methods and LoRA on the FFN output projection (``lora_scope="ffn-out"``) standardise the pooled
    features with a mean and std measured on ``norm_texts`` (the validation split, outside the private training set;
    like the thresholds, not covered by epsilon; None: no standardisation) and fold them into the head afterwards.
    Mean-pooled MiniLM features share a large common component, and without centring the clipped per-example
    gradients mostly point along it.
    """
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    if model is None:
        model, tokenizer = build_model(cfg, len(train.label_names))
    y = torch.as_tensor(train.labels, dtype=torch.float32)
    n_frozen = frozen_depth(cfg, model)
    head_only = cfg.method in HEAD_METHODS
    net: nn.Module = model
    if head_only:
        from training.reports.model import PooledHead

        for p in model.encoder.parameters():
            p.requires_grad_(False)
        feats, mask = cached_states(cfg, model, tokenizer, train.texts, n_frozen, True, log)
        ds = torch.utils.data.TensorDataset(feats, mask, y)
        mean = std = None
        if norm_texts:
            ref, _ = cached_states(cfg, model, tokenizer, list(norm_texts), n_frozen, True, log)
            mean, std = ref.mean(0), ref.std(0)
        net = PooledHead(model, mean, std)
    elif ffn_out(cfg):
        from training.reports.model import FFNOutTop, masked_mean

        x, a, mask = cached_ffn_inputs(cfg, model, tokenizer, train.texts, log)
        net = FFNOutTop(model)
        if norm_texts:  # pooled pretrained output of the validation texts: LayerNorm(W0 x + b + a)
            rx, ra, rmask = cached_ffn_inputs(cfg, model, tokenizer, list(norm_texts), log)
            with torch.no_grad():
                ref = masked_mean(net.norm(FFNOutTop.frozen_sum(model, rx, ra).float()), rmask)
            net = FFNOutTop(model, ref.mean(0), ref.std(0))
        ds = torch.utils.data.TensorDataset(x, FFNOutTop.frozen_sum(model, x, a), mask, y)
    elif n_frozen:
        from training.reports.model import TopClassifier

        states, mask = cached_states(cfg, model, tokenizer, train.texts, n_frozen, False, log)
        ds = torch.utils.data.TensorDataset(states, mask, y)
        net = TopClassifier(model, n_frozen)
    else:
        ids, mask = tokenize(tokenizer, train.texts, cfg.max_tokens)
        ds = torch.utils.data.TensorDataset(ids, mask, y)
    trim = _trim if not head_only else (lambda xs, m: (xs, m))
    lengths = mask.sum(1).numpy()
    n = len(ds)
    bs = min(cfg.batch_size, n)
    gen = torch.Generator().manual_seed(cfg.seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, generator=gen)
    steps_per_epoch = len(loader)
    # Non-private runs: same-size shuffled batches of similar length (little padding); DP runs use Poisson batches.
    plain = torch.utils.data.DataLoader(ds, batch_sampler=_BucketSampler(lengths, bs, gen)) if not head_only \
        else loader
    total_steps = max(1, int(round(cfg.epochs * steps_per_epoch)))
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    head = {id(p) for p in model.head.parameters()}
    body = [p for p in net.parameters() if p.requires_grad and id(p) not in head]
    groups = [{"params": list(model.head.parameters()), "lr": cfg.lr * cfg.head_lr_mult}]
    if body:
        groups.insert(0, {"params": body, "lr": cfg.lr})
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    elif cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; use adamw or sgd")
    loss_fn = nn.BCEWithLogitsLoss()
    delta = cfg.delta if cfg.delta is not None else default_delta(n)
    privacy: dict[str, Any] = {"epsilon": math.inf, "delta": delta, "n_train": n}
    result = TrainResult(model, tokenizer, cfg)
    every = max(10, total_steps // 20)
    t0 = time.time()
    net.train()
    dp = cfg.method in ("dp-lora", "dp-head") and (math.isfinite(cfg.target_epsilon)
                                                  or cfg.noise_multiplier is not None)
    if dp:
        from opacus import PrivacyEngine

        q = 1.0 / steps_per_epoch
        if cfg.noise_multiplier is not None:
            sigma = float(cfg.noise_multiplier)
            choice = NoiseChoice(sigma, compute_epsilon(sigma, q, total_steps, delta, cfg.accountant), True,
                                 "explicit noise multiplier")
        else:
            choice = noise_for_epsilon(cfg.target_epsilon, q, total_steps, delta, cfg.accountant)
        log(f"DP: q={q:.4f} steps={total_steps} sigma={choice.noise_multiplier:.4g} eps={choice.epsilon:.4g}"
            + (f" ({choice.note})" if choice.note else ""))
        engine = PrivacyEngine(accountant=cfg.accountant, secure_mode=False)
        gmodel, opt, dl = engine.make_private(module=net, optimizer=opt, data_loader=loader,
                                              noise_multiplier=choice.noise_multiplier,
                                              max_grad_norm=cfg.max_grad_norm, poisson_sampling=True)
        phys = cfg.physical_batch_size if not head_only else max(4 * bs, 1024)  # features are tiny
        step = 0
        while step < total_steps:
            for *xs, bmask, by in _physical(dl, opt, phys, lengths):
                if bmask.shape[0] == 0:
                    # An empty Poisson batch (practically never at the batch sizes used): drop its queued step
                    # signal; the step still counts for the accountant.
                    opt._check_skip_next_step()
                    step += 1
                    if step >= total_steps:
                        break
                    continue
                xs, bmask = trim(xs, bmask)
                loss = loss_fn(gmodel(*xs, bmask), by)
                loss.backward()
                opt.step()
                opt.zero_grad()
                if not opt._is_last_step_skipped:
                    step += 1
                    _record_step(result, float(loss), step, total_steps, every, log)
                    if step >= total_steps:
                        break
        # The same PRV error bound as the noise search, and "reached" read from the spent epsilon itself.
        spent = compute_epsilon(choice.noise_multiplier, q, step, delta, cfg.accountant,
                                eps_error=search_error(cfg.target_epsilon) if math.isfinite(cfg.target_epsilon)
                                else 0.01)
        gmodel.remove_hooks()
        privacy.update(epsilon=spent, target_epsilon=cfg.target_epsilon, accountant=cfg.accountant,
                       noise_multiplier=choice.noise_multiplier, max_grad_norm=cfg.max_grad_norm, sampling_rate=q,
                       steps=step, epochs=step / steps_per_epoch,
                       target_epsilon_reached=bool(spent <= cfg.target_epsilon),
                       note=choice.note)
    else:
        step = 0
        while step < total_steps:
            for *xs, bmask, by in plain:
                xs, bmask = trim(xs, bmask)
                loss = loss_fn(net(*xs, bmask), by)
                loss.backward()
                opt.step()
                opt.zero_grad()
                step += 1
                _record_step(result, float(loss), step, total_steps, every, log)
                if step >= total_steps:
                    break
        privacy.update(steps=step, epochs=step / steps_per_epoch, sampling_rate=bs / n)
    if hasattr(net, "fold"):
        net.fold()
    model.eval()
    result.model = merge_lora(model)
    result.privacy = privacy
    result.steps = step
    result.seconds = time.time() - t0
    return result


@torch.no_grad()
def predict_proba(model: ReportClassifier, tokenizer: Any, texts: list[str], max_tokens: int = 128,
                  batch_size: int = 32) -> np.ndarray:
    """Sigmoid probabilities (N, L), texts truncated to ``max_tokens`` (the training view; the app chunks)."""
    model.eval()
    out = []
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    for i in range(0, len(texts), batch_size):
        idx = order[i:i + batch_size]
        ids, mask = tokenize(tokenizer, [texts[j] for j in idx], max_tokens)
        ids, mask = _trim(ids, mask)
        out.append((idx, torch.sigmoid(model(ids, mask)).numpy()))
    probs = np.zeros((len(texts), out[0][1].shape[1]) if out else (0, 0), dtype=np.float32)
    for idx, p in out:
        probs[idx] = p
    return probs


@torch.no_grad()
def predict_cached(cfg: TrainConfig, model: ReportClassifier, tokenizer: Any, texts: list[str],
                   batch_size: int = 64, log: Any = print) -> np.ndarray:
    """:func:`predict_proba` for a trained (merged) model of ``cfg``, reusing the cached frozen-layer outputs.

    Identical to :func:`predict_proba` (the frozen lower layers are pretrained and untouched by merging); a sweep
    scores val and test after every run, and recomputing the lower layers each time cost more than the training.
    """
    model.eval()
    if ffn_out(cfg):
        from training.reports.model import ffn_out_logits

        x, a, mask = cached_ffn_inputs(cfg, model, tokenizer, texts, log)
        out = np.zeros((len(texts), model.head.out_features), dtype=np.float32)
        order = torch.argsort(mask.sum(1))
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            (bx, ba), m = _trim([x[idx], a[idx]], mask[idx])
            out[idx.numpy()] = torch.sigmoid(ffn_out_logits(model, bx, ba, m)).numpy()
        return out
    n_frozen = frozen_depth(cfg, model)
    if not n_frozen:
        return predict_proba(model, tokenizer, texts, cfg.max_tokens, batch_size)
    if cfg.method in HEAD_METHODS:
        feats, _ = cached_states(cfg, model, tokenizer, texts, n_frozen, True, log)
        return torch.sigmoid(model.head(feats)).numpy().astype(np.float32)
    from training.reports.model import TopClassifier

    states, mask = cached_states(cfg, model, tokenizer, texts, n_frozen, False, log)
    top = TopClassifier(model, n_frozen).eval()
    probs = np.zeros((len(texts), model.head.out_features), dtype=np.float32)
    order = torch.argsort(mask.sum(1))
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        st, m = _trim(states[idx], mask[idx])
        probs[idx.numpy()] = torch.sigmoid(top(st, m)).numpy()
    return probs


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    """JSON-safe config (infinite epsilon written as the string 'inf')."""
    d = asdict(cfg)
    if not math.isfinite(d["target_epsilon"]):
        d["target_epsilon"] = "inf"
    if d.get("backbone"):
        d["backbone"] = str(Path(d["backbone"]))
    return d
