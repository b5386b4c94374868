"""Qt tests run offscreen (no display needed)."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _fresh_notification_history():
    """Each test starts with an empty message history: the manager keeps only the last 50 messages, so after a long
    run ``history[len_before:]`` would always be empty and tests of "the message said X" would read nothing."""
    from medpriv_desktop.gui.notify import notifications

    notifications().history.clear()
    yield
