"""Projects the review service's own events, and the pledge and identity services' events it
consumes, into its read models (`read_models.sql` plus `shared.directory`'s copy of the
hierarchy, kept from the pledge service's directory events: `directory=True`).

The table below is the one list of which step projects which event; the steps live in the
modules beside it. Everything written comes from the event (its data, time and actor), never
from now(), so a rebuild gives exactly the same rows.
"""

from __future__ import annotations

from importlib import resources

from services.review.events import REGISTRY
from services.review.projections import journals, leaders, pledges, reviews, seats, visits
from shared.directory import DIRECTORY_DDL
from shared.projections import Projection, ReadModels

DDL = DIRECTORY_DDL + (
    resources.files("services.review").joinpath("read_models.sql").read_text(encoding="utf-8")
)

PLEDGE = "pledge"  # events consumed from the pledge service
IDENTITY = "identity"  # and from the identity service

PROJECTION = Projection(
    "review",
    {
        # the pledge status copy (R3)
        (PLEDGE, "PledgeDrafted"): pledges.drafted,
        (PLEDGE, "PledgeProposed"): pledges.proposed,
        (PLEDGE, "PledgeResubmitted"): pledges.resubmitted,
        (PLEDGE, "PledgeReturned"): pledges.returned,
        (PLEDGE, "PledgeApproved"): pledges.approved,
        (PLEDGE, "PledgePublished"): pledges.published,
        (PLEDGE, "ItemClosed"): pledges.closed,
        # the township committees' seats (R1)
        (IDENTITY, "PostStarted"): seats.started,
        (IDENTITY, "PostEnded"): seats.ended,
        # leadership reviews (R4)
        "ReviewRecorded": reviews.recorded,
        "ReviewCorrected": reviews.corrected,
        # work journals (R6)
        "JournalEntryRecorded": journals.entry_recorded,
        "JournalEntryCorrected": journals.entry_corrected,
        "MonthlyPresentationEvaluated": journals.presented,
        # guidance visits (R7)
        "GuidanceVisitRecorded": visits.recorded,
        # responsible leaders (R1)
        "LeaderAssigned": leaders.assigned,
        "LeaderUnassigned": leaders.unassigned,
    },
    directory=True,
)

READ_MODELS = ReadModels(ddl=DDL, project=PROJECTION, upcast=REGISTRY.upcast)
