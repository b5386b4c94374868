"""Radiology-report classifiers: data adapters, DP-LoRA training, the epsilon sweep and export to bundles."""
