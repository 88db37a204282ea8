"""Models of the relatives app; built by its own issue."""
