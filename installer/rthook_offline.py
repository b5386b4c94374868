"""PyInstaller runtime hook: make the frozen app offline before any library is imported.

tldextract (pulled in by Presidio) would otherwise fetch the public suffix list; with an empty URL list it reads the
snapshot collected into the bundle. The Hugging Face variables are belt and braces: no hub library is bundled.
"""

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
