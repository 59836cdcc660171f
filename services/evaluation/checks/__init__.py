"""Satisfaction checks of pledge items (E8, P10c)."""
