"""Privacy accounting for DP-SGD with Poisson sampling: epsilon for a run, and the noise for a target epsilon.

PRV (Gopi et al. 2021) gives the tightest numbers and is the default; for very small epsilon its discretisation
error must shrink with epsilon, so the error bound passed to it is a fraction of the value asked for. RDP (Mironov
2017) is available as the classic, slightly looser alternative. Opacus' own ``get_noise_multiplier`` stops at an
absolute epsilon tolerance of 0.01, which is 100% of a target of 0.01, so the search here uses a relative tolerance.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

ACCOUNTANTS = ("prv", "rdp")
PRV_MIN_EPS_ERROR = 1e-3  # finest PRV epsilon error used (see compute_epsilon)
_RDP_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + [80, 128, 256, 512, 1024]


def default_delta(n_train: int) -> float:
    """The default delta, 1/(10 N): well below 1/N, the level at which one record may leak outright."""
    return 1.0 / (10.0 * max(int(n_train), 1))


def compute_epsilon(noise_multiplier: float, sampling_rate: float, steps: int, delta: float,
                    accountant: str = "prv", eps_error: float | None = None) -> float:
    """Epsilon spent by ``steps`` DP-SGD steps at this noise and Poisson sampling rate (inf when noise is 0)."""
    if steps <= 0:
        return 0.0
    if noise_multiplier <= 0:
        return math.inf
    if accountant == "rdp":
        from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

        rdp = compute_rdp(q=sampling_rate, noise_multiplier=noise_multiplier, steps=steps, orders=_RDP_ORDERS)
        eps, _ = get_privacy_spent(orders=_RDP_ORDERS, rdp=rdp, delta=delta)
        return float(eps)
    if accountant == "prv":
        from opacus.accountants import PRVAccountant

        acc = PRVAccountant()
        acc.history = [(noise_multiplier, sampling_rate, steps)]
        # The discretisation mesh shrinks with eps_error and its memory grows as 1/eps_error: at 5e-5 (a 0.5%
        # tolerance on epsilon 0.01) it took 24 GB and was killed. PRV returns an upper bound (estimate + error), so a
        # coarser error keeps the guarantee and only costs a little extra noise at the smallest epsilons.
        err = max(eps_error if eps_error is not None else 0.01, PRV_MIN_EPS_ERROR)
        try:
            return float(acc.get_epsilon(delta, eps_error=err))
        except (ValueError, RuntimeError, OverflowError):
            # The PRV domain can fail for extreme settings; RDP is a valid (looser) upper bound there.
            return compute_epsilon(noise_multiplier, sampling_rate, steps, delta, "rdp")
    raise ValueError(f"unknown accountant {accountant!r}; use one of {ACCOUNTANTS}")


@dataclass(frozen=True)
class NoiseChoice:
    """Result of :func:`noise_for_epsilon`: the noise and the epsilon it actually gives."""

    noise_multiplier: float
    epsilon: float
    reached: bool
    note: str = ""


def search_error(target_epsilon: float, rel_tol: float = 0.02) -> float:
    """The PRV epsilon error bound used for a target: by the noise search, and again for the epsilon a finished run
    reports, so "target reached" compares two numbers computed the same way (a finer bound for the final figure once
    made a run report more than its target while the search had said it was met)."""
    return min(0.01, max(target_epsilon * rel_tol / 4, 1e-5))


@functools.lru_cache(maxsize=64)
def noise_for_epsilon(target_epsilon: float, sampling_rate: float, steps: int, delta: float,
                      accountant: str = "prv", rel_tol: float = 0.02, max_noise: float = 5000.0) -> NoiseChoice:
    """Smallest noise multiplier whose epsilon is at most ``target_epsilon`` (bisection, relative tolerance).

    When even ``max_noise`` cannot reach the target, the choice says so (``reached=False``) with the epsilon that
    the largest noise gives, and the caller reports that as a result instead of training at a false promise.
    Memoised: a sweep asks the same question for every seed, and PRV at small epsilon takes minutes.
    """
    if not math.isfinite(target_epsilon):
        return NoiseChoice(0.0, math.inf, True, "non-private")
    err = search_error(target_epsilon, rel_tol)

    def eps_at(sigma: float) -> float:
        return compute_epsilon(sigma, sampling_rate, steps, delta, accountant, eps_error=err)

    hi_eps = eps_at(max_noise)
    if hi_eps > target_epsilon:
        return NoiseChoice(max_noise, hi_eps, False, f"target epsilon {target_epsilon} not reachable with noise <= "
                                                     f"{max_noise}: best epsilon {hi_eps:.4g}")
    lo, hi = 0.05, 1.0
    while eps_at(hi) > target_epsilon:
        lo, hi = hi, hi * 2
    # Bisection in log space: the noise spans several orders of magnitude across targets.
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if eps_at(mid) > target_epsilon:
            lo = mid
        else:
            hi = mid
        if hi / lo - 1 < rel_tol / 4:
            break
    return NoiseChoice(hi, eps_at(hi), True)
