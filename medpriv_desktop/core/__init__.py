"""Headless logic of MedPriv Desktop.

Nothing under ``core`` imports Qt, VTK, torch, transformers, monai, opacus or peft; ``tests/unit/test_boundaries.py``
proves it by importing every module in a subprocess that blocks those packages.
"""
