"""The notification service's pages: the public board rendered from `templates/` (N1, P7)."""
