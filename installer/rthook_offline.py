"""PyInstaller runtime hook: make the frozen app offline before any library is imported.

It imports the package's offline switch (``medpriv_desktop/_offline.py``), which *assigns* ``ORT_DISABLE_TELEMETRY=1``
(ONNX Runtime's telemetry otherwise starts about 10 s into a run and resolves a Microsoft host), an empty
tldextract suffix-list URL list (Presidio's tldextract then reads the snapshot collected into the bundle) and the
Hugging Face offline switches. Runtime hooks run before the entry script, so nothing can import onnxruntime first.
"""

from medpriv_desktop import _offline

_offline.switch_off_network_features()
