"""Subcommands of ``medpriv``; one module each, registered in ``medpriv_desktop.cli.COMMAND_MODULES``."""
