"""Build an nnU-Net network from its plans, and load checkpoints without running code from them.

nnunetv2 resolves the class names in ``plans.json`` with ``pydoc.locate`` (any importable name) and loads checkpoints
with ``weights_only=False`` (any pickled object). A plans file or a checkpoint carried in from outside must not be
able to run code here, so: network classes and layer types come from short allow-lists, and checkpoints load with
``torch.load(..., weights_only=True)``. nnunetv2's own checkpoints need two extra globals for that: its training log
holds numpy scalars (``numpy._core.multiarray.scalar`` and ``numpy.dtype``, measured on checkpoints nnunetv2 2.8
saves); both only rebuild plain numbers, so they are allowed and nothing else is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.seg.nnunet.plans import NnunetImportError, NnunetPart

#: Layer types a plans file may name (the last dotted component, under ``torch.nn``).
_LAYERS = {
    "conv_op": {"Conv3d"},
    "norm_op": {"InstanceNorm3d", "BatchNorm3d"},
    "dropout_op": {"Dropout3d", "Dropout"},
    "nonlin": {"LeakyReLU", "ReLU", "PReLU", "GELU", "ELU"},
}


def _network_classes() -> dict[str, type]:
    from dynamic_network_architectures.architectures.unet import PlainConvUNet, ResidualEncoderUNet

    return {"PlainConvUNet": PlainConvUNet, "ResidualEncoderUNet": ResidualEncoderUNet}


def _layer(key: str, name: Any, path: Path) -> Any:
    if name is None:
        return None
    if not isinstance(name, str) or not name.startswith("torch.nn") or name.rsplit(".", 1)[-1] not in _LAYERS[key]:
        raise NnunetImportError(f"plans name {key} = {name!r}, which is not an allowed layer "
                                f"(allowed: torch.nn {sorted(_LAYERS[key])})", path=path)
    return getattr(torch.nn, name.rsplit(".", 1)[-1])


def build_network(part: NnunetPart) -> torch.nn.Module:
    """The part's network (deep supervision off, eval mode), built from the allow-listed class and layers."""
    classes = _network_classes()
    plans = part.folder / "plans.json"
    if part.arch_class not in classes:
        raise NnunetImportError(f"network class '{part.arch_class}' is not supported (supported: "
                                f"{sorted(classes)})", path=plans)
    kwargs = dict(part.arch_kwargs)
    for key in _LAYERS:
        kwargs[key] = _layer(key, kwargs.get(key), plans)
    kwargs["deep_supervision"] = False
    try:
        net = classes[part.arch_class](input_channels=1, num_classes=part.n_outputs, **kwargs)
    except (TypeError, ValueError, AssertionError, IndexError) as exc:
        raise NnunetImportError(f"the plans' arch_kwargs do not build a {part.arch_class} ({type(exc).__name__}: "
                                f"{str(exc)[:200]})", path=plans) from None
    return net.eval()


def _numpy_scalar_globals() -> list:
    """The numpy globals a weights-only unpickler needs for nnU-Net's logged numbers (numpy 1.x and 2.x names)."""
    scalar = np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar
    out: list = [np.dtype, scalar, (scalar, "numpy.core.multiarray.scalar"),
                 (scalar, "numpy._core.multiarray.scalar")]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        out += [getattr(dtypes, n) for n in ("Float16DType", "Float32DType", "Float64DType", "Int32DType",
                                             "Int64DType", "BoolDType") if hasattr(dtypes, n)]
    return out


def load_checkpoint(path: Path) -> dict:
    """``torch.load(path, weights_only=True)`` with numpy scalars allowed; refuses anything else."""
    import pickle

    try:
        with torch.serialization.safe_globals(_numpy_scalar_globals()):
            ck = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        first = str(exc).strip().splitlines()
        why = next((line for line in first if "Unsupported global" in line), first[0] if first else "")
        raise NnunetImportError(f"the checkpoint cannot be loaded as weights only ({why[:240]})", path=path,
                                hint="it holds objects other than tensors and plain values, or it is damaged") \
            from None
    if not isinstance(ck, dict) or "network_weights" not in ck:
        raise NnunetImportError("the file is not an nnU-Net checkpoint (no 'network_weights')", path=path)
    return ck


def _clean_state(state: dict) -> dict:
    """Drop the prefixes torch.compile and DDP add to parameter names."""
    out = {}
    for k, v in state.items():
        for prefix in ("_orig_mod.", "module."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        out[k] = v
    return out


def load_fold_networks(part: NnunetPart) -> tuple[list[torch.nn.Module], dict[str, Any]]:
    """One network per fold with its weights, and facts from the first checkpoint (trainer, mirroring axes)."""
    nets, info = [], {}
    for i, path in enumerate(part.checkpoints):
        ck = load_checkpoint(path)
        if i == 0:
            mirror = ck.get("inference_allowed_mirroring_axes")
            info = {"trainer_name": str(ck.get("trainer_name", part.trainer)),
                    "mirroring_axes": list(mirror) if mirror is not None else None,
                    "epochs": int(ck["current_epoch"]) if isinstance(ck.get("current_epoch"), int) else None}
        net = build_network(part)
        try:
            net.load_state_dict(_clean_state(ck["network_weights"]), strict=True)
        except RuntimeError as exc:
            raise NnunetImportError(f"the weights do not fit the network the plans describe "
                                    f"({str(exc).splitlines()[0][:200]})", path=path,
                                    hint="a custom trainer may build another architecture") from None
        nets.append(net.eval())
    return nets, info
