"""nnU-Net's own predictor on an array, for parity checks of an imported bundle (needs the ``nnunetv2`` package).

nnunetv2 reads ``nnUNet_raw``, ``nnUNet_preprocessed`` and ``nnUNet_results`` from the environment and prints a
warning when they are unset; predicting from a model folder needs none of them, so :func:`nnunet_env` points them at
an empty temporary folder for the duration of a call and restores them afterwards. nnunetv2 makes no network access
at import or prediction (tested under the network watch in ``tests/training/test_nnunet_import.py``).

Arrays here are on the bundle's axes (voxel axes i, j, k, spacing in the same order); nnU-Net wants SimpleITK's
order (k, j, i), so :func:`predict_with_nnunet` reverses the axes on the way in and out.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_ENV = ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")


@contextmanager
def nnunet_env() -> Iterator[Path]:
    """nnU-Net's folder variables set to an empty temporary folder (unless already set), compile off."""
    old = {k: os.environ.get(k) for k in (*_ENV, "nnUNet_compile")}
    with tempfile.TemporaryDirectory(prefix="medpriv-nnunet-") as tmp:
        for k in _ENV:
            if os.environ.get(k) is None:
                os.environ[k] = tmp
        os.environ["nnUNet_compile"] = "false"
        try:
            yield Path(tmp)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@dataclass
class ReferencePrediction:
    """nnU-Net's outputs on the bundle's axes."""

    labels: np.ndarray  # (i, j, k) int
    probabilities: np.ndarray  # (K, i, j, k) float32, on the input grid
    logits: np.ndarray | None  # (K, i, j, k) at the plans' spacing; None when nnU-Net resampled


def predict_with_nnunet(folder: str | Path, image_ijk: np.ndarray, spacing_ijk: tuple[float, float, float],
                        folds: tuple[str, ...] = ("0",), checkpoint: str = "checkpoint_final.pth",
                        mirroring: bool = False, threads: int = 1) -> ReferencePrediction:
    """Run ``nnUNetPredictor`` (step 0.5, Gaussian, CPU) on one image given on the bundle's axes."""
    import torch

    with nnunet_env():
        from nnunetv2.inference.data_iterators import PreprocessAdapterFromNpy
        from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
        from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

        old_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            pred = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=mirroring,
                                   perform_everything_on_device=False, device=torch.device("cpu"), verbose=False,
                                   allow_tqdm=False)
            pred.initialize_from_trained_model_folder(str(folder), use_folds=tuple(folds),
                                                      checkpoint_name=checkpoint)
            img = np.ascontiguousarray(np.asarray(image_ijk, np.float32).transpose(2, 1, 0))[None]
            props = {"spacing": [float(s) for s in reversed(spacing_ijk)]}
            ppa = PreprocessAdapterFromNpy([img], [None], [props], [None], pred.plans_manager, pred.dataset_json,
                                           pred.configuration_manager, num_threads_in_multithreaded=1)
            dct = next(ppa)
            logits = pred.predict_logits_from_preprocessed_data(dct["data"]).cpu()
            seg, prob = convert_predicted_logits_to_segmentation_with_correct_shape(
                logits.clone(), pred.plans_manager, pred.configuration_manager, pred.label_manager,
                dct["data_properties"], return_probabilities=True, num_threads_torch=threads)
        finally:
            torch.set_num_threads(old_threads)
    back = list(pred.plans_manager.transpose_backward)
    same_grid = tuple(logits.shape[1:]) == tuple(img.shape[1:][i] for i in pred.plans_manager.transpose_forward)
    lg = None
    if same_grid:
        lg = logits.float().numpy().transpose([0] + [1 + b for b in back])  # (K, k, j, i)
        lg = np.ascontiguousarray(lg.transpose(0, 3, 2, 1))
    return ReferencePrediction(labels=np.ascontiguousarray(np.asarray(seg).transpose(2, 1, 0)),
                               probabilities=np.ascontiguousarray(np.asarray(prob, np.float32).transpose(0, 3, 2, 1)),
                               logits=lg)
