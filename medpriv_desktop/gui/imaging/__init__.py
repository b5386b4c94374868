"""Widgets of the Imaging workspace: linked slice views, the 3D view, segmentation, structures, editing, export."""
