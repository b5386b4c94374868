"""Generation engines behind one interface (:class:`SynthEngine`) and their registry (:func:`get_engine`)."""

from medpriv_desktop.core.notes.synth.engines.base import (
    ENGINES,
    SynthEngine,
    SynthRequest,
    available_engines,
    get_engine,
    register_engine,
)

__all__ = ["ENGINES", "SynthEngine", "SynthRequest", "available_engines", "get_engine", "register_engine"]
