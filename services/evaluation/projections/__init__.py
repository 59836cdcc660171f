"""Projects the evaluation service's events, and the pledge directory events it consumes,
into its read models (`read_models.sql` + the shared directory copy): the one table of
projectors, composed of each area's (rounds, checks, ratings, selection) and the erasure of
personal data (A7), which every area showing a person projects.

Everything written comes from the event, never from now(), so a rebuild gives the same rows.
"""

from __future__ import annotations

from importlib import resources

from services.evaluation.checks import projections as checks
from services.evaluation.events import REGISTRY
from services.evaluation.projections import people
from services.evaluation.ratings import projections as ratings
from services.evaluation.rounds import projections as rounds
from services.evaluation.selection import projections as selection
from services.evaluation.voting import projections as voting
from shared.directory import DIRECTORY_DDL
from shared.projections import Projection, ReadModels, Step, Table

DDL = resources.files("services.evaluation").joinpath("read_models.sql").read_text("utf-8")


def one_table(*tables: Table) -> Table:
    """The areas' tables as one; an event projected by two areas is a mistake."""
    table: dict[str | tuple[str, str], Step] = {}
    for part in tables:
        twice = table.keys() & part.keys()
        if twice:
            raise ValueError(f"two projections of {sorted(map(str, twice))}")
        table.update(part)
    return table


PROJECTION = Projection(
    "evaluation",
    one_table(
        rounds.TABLE,
        checks.TABLE,
        ratings.TABLE,
        selection.TABLE,
        voting.TABLE,
        {"PersonalDataErased": people.personal_data_erased},
    ),
    directory=True,
)
READ_MODELS = ReadModels(ddl=DDL + DIRECTORY_DDL, project=PROJECTION, upcast=REGISTRY.upcast)
