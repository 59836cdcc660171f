"""Projects the pledge service's events into its read models (`read_models.sql`): the one
table of which step projects which event; the steps are in `directory` and `pledges`."""

from __future__ import annotations

from importlib import resources

from services.pledge.events import REGISTRY
from services.pledge.projections import directory, pledges
from shared.projections import Projection, ReadModels

DDL = resources.files("services.pledge").joinpath("read_models.sql").read_text(encoding="utf-8")

PROJECTION = Projection(
    "pledge",
    {
        # the directory (D1–D3)
        "CountyEstablished": directory.county,
        "PledgeCalendarSet": directory.calendar,
        "CategoriesConfigured": directory.categories,
        "TownshipEstablished": directory.township,
        "TownshipHeadAppointed": directory.head,
        "BranchEstablished": directory.branch,
        "BranchSecretaryAppointed": directory.secretary,
        "BranchMoved": directory.branch_moved,
        "BranchRetired": directory.branch_retired,
        "MemberEnrolled": directory.member,
        "MemberPostAssigned": directory.post,
        "MemberTransferred": directory.transfer,
        "MemberRetired": directory.member_retired,
        # the pledges (P1–P11)
        "PledgeDrafted": pledges.drafted,
        "OpinionRecorded": pledges.opinion,
        "PledgeProposed": pledges.proposed,
        "ItemReviewed": pledges.reviewed,
        "PledgeReturned": pledges.returned,
        "PledgeResubmitted": pledges.resubmitted,
        "PledgeApproved": pledges.approved,
        "PledgePublished": pledges.published,
        "ProgressReported": pledges.progress,
        "FollowUpRecorded": pledges.follow_up,
        "ItemReportedDone": pledges.done,
        "ProblemSolvedConfirmed": pledges.solved,
        "ImplementationVerified": pledges.verified,
        "SatisfactionVerdictRecorded": pledges.verdict,
        "SatisfactionNotRated": pledges.not_rated,
        "SatisfactionCheckReopened": pledges.reopened,
        "ItemClosed": pledges.closed,
        "QuarterlyPushRecorded": pledges.quarter,
    },
    # its own directory events are projected by the steps above, into its own tables (the
    # other services keep a copy of the hierarchy with `directory=True`)
    directory=False,
    # a roster import's thousands of new branches and members, many rows per statement
    batched={
        "BranchEstablished": directory.branches,
        "MemberEnrolled": directory.members,
        "BranchSecretaryAppointed": directory.secretaries,
    },
)

# version 2: an item reported done is at 100% in the ledger, as on the board
READ_MODELS = ReadModels(ddl=DDL, project=PROJECTION, upcast=REGISTRY.upcast, version="2")
