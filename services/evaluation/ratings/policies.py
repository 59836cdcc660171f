"""Reactions of periodic ratings: none. A rating is published by the organisation that rates."""
