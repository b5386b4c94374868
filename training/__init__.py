"""Training side of MedPriv Desktop: produces every model bundle the app ships.

Needs the ``train`` extra (torch, monai, transformers, opacus, peft). May import ``medpriv_desktop.core`` so that
preprocessing and the model card exist once; the app never imports this package.
"""

# First, before torch, onnx or onnxruntime: the app's package switches ONNX Runtime's telemetry and the hubs off
# (medpriv_desktop/_offline.py); exports and parity checks here run ONNX Runtime too.
import medpriv_desktop  # noqa: E402,F401
