"""The rules + encoder recipe (``dp-rules-head``): a small head, trained under DP-SGD, over inputs that cost no
privacy.

Inputs per report (fixed functions of the text, :mod:`.features`): the rule labeler's ``status-v1`` values
(positive / uncertain / negated per label; public code) and the pooled features of the public MiniLM encoder's first
3 layers, standardised with constants from synthetic reports and scaled by ``encoder_scale / sqrt(hidden)``.

The head, per label j: ``logit_j = a_j . rules_j + b_j + w_j . z``: a *rule calibration* (three weights on the
label's own rule values, and a bias) plus a linear *encoder residual* ``w_j`` over the scaled features ``z``. It
starts at the rule labeler (a warm start from public information): ``a_j = (rule_init, rule_init, 0)``,
``b_j = -rule_init / 2``, ``w_j = 0``, so at the fixed threshold 0.5 the untrained head reproduces
``RuleLabeler.binary(uncertain_as=1)``. DP-SGD (opacus: Poisson sampling, per-example clipping, Gaussian noise from
:func:`~training.reports.accounting.noise_for_epsilon`) then moves it where the private labels disagree with the
rules. The loss weighs positives ``pos_weight`` times (2: the fixed 0.5 threshold then acts like 1/3 on calibrated
odds, near the F1-optimal threshold of half the attainable F1, Lipton et al. 2014), and the learning rate is capped
by the noise (:func:`noise_scaled_lr`) so that at small epsilon the noise cannot walk the head far from the rules.

Nothing shipped is fitted on validation or test data: thresholds are fixed at 0.5, standardisation constants are
public, every label is supported. How the recipe's constants were chosen, and what that cost, is in
``docs/results/reports-sweep/recipe_search.md`` and on each card.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from training.reports.accounting import compute_epsilon, default_delta, noise_for_epsilon, search_error

HYBRID_METHODS = {"dp-rules-head": "rules-head"}  # DP method -> the name of its epsilon-inf (non-private) run
THRESHOLD = 0.5  # fixed in advance: no threshold is fitted on private data


@dataclass
class HybridConfig:
    """One run of the rules + encoder recipe (saved into the card's ``training.config``)."""

    method: str = "dp-rules-head"
    target_epsilon: float = 10.0
    delta: float | None = None  # None: 1/(10 N)
    accountant: str = "prv"
    sampling_rate: float = 1 / 3  # Poisson: each report joins a step with this probability
    steps: int = 300
    lr: float = 1.0
    noise_lr: float | None = 0.005  # under DP: lr = min(lr, noise_lr / (nu * sqrt(steps))), nu = sigma C / (q N)
    momentum: float = 0.9
    max_grad_norm: float = 1.0
    pos_weight: float = 2.0
    rule_init: float = 4.0
    encoder_scale: float = 1.0  # 0: no encoder residual (rule calibration only)
    num_layers: int = 3
    max_tokens: int = 128
    synthetic_n: int = 2000  # synthetic reports behind the standardisation constants
    seed: int = 0
    backbone: str | None = None

    def private(self) -> bool:
        """True for a DP run (the DP method at finite epsilon)."""
        return self.method in HYBRID_METHODS and math.isfinite(self.target_epsilon)


def config_dict(cfg: HybridConfig) -> dict[str, Any]:
    """JSON-safe config (infinite epsilon as the string 'inf')."""
    d = asdict(cfg)
    if not math.isfinite(d["target_epsilon"]):
        d["target_epsilon"] = "inf"
    return d


def config_from_dict(d: dict[str, Any]) -> HybridConfig:
    """Inverse of :func:`config_dict`."""
    d = dict(d)
    if d.get("target_epsilon") == "inf":
        d["target_epsilon"] = math.inf
    return HybridConfig(**d)


class RuleCalibration(nn.Module):
    """``logit_j = a_j . rules_j + b_j``: each label reads only its own three rule values."""

    def __init__(self, n_labels: int, rule_init: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([[rule_init, rule_init, 0.0]] * n_labels))
        self.bias = nn.Parameter(torch.full((n_labels,), -rule_init / 2))

    def forward(self, rules: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, L)`` from rule values ``(B, 3 L)``."""
        return (rules.view(rules.shape[0], -1, 3) * self.weight).sum(-1) + self.bias


class HybridHead(nn.Module):
    """Rule calibration + encoder residual over prepared inputs ``[z, rules]`` (see :meth:`inputs`)."""

    def __init__(self, hidden: int, n_labels: int, mean: np.ndarray | None = None, std: np.ndarray | None = None,
                 encoder_scale: float = 1.0, rule_init: float = 4.0) -> None:
        super().__init__()
        self.hidden = hidden
        self.rules = RuleCalibration(n_labels, rule_init)
        self.encoder = nn.Linear(hidden, n_labels, bias=False) if encoder_scale > 0 else None
        if self.encoder is not None:
            nn.init.zeros_(self.encoder.weight)
        mean_t = torch.zeros(hidden) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        self.register_buffer("mean", mean_t)
        std_t = torch.ones(hidden) if std is None else torch.as_tensor(std, dtype=torch.float32).clamp(min=1e-6)
        self.register_buffer("scale", encoder_scale / math.sqrt(hidden) / std_t)

    def inputs(self, pooled: torch.Tensor, rules: torch.Tensor) -> torch.Tensor:
        """One row per report: the scaled standardised pooled features, then the rule values."""
        return torch.cat([(pooled - self.mean) * self.scale, rules], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, L)`` from prepared inputs."""
        out = self.rules(x[:, self.hidden:])
        return out if self.encoder is None else out + self.encoder(x[:, :self.hidden])

    @torch.no_grad()
    def export_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` of one linear layer over ``[raw pooled, rules]`` giving the same logits (standardisation folded
        in, the rule calibration as a block-diagonal matrix): what the ONNX graph carries."""
        n_labels = self.rules.bias.shape[0]
        w_rules = torch.zeros(n_labels, 3 * n_labels)
        for j in range(n_labels):
            w_rules[j, 3 * j:3 * j + 3] = self.rules.weight[j]
        bias = self.rules.bias.detach().clone()
        if self.encoder is None:
            w_enc = torch.zeros(n_labels, self.hidden)
        else:
            w_enc = self.encoder.weight * self.scale
            bias -= w_enc @ self.mean
        return torch.cat([w_enc, w_rules], dim=1).numpy(), bias.numpy()


@dataclass
class HybridResult:
    """A trained head and the privacy facts of its run."""

    head: HybridHead
    privacy: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


def noise_scaled_lr(cfg: HybridConfig, sigma: float, expected_batch: float) -> float:
    """The learning rate of a DP run: ``min(lr, noise_lr / (nu * sqrt(steps)))``.

    ``nu = sigma * C / B`` is the noise std on each coordinate of the mean gradient; over a run the noise moves a
    weight by about ``lr * nu * sqrt(steps)`` (times the momentum gain). Capping that keeps the noise from walking the
    head away from its warm start at small epsilon. Every term is public (epsilon, delta, sampling rate, steps, clip
    norm, N), so the rate reveals nothing about the reports.
    """
    if cfg.noise_lr is None or sigma <= 0:
        return cfg.lr
    nu = sigma * cfg.max_grad_norm / max(expected_batch, 1.0)
    return float(min(cfg.lr, cfg.noise_lr / (nu * math.sqrt(max(cfg.steps, 1)))))


def train_hybrid(cfg: HybridConfig, pooled: np.ndarray, rules: np.ndarray, labels: np.ndarray,
                 mean: np.ndarray | None, std: np.ndarray | None, log: Callable[[str], Any] = print
                 ) -> HybridResult:
    """Train the head on ``(pooled, rules) -> labels``; DP-SGD for ``dp-rules-head`` at finite epsilon.

    The non-private run (epsilon inf) is the same recipe (sampling rate, steps, optimiser, lr cap off) without
    clipping and noise, so it is the limit of the DP curve.
    """
    torch.manual_seed(cfg.seed)
    n, n_labels = labels.shape
    head = HybridHead(pooled.shape[1], n_labels, mean, std, cfg.encoder_scale, cfg.rule_init)
    x = head.inputs(torch.as_tensor(pooled, dtype=torch.float32), torch.as_tensor(rules, dtype=torch.float32))
    ds = torch.utils.data.TensorDataset(x, torch.as_tensor(labels, dtype=torch.float32))
    batch = max(1, math.ceil(cfg.sampling_rate * n))  # opacus samples at 1/len(loader): ceil keeps q = 1/3 exact
    gen = torch.Generator().manual_seed(cfg.seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, generator=gen)
    delta = cfg.delta if cfg.delta is not None else default_delta(n)
    privacy: dict[str, Any] = {"epsilon": math.inf, "delta": delta, "n_train": n}
    lr = cfg.lr
    q = 1.0 / len(loader)
    choice = None
    if cfg.private():
        choice = noise_for_epsilon(cfg.target_epsilon, q, cfg.steps, delta, cfg.accountant)
        lr = noise_scaled_lr(cfg, choice.noise_multiplier, q * n)
        log(f"DP: q={q:.4f} steps={cfg.steps} sigma={choice.noise_multiplier:.4g} eps={choice.epsilon:.4g} "
            f"lr={lr:.4g}")
    opt = torch.optim.SGD(head.parameters(), lr=lr, momentum=cfg.momentum)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.full((n_labels,), float(cfg.pos_weight)))
    result = HybridResult(head)
    t0 = time.time()
    net: nn.Module = head
    if choice is not None:
        from opacus import PrivacyEngine

        engine = PrivacyEngine(accountant=cfg.accountant, secure_mode=False)
        net, opt, loader = engine.make_private(module=head, optimizer=opt, data_loader=loader,
                                               noise_multiplier=choice.noise_multiplier,
                                               max_grad_norm=cfg.max_grad_norm, poisson_sampling=True)
    step = 0
    while step < cfg.steps:
        for bx, by in loader:
            if len(bx):  # an empty Poisson batch (rare) releases nothing; the accountant still counts its step
                loss = loss_fn(net(bx), by)
                loss.backward()
                result.losses.append(float(loss))
                opt.step()
                opt.zero_grad()
            step += 1
            if step >= cfg.steps:
                break
    if choice is not None:
        # Spent epsilon with the same PRV error bound as the noise search, and "reached" read from it: one bound.
        spent = compute_epsilon(choice.noise_multiplier, q, step, delta, cfg.accountant,
                                eps_error=search_error(cfg.target_epsilon))
        if hasattr(net, "remove_hooks"):
            net.remove_hooks()
        privacy.update(epsilon=spent, target_epsilon=cfg.target_epsilon, accountant=cfg.accountant,
                       noise_multiplier=choice.noise_multiplier, max_grad_norm=cfg.max_grad_norm, sampling_rate=q,
                       steps=step, epochs=step * q, target_epsilon_reached=bool(spent <= cfg.target_epsilon),
                       note=choice.note, lr=lr)
    else:
        privacy.update(steps=step, epochs=step * q, sampling_rate=q, lr=lr)
    head.eval()
    result.privacy, result.seconds = privacy, time.time() - t0
    if result.losses:
        log(f"trained {step} steps in {result.seconds:.1f}s; last loss {np.mean(result.losses[-10:]):.4f}")
    return result


@torch.no_grad()
def predict(head: HybridHead, pooled: np.ndarray, rules: np.ndarray) -> np.ndarray:
    """Sigmoid probabilities ``(N, L)``."""
    x = head.inputs(torch.as_tensor(pooled, dtype=torch.float32), torch.as_tensor(rules, dtype=torch.float32))
    return torch.sigmoid(head(x)).numpy()
