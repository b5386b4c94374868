"""VTK pipelines (surfaces, volume rendering, mesh export). VTK, but no Qt."""
