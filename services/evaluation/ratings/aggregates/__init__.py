"""The rules of periodic ratings (E6)."""

from services.evaluation.ratings.aggregates.rating import PERIOD, Rating, period_start

__all__ = ["PERIOD", "Rating", "period_start"]
