"""Dialogs: Models, Preferences, About."""
