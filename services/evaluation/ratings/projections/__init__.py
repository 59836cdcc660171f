"""The periodic ratings' projector (E6), by the event it projects."""

from services.evaluation.ratings.projections import ratings
from shared.projections import Projection, Table

TABLE: Table = {"RatingResultsPublished": ratings.rating_published}
PROJECTION = Projection("evaluation", TABLE)
