"""The engine interface and registry (Presidio's NLP-engine pattern: a small ABC, a name, ``is_available``, a
registry that builds engines by name).

``get_engine("template")`` gives the model-free default; any other name is looked up as a ``causal-lm`` bundle id in
the model registry and run with ONNX Runtime (:class:`OnnxCausalLMEngine`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.errors import ModelError, did_you_mean
from medpriv_desktop.core.notes.synth.keywords import Keyword

METHODS = ("keyword", "one-shot", "normalized")
NOTE_TYPES = ("nursing", "radiology", "discharge")


@dataclass
class SynthRequest:
    """What an engine gets for one note: the method, the checked keywords, the context (one-shot methods only: the
    prepared source text), the note type, a seed and a length budget."""

    method: str
    keywords: list[Keyword] = field(default_factory=list)
    context: str | None = None
    note_type: str = "nursing"
    seed: int = 0
    max_new_tokens: int = 200

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method}")
        if self.method == "keyword" and self.context is not None:
            # The keyword path must never see the source: that is its privacy argument.
            raise ValueError("the keyword method takes keywords only, no source context")


class SynthEngine(ABC):
    """A generation engine: ``generate(request) -> str``."""

    name: str = "engine"

    @classmethod
    def is_available(cls) -> bool:
        """True when the engine can run in this installation."""
        return True

    @abstractmethod
    def generate(self, request: SynthRequest) -> str:
        """One synthetic note for ``request``."""

    def describe(self) -> dict[str, Any]:
        """Identity for result files and the audit log (no patient text)."""
        return {"engine": self.name}


#: Engine name -> factory taking keyword options.
ENGINES: dict[str, Callable[..., SynthEngine]] = {}


def register_engine(name: str, factory: Callable[..., SynthEngine]) -> None:
    """Add an engine under ``name`` (used by the built-ins and by tests)."""
    ENGINES[name] = factory


def available_engines(registry: Any = None) -> list[str]:
    """Names of registered engines plus the ids of installed ``causal-lm`` bundles in ``registry`` (the Context's;
    without one, a registry from the saved settings)."""
    _builtins()
    names = list(ENGINES)
    try:
        from medpriv_desktop.core.models.registry import ModelRegistry
        from medpriv_desktop.core.settings import load_settings

        registry = registry if registry is not None else ModelRegistry.from_settings(load_settings())
        names += [e.card.id for e in registry.entries("causal-lm")]
    except Exception:  # a broken registry must not hide the template engine
        pass
    return names


def _builtins() -> None:
    if "template" not in ENGINES:
        from medpriv_desktop.core.notes.synth.engines.template import TemplateEngine

        register_engine("template", TemplateEngine)


def get_engine(name: str, registry: Any = None, **options: Any) -> SynthEngine:
    """The engine called ``name``: a registered engine or a ``causal-lm`` bundle id."""
    _builtins()
    if name in ENGINES:
        return ENGINES[name](**options)
    from medpriv_desktop.core.models.registry import ModelRegistry
    from medpriv_desktop.core.notes.synth.engines.onnx_lm import OnnxCausalLMEngine
    from medpriv_desktop.core.settings import load_settings

    registry = registry if registry is not None else ModelRegistry.from_settings(load_settings())
    ids = [e.card.id for e in registry.entries("causal-lm")]
    if name not in ids:
        raise ModelError(f"no generation engine or causal-lm model called '{name}'",
                         hint=did_you_mean(name, list(ENGINES) + ids) or f"choose one of {list(ENGINES) + ids}")
    return OnnxCausalLMEngine.from_entry(registry.get(name), registry=registry, **options)
