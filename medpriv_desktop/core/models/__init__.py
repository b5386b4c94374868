"""Model cards, bundles and the registry over the bundled, site and user model folders."""

from medpriv_desktop.core.models.card import CARD_FILE, SCHEMA_VERSION, Label, ModelCard, Task

__all__ = ["CARD_FILE", "SCHEMA_VERSION", "Label", "ModelCard", "Task"]
