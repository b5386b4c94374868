"""All Qt code: the main window, workspaces, dialogs, and the adapter that runs core jobs on worker threads."""
