"""The rules of voting from a phone: invitations, codes, the urn and limits on guessing."""

from services.evaluation.voting.aggregates.codes import code_hash, masked_name, new_code, normalise
from services.evaluation.voting.aggregates.invitations import Invitations
from services.evaluation.voting.aggregates.urn import batch_due, shuffled, wait_after

__all__ = [
    "Invitations",
    "batch_due",
    "code_hash",
    "masked_name",
    "new_code",
    "normalise",
    "shuffled",
    "wait_after",
]
