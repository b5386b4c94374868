"""Switch off every network feature of the libraries the app loads, before they are imported.

ONNX Runtime (1.29 and newer, on Linux too) starts a telemetry client some seconds into a run: it resolves
``mobile.events.data.microsoft.com``, opens a TLS connection and writes a device id under ``~/.cache/Microsoft`` and a
``.ses`` file in the temp folder. ``onnxruntime.disable_telemetry_events()`` does not stop it; the environment
variable ``ORT_DISABLE_TELEMETRY=1`` does, but only when it is set before ``onnxruntime`` is imported (measured on
1.32: setting it after the import and before the first session still sends DNS queries). The variables are therefore
*assigned* here (not ``setdefault``: a user's ``ORT_DISABLE_TELEMETRY=0`` must not turn it back on), and
:func:`assert_onnxruntime_offline` refuses to create a session in a process that imported ``onnxruntime`` before
this module ran with the switch off.

tldextract (pulled in by Presidio) would download the public suffix list; an empty URL list makes it use its
bundled snapshot. The Hugging Face variables are belt and braces: the app imports no hub library.
"""

from __future__ import annotations

import os
import sys

#: Environment assignments that keep libraries offline; each value is forced.
OFFLINE_ENVIRONMENT: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}

#: True when onnxruntime was imported before the switch was assigned (its telemetry may then be running).
onnxruntime_loaded_too_early = False


def switch_off_network_features() -> None:
    """Assign :data:`OFFLINE_ENVIRONMENT`; note whether onnxruntime was already imported without the switch."""
    global onnxruntime_loaded_too_early
    if "onnxruntime" in sys.modules and os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
        onnxruntime_loaded_too_early = True
    os.environ.update(OFFLINE_ENVIRONMENT)


def assert_onnxruntime_offline() -> None:
    """Raise when onnxruntime was imported before its telemetry could be switched off.

    Called before every ONNX Runtime session the app creates. The process then has a telemetry client that will try
    to reach the network; refusing is the only way to keep the promise that nothing is attempted.
    """
    if onnxruntime_loaded_too_early:
        from medpriv_desktop.core.errors import ModelError

        raise ModelError(
            "onnxruntime was imported before MedPriv could switch its telemetry off; refusing to run a model",
            hint="import medpriv_desktop before onnxruntime, or set ORT_DISABLE_TELEMETRY=1 in the environment",
        )
