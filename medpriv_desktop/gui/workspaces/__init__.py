"""The three workspaces of the main window: Imaging, Notes, Reports."""
