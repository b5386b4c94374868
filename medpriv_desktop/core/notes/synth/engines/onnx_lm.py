"""A local causal language model run with ONNX Runtime and ``tokenizers`` (no torch, no transformers).

The bundle (made by ``medpriv-train synth export-lm``) holds ``model.onnx`` with inputs ``input_ids`` and
``attention_mask`` and output ``logits`` ``(batch, sequence, vocab)``, plus ``tokenizer.json``. Decoding recomputes
the whole sequence at every step (no key/value cache): simple and exact, fine for the small models a desktop runs.
``top_k`` 1 is greedy; a larger ``top_k`` samples from the k best tokens with a seeded generator, so a run is
reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.notes.synth.engines.base import SynthEngine, SynthRequest

PROMPTS = {
    "keyword": "Write a {note_type} note that uses these keywords: {keywords}.\nNote:\n",
    "one-shot": "Here is a {note_type} note:\n{context}\nWrite a new {note_type} note like it.\nNote:\n",
}


def build_prompt(request: SynthRequest) -> str:
    """The prompt for ``request`` (the normalised method shares the one-shot prompt; its context is normalised)."""
    if request.method == "keyword":
        return PROMPTS["keyword"].format(note_type=request.note_type,
                                         keywords=", ".join(k.text for k in request.keywords))
    return PROMPTS["one-shot"].format(note_type=request.note_type, context=request.context or "")


class OnnxCausalLMEngine(SynthEngine):
    """Greedy or top-k decoding of an exported causal LM (see the module docstring)."""

    name = "onnx-causal-lm"

    def __init__(self, session: Any, tokenizer: Any, max_context: int, eos_token_id: int | None = None,
                 top_k: int = 1, temperature: float = 1.0, model_id: str = "local-lm") -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.max_context = int(max_context)
        self.eos_token_id = eos_token_id
        self.top_k = max(1, int(top_k))
        self.temperature = max(float(temperature), 1e-6)
        self.model_id = model_id
        self.input_names = {i.name for i in session.get_inputs()}

    @classmethod
    def from_files(cls, model_path: str | Path, tokenizer_path: str | Path, max_context: int = 512,
                   eos_token_id: int | None = None, threads: int | None = None, **kw: Any) -> OnnxCausalLMEngine:
        """Load from plain paths (tests); use :meth:`from_entry` for verified bundles."""
        from tokenizers import Tokenizer

        from medpriv_desktop.core.onnx_session import create_session
        from medpriv_desktop.core.text.encoder import default_threads

        try:
            tok = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises plain Exceptions
            raise ModelError(f"cannot read tokenizer ({type(exc).__name__})", path=tokenizer_path) from None
        tok.no_truncation()
        tok.no_padding()
        sess = create_session(model_path, threads or default_threads())
        return cls(sess, tok, max_context, eos_token_id, **kw)

    @classmethod
    def from_entry(cls, entry: Any, registry: Any = None, **kw: Any) -> OnnxCausalLMEngine:
        """Load a ``causal-lm`` bundle after the registry's sha256 check."""
        from medpriv_desktop.core.models.registry import ModelRegistry
        from medpriv_desktop.core.settings import load_settings

        registry = registry if registry is not None else ModelRegistry.from_settings(load_settings())
        card = entry.card
        if card.text_input is None or card.outputs.generation is None:
            raise ModelError("causal-lm card lacks text_input or outputs.generation", path=entry.path)
        model_path = registry.verified_model_path(entry)
        eng = cls.from_files(model_path, entry.file(card.text_input.tokenizer_file), card.text_input.max_tokens,
                             card.outputs.generation.eos_token_id, model_id=card.id, **kw)
        eng.default_new_tokens = card.outputs.generation.max_new_tokens
        return eng

    def describe(self) -> dict[str, Any]:
        """Engine identity for result files."""
        return {"engine": self.name, "model_id": self.model_id, "top_k": self.top_k, "temperature": self.temperature}

    def next_token_logits(self, ids: list[int]) -> np.ndarray:
        """Logits of the token after ``ids`` (one forward pass over the whole sequence)."""
        arr = np.asarray([ids], dtype=np.int64)
        feed = {"input_ids": arr, "attention_mask": np.ones_like(arr)}
        if "position_ids" in self.input_names:
            feed["position_ids"] = np.arange(arr.shape[1], dtype=np.int64)[None, :]
        logits = self.session.run(["logits"], {k: v for k, v in feed.items() if k in self.input_names})[0]
        return logits[0, -1].astype(np.float64)

    def generate_ids(self, prompt_ids: list[int], max_new_tokens: int, seed: int = 0) -> list[int]:
        """New token ids after ``prompt_ids`` (the prompt is cut from the left to leave room for the new tokens)."""
        budget = max(1, self.max_context - max_new_tokens)
        ids = list(prompt_ids[-budget:])
        rng = np.random.default_rng(seed)
        new: list[int] = []
        for _ in range(max_new_tokens):
            logits = self.next_token_logits(ids)
            if self.top_k == 1:
                tok = int(np.argmax(logits))
            else:
                k = min(self.top_k, logits.shape[0])
                top = np.argpartition(-logits, k - 1)[:k]
                z = logits[top] / self.temperature
                p = np.exp(z - z.max())
                tok = int(rng.choice(top, p=p / p.sum()))
            if self.eos_token_id is not None and tok == self.eos_token_id:
                break
            new.append(tok)
            ids.append(tok)
            if len(ids) >= self.max_context:
                ids = ids[1:]
        return new

    def generate(self, request: SynthRequest) -> str:
        """Decode a note for ``request`` from the method's prompt."""
        prompt = build_prompt(request)
        ids = self.tokenizer.encode(prompt, add_special_tokens=False).ids
        new = self.generate_ids(ids, request.max_new_tokens, seed=request.seed)
        return self.tokenizer.decode(new, skip_special_tokens=True).strip() + "\n"
