"""Run an exported text encoder (``model.onnx`` + ``tokenizer.json``) with onnxruntime and ``tokenizers`` only.

Contract (other modules rely on it; no torch or transformers here):

- ``TextEncoder.from_entry(entry, registry=None, threads=None)`` loads a registry bundle: the ONNX file's sha256 is
  checked by :meth:`ModelRegistry.verified_model_path`; the tokenizer comes from ``card.text_input.tokenizer_file``.
  ``TextEncoder.from_files(model_path, tokenizer_path, max_tokens, stride)`` does the same from plain paths (tests).
- ``encode(texts)`` -> one ``list[Chunk]`` per text. Long texts are never truncated silently: a text longer than
  ``max_tokens`` (special tokens included) is cut into windows of at most ``max_tokens`` tokens that overlap by
  ``stride`` tokens; each :class:`Chunk` carries its token ids and the character offsets of every token in the
  ORIGINAL text (special tokens get ``(0, 0)`` and ``special=True``).
- ``logits(texts)`` -> one ``list[ChunkLogits]`` per text (``.logits`` shape ``(n_tokens, n_out)``
  for token models or ``(n_out,)`` for sequence models, ``.offsets``, ``.special``). Callers merge overlapping windows
  (e.g. :func:`merge_token_scores` keeps, for every character token, the window where it is most central).
- **A window's output depends on that window alone**: every window runs by itself, unpadded
  (:meth:`TextEncoder.run_windows`). The int8 bundles quantize activations dynamically, one scale for the whole input
  tensor, so in a batch a window's scores moved with the other windows and the padding beside it: the same note could
  be de-identified differently alone and in a folder (measured on the PhysioNet tuning notes, batches of 16: 5 of
  380 notes had tagger spans that differed from a run of each window alone). Throughput comes from running
  ``threads`` windows at once on one session of one intra-op thread (as fast as the length-sorted batches were on
  two cores, and the same numbers as a two-thread session).
- ``embed(texts)`` -> ``np.ndarray (n_texts, dim)``: for ``embedding`` bundles whose graph outputs ``embeddings``,
  the window vectors of a long text are averaged (weighted by their token counts) and L2-normalised.
- ``threads``: windows run at once (default: the ``MEDPRIV_ORT_THREADS`` environment variable, else 2), each on
  one onnxruntime thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medpriv_desktop.core.errors import ModelError


@dataclass
class Chunk:
    """One window of a tokenised text."""

    ids: list[int]
    offsets: list[tuple[int, int]]
    special: list[bool]
    first_token: int  # index of the window's first content token in the whole text's token list


@dataclass
class ChunkLogits:
    """Model output for one window, with the window's token offsets."""

    chunk: Chunk
    logits: np.ndarray

    @property
    def offsets(self) -> list[tuple[int, int]]:
        """Character offsets of the window's tokens in the original text."""
        return self.chunk.offsets

    @property
    def special(self) -> list[bool]:
        """True for [CLS]/[SEP]-like tokens."""
        return self.chunk.special


def default_threads() -> int:
    """Intra-op threads for onnxruntime: ``MEDPRIV_ORT_THREADS`` or 2."""
    try:
        return max(1, int(os.environ.get("MEDPRIV_ORT_THREADS", "2")))
    except ValueError:
        return 2


class TextEncoder:
    """A tokenizer + ONNX session with windowing for long texts."""

    def __init__(self, session: Any, tokenizer: Any, max_tokens: int, stride: int = 0, workers: int = 1) -> None:
        if stride >= max_tokens - 2:
            raise ModelError(f"stride {stride} must be smaller than max_tokens - 2 ({max_tokens - 2})")
        self.session = session
        self.workers = max(1, int(workers))  # windows run at once (onnxruntime's run is thread-safe)
        self.tokenizer = tokenizer
        self.max_tokens = int(max_tokens)
        self.stride = int(stride)
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_name = session.get_outputs()[0].name
        self._cls = self._special_id(("[CLS]", "<s>"))
        self._sep = self._special_id(("[SEP]", "</s>"))

    # -- construction ---------------------------------------------------------------------------------------------

    @classmethod
    def from_files(cls, model_path: str | Path, tokenizer_path: str | Path, max_tokens: int, stride: int = 0,
                   threads: int | None = None, exact_int8: bool = True) -> TextEncoder:
        """Load from plain paths (no hash check: use :meth:`from_entry` for bundles). ``exact_int8=False`` only for
        a model with 7-bit int8 weights (:attr:`ModelCard.needs_exact_int8_kernels`)."""
        from tokenizers import Tokenizer

        from medpriv_desktop.core.onnx_session import create_session

        try:
            tok = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises plain Exceptions
            raise ModelError(f"cannot read tokenizer ({type(exc).__name__})", path=tokenizer_path) from None
        # Windowing is ours; the tokenizer must not cut or pad on its own.
        tok.no_truncation()
        tok.no_padding()
        # One intra-op thread per run and ``threads`` runs at once (module contract).
        sess = create_session(model_path, 1, exact_int8=exact_int8)
        return cls(sess, tok, max_tokens, stride, workers=threads or default_threads())

    @classmethod
    def from_entry(cls, entry: Any, registry: Any = None, threads: int | None = None) -> TextEncoder:
        """Load a registry bundle after its sha256 (and the site allow-list) check.

        ``registry`` is the Context's (``core/app``); without one, a registry from the saved settings (the same site
        rule), for callers outside the app (training, benchmarks)."""
        from medpriv_desktop.core.models.registry import ModelRegistry
        from medpriv_desktop.core.settings import load_settings

        registry = registry if registry is not None else ModelRegistry.from_settings(load_settings())
        ti = entry.card.text_input
        if ti is None:
            raise ModelError("model card has no text_input block", path=entry.path)
        model_path = registry.verified_model_path(entry)
        tok_path = entry.file(ti.tokenizer_file)
        if not tok_path.is_file():
            raise ModelError(f"bundle lacks its tokenizer file {ti.tokenizer_file}", path=entry.path)
        return cls.from_files(model_path, tok_path, ti.max_tokens, ti.stride, threads,
                              exact_int8=entry.card.needs_exact_int8_kernels)

    def _special_id(self, names: tuple[str, ...]) -> int | None:
        for n in names:
            i = self.tokenizer.token_to_id(n)
            if i is not None:
                return i
        return None

    # -- tokenisation and windows ---------------------------------------------------------------------------------

    def encode(self, texts: list[str]) -> list[list[Chunk]]:
        """Tokenise and window every text (see the module contract)."""
        encs = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        body = self.max_tokens - 2  # room for [CLS] and [SEP]
        step = body - self.stride
        out: list[list[Chunk]] = []
        for enc in encs:
            ids, offs = enc.ids, enc.offsets
            chunks: list[Chunk] = []
            start = 0
            while True:
                end = min(start + body, len(ids))
                c_ids = [self._cls] + list(ids[start:end]) + [self._sep] if self._cls is not None else list(ids[start:end])
                c_off = [(0, 0)] + [tuple(o) for o in offs[start:end]] + [(0, 0)] if self._cls is not None else [tuple(o) for o in offs[start:end]]
                spec = [True] + [False] * (end - start) + [True] if self._cls is not None else [False] * (end - start)
                chunks.append(Chunk(c_ids, c_off, spec, start))
                if end >= len(ids):
                    break
                start += step
            out.append(chunks)
        return out

    def run_window(self, chunk: Chunk, extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The model's output for one window, run by itself: ``(n_tokens, n_out)`` for a token model, ``(n_out,)``
        for a sequence model. ``extra`` holds further inputs for this window (one row each, e.g. rule features)."""
        ids = np.asarray([chunk.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        for name, row in (extra or {}).items():
            feed[name] = np.ascontiguousarray(np.asarray(row, dtype=np.float32).reshape(1, -1))
        return self.session.run([self.output_name], {k: v for k, v in feed.items() if k in self.input_names})[0][0]

    def run_windows(self, chunks: Sequence[Chunk], extras: Sequence[dict[str, np.ndarray] | None] | None = None
                    ) -> list[np.ndarray]:
        """:meth:`run_window` for every window, ``workers`` at a time, in order."""
        extras = list(extras) if extras is not None else [None] * len(chunks)
        if self.workers == 1 or len(chunks) < 2:
            return [self.run_window(c, x) for c, x in zip(chunks, extras)]
        # Longest first: the pool's last window is a short one, so the workers finish together.
        order = sorted(range(len(chunks)), key=lambda i: -len(chunks[i].ids))
        out: list[np.ndarray | None] = [None] * len(chunks)
        with ThreadPoolExecutor(min(self.workers, len(chunks))) as pool:
            for i, arr in zip(order, pool.map(lambda i: self.run_window(chunks[i], extras[i]), order)):
                out[i] = arr
        return out  # type: ignore[return-value]

    def logits(self, texts: list[str]) -> list[list[ChunkLogits]]:
        """Model outputs for every window of every text (each window run by itself: module contract)."""
        per_text = self.encode(texts)
        flat = [c for chunks in per_text for c in chunks]
        arrays = iter(self.run_windows(flat))
        return [[ChunkLogits(c, next(arrays)) for c in chunks] for chunks in per_text]

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised vector per text (window vectors averaged, weighted by their token counts)."""
        rows = []
        for chunks in self.logits(texts):
            weights = np.array([max(1, sum(not s for s in c.special)) for c in chunks], dtype=np.float64)
            vec = np.sum([w * c.logits.astype(np.float64) for w, c in zip(weights, chunks)], axis=0) / weights.sum()
            rows.append(vec / (np.linalg.norm(vec) + 1e-12))
        return np.asarray(rows, dtype=np.float32)


def merge_token_scores(chunks: list[ChunkLogits]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Merge overlapping windows of one text: for each content token keep the window in which it sits most centrally
    (least context lost at an edge; on a tie the earlier window). Returns the offsets and an ``(n_tokens, n_out)``
    array in text order."""
    if not chunks:
        return [], np.zeros((0, 0), dtype=np.float32)
    glob, margin, rows, offs = [], [], [], []
    for cl in chunks:
        content = np.flatnonzero(~np.asarray(cl.chunk.special, dtype=bool))
        k = np.arange(len(content))
        glob.append(cl.chunk.first_token + k)
        margin.append(np.minimum(k, len(content) - 1 - k))
        rows.append(cl.logits[content])
        offs.append(np.asarray(cl.chunk.offsets, dtype=np.int64).reshape(-1, 2)[content])
    g, m = np.concatenate(glob), np.concatenate(margin)
    if not len(g):
        return [], np.zeros((0, chunks[0].logits.shape[-1]), dtype=np.float32)
    # rows are in window order; per token keep the largest margin, the first window among equals
    order = np.lexsort((np.arange(len(g)), -m, g))
    first = np.ones(len(order), dtype=bool)
    first[1:] = g[order[1:]] != g[order[:-1]]
    pick = order[first]
    offsets = np.concatenate(offs)[pick]
    return [(a, b) for a, b in offsets.tolist()], np.concatenate(rows)[pick]
