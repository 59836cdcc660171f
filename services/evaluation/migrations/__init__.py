"""The evaluation service's own tables beside the log (not read models: a rebuild leaves them)."""
