"""Widgets and job adapters of the Reports workspace (classification, evidence, second opinion, batch)."""
