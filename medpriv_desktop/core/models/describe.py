"""Plain-language description of a model card for people (used by the Models dialog and the About box)."""

from __future__ import annotations

import html

from medpriv_desktop.core.models.card import ModelCard


def _e(s: object) -> str:
    return html.escape(str(s))


def card_html(card: ModelCard, root: str = "", path: str = "") -> str:
    """An HTML summary of a card: intended use, inputs, labels, metrics, privacy, training data and licences."""
    parts = [f"<h2>{_e(card.title)}</h2>",
             f"<p><b>{_e(card.id)}</b> &nbsp; version {_e(card.version)} &nbsp; task: {_e(card.task.value)}"
             + (f" &nbsp; ({_e(root)})" if root else "") + "</p>"]
    if card.not_for_diagnostic_use:
        parts.append("<p style='color:#a04000'><b>Not for diagnostic use.</b></p>")
    parts.append(f"<h3>Intended use</h3><p>{_e(card.intended_use)}</p>")
    if card.description:
        parts.append(f"<p>{_e(card.description)}</p>")
    if card.image_input:
        ii = card.image_input
        parts.append("<h3>Input</h3><p>" + ", ".join(ii.modalities)
                     + f"; spacing {' x '.join(f'{s:g}' for s in ii.spacing_mm)} mm; patch "
                     + " x ".join(str(p) for p in ii.patch_size) + f"; orientation {ii.orientation}</p>")
    if card.text_input:
        ti = card.text_input
        parts.append(f"<h3>Input</h3><p>text, up to {ti.max_tokens} tokens per window"
                     + (f" with {ti.stride} tokens overlap" if ti.stride else "") + "</p>")
    if card.outputs.labels:
        rows = []
        for lb in card.outputs.labels:
            sw = ""
            if lb.color:
                sw = f"<span style='background-color:rgb{tuple(lb.color)}'>&nbsp;&nbsp;&nbsp;&nbsp;</span> "
            extra = "" if lb.supported else f" <i>(not supported: {_e(lb.unsupported_reason or 'no training data')})</i>"
            thr = f" threshold {lb.threshold:.2f}" if lb.threshold is not None else ""
            rows.append(f"<li>{sw}{_e(lb.display)}{thr}{extra}</li>")
        label_set = f" ({_e(card.outputs.label_set)})" if card.outputs.label_set else ""
        parts.append(f"<h3>Labels{label_set}</h3><ul>{''.join(rows)}</ul>")
    m = card.metrics
    if m.values or m.parameters or m.cpu_latency_ms:
        items = [f"<li>{_e(v.name)}{' / ' + _e(v.label) if v.label else ''}: {v.value:.3g} ({_e(v.split)}"
                 + (f", n={v.n}" if v.n else "") + ")</li>" for v in m.values[:40]]
        if m.parameters:
            items.append(f"<li>parameters: {m.parameters:,}</li>")
        if m.cpu_latency_ms:
            items.append(f"<li>CPU latency: {m.cpu_latency_ms:.0f} ms {_e(m.latency_note or '')}</li>")
        parts.append(f"<h3>Metrics</h3><ul>{''.join(items)}</ul>")
    if card.privacy:
        p = card.privacy
        eps = "&infin; (no formal guarantee)" if p.epsilon is None else f"{p.epsilon:g}"
        parts.append(
            f"<h3>Privacy</h3><p>{_e(p.mechanism)}: &epsilon; = {eps}, &delta; = {p.delta:.2g} ({_e(p.accountant)} "
            f"accountant); noise multiplier {p.noise_multiplier:g}, clip norm {p.max_grad_norm:g}, sampling rate "
            f"{p.sampling_rate:.3g}, {p.epochs:g} epochs, N = {p.n_train:,}. Covers {_e(p.covers)}.</p>"
            + (f"<p>{_e(p.rationale)}</p>" if p.rationale else ""))
    t = card.training
    ds = "".join(f"<li>{_e(d.name)}{' (synthetic)' if d.synthetic else ''}: licence {_e(d.license)}"
                 + (f", N = {d.n:,}" if d.n is not None else "") + "</li>" for d in t.datasets)
    parts.append(f"<h3>Training</h3><ul>{ds}</ul><p>Made on {_e(t.date)} with <code>{_e(t.command)}</code>"
                 + (f"; teacher {_e(t.teacher_id)}" if t.teacher_id else "") + "</p>")
    parts.append(f"<p>Model licence: {_e(card.license)}</p>")
    if card.limitations:
        parts.append("<h3>Known limitations</h3><ul>" + "".join(f"<li>{_e(x)}</li>" for x in card.limitations)
                     + "</ul>")
    if path:
        parts.append(f"<p style='color:#666'>Bundle: {_e(path)}</p>")
    return "\n".join(parts)
