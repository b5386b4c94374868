"""The privacy guarantee of a report model, in one line a person can read beside the result."""

from __future__ import annotations

from typing import Any


def _fmt_delta(delta: float) -> str:
    """Two significant digits in short scientific form: 1.68e-4 -> '1.7e-4', 1e-5 -> '1e-5'."""
    if not delta:
        return "0"
    mant, exp = f"{delta:.1e}".split("e")
    return f"{mant.removesuffix('.0')}e{int(exp)}"


def privacy_summary(card: Any) -> tuple[str, str]:
    """``(short, detail)``: e.g. ``("ε = 8.00, δ = 1e-5", "DP-SGD, RDP accountant, ...")`` or a plain statement
    that the weights carry no formal guarantee."""
    p = card.privacy
    if p is None:
        return ("No differential-privacy guarantee",
                "The model card declares no privacy training; treat the weights as trained without DP.")
    if p.epsilon is None:
        return ("ε = ∞ (no formal guarantee)",
                f"Trained with DP-SGD noise {p.noise_multiplier:g} but without a finite ε, "
                f"δ = {_fmt_delta(p.delta)}.")
    detail = (f"{p.mechanism}, {p.accountant.upper()} accountant, noise multiplier {p.noise_multiplier:g}, "
              f"clip norm {p.max_grad_norm:g}, sampling rate {p.sampling_rate:.3g}, {p.epochs:g} epochs, "
              f"{p.n_train} training reports. Covers {p.covers}.")
    if not p.target_epsilon_reached:
        detail += " The target ε was not reached."
    return (f"ε = {p.epsilon:.2f}, δ = {_fmt_delta(p.delta)}", detail)
