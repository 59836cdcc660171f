"""The rules the service's areas share: scales and results (tally.py), the ballot's token hash
(ballots.py), and the person whose sealed personal data may be erased (person.py, A7). Each
area's own aggregates are in its `aggregates/`."""

from services.evaluation.aggregates import tally
from services.evaluation.aggregates.ballots import token_hash
from services.evaluation.aggregates.person import Person

__all__ = ["Person", "tally", "token_hash"]
