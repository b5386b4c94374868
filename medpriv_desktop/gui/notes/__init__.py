"""Widgets and job adapters of the Notes workspace (de-identification review, batch, synthesis)."""
