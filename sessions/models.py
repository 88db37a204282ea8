"""Models of the sessions app; built by its own issue."""
