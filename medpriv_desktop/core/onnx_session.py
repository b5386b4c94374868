"""The one way the app opens an ONNX Runtime session.

Every model the app runs (segmentation, text encoders, the causal LM) gets its session here, so three rules hold
everywhere:

- **offline**: :func:`medpriv_desktop._offline.assert_onnxruntime_offline` runs first; a process that imported
  onnxruntime before its telemetry was switched off gets no session;
- **the same numbers on every CPU**: an int8 model with 8-bit weights runs with ``session.x64quantprecision = 1``,
  ONNX Runtime's exact x64 int8 kernels, so it gives the same labels on an AVX2-only workstation as on an AVX-512
  VNNI one (the default AVX2 u8s8 kernel saturates 16-bit pair sums). That path is much slower (measured 2.6x on a
  VNNI CPU for a MiniLM tagger), so models exported with 7-bit weights (``reduce_range``, declared in the card's
  ``quantization`` block) run the default kernels, which cannot saturate with 7-bit weights: exact and fast;
- **threads**: one intra-op pool of the requested size, one inter-op thread, sequential execution, ORT's logging
  above warnings withheld (its messages can name tensors, never patient data, but the app log stays ours).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import ModelError

#: Session config entries for models that need ONNX Runtime's exact int8 kernels (module docstring).
EXACT_INT8_CONFIG: dict[str, str] = {"session.x64quantprecision": "1"}


def import_onnxruntime() -> Any:
    """``onnxruntime``, imported only after the offline check."""
    from medpriv_desktop import _offline

    _offline.assert_onnxruntime_offline()
    import onnxruntime

    return onnxruntime


def create_session(model_path: str | Path, threads: int, *, optimize: bool = True, exact_int8: bool = True) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU for ``model_path`` with the app's rules (module docstring).
    ``exact_int8=False`` only for models whose card declares 7-bit int8 weights.

    Raises :class:`ModelError` naming the file when the model cannot be loaded.
    """
    ort = import_onnxruntime()
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, int(threads))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.log_severity_level = 3
    if exact_int8:
        for key, value in EXACT_INT8_CONFIG.items():
            so.add_session_config_entry(key, value)
    try:
        return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"the ONNX file cannot be loaded ({type(exc).__name__})", path=model_path,
                         hint="the bundle is damaged or needs a newer onnxruntime") from None
