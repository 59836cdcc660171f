"""Periodic ratings (E6)."""
