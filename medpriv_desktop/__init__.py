"""MedPriv Desktop: offline imaging segmentation, note de-identification and report classification."""

__version__ = "0.1.0"
