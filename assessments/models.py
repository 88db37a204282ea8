"""Models of the assessments app; built by its own issue."""
