"""Imaging engine: volumes, readers/writers, preprocessing from a model card, ONNX inference, QC, statistics.

Orientation convention for the whole code base: see :mod:`medpriv_desktop.core.imaging.volume`.
"""
