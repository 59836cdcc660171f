"""The notification service's read models (`read_models.sql`) and the one table of what
projects them: its own events (calendars, notices, channels, deliveries, bulletins) and the
consumed ones, from any of the other services (the board and the releases feed, N1, N2, X2),
with the pledge service's directory events kept as the service's copy of the hierarchy.

Everything written comes from the event (its data, time and log position), never from
now(), so a rebuild from the log and the inbox gives exactly the same rows.
"""

from __future__ import annotations

from importlib import resources

from services.notification.events import REGISTRY
from services.notification.projections import activity, board, selection, service
from shared.directory import DIRECTORY_DDL
from shared.projections import ANY_SOURCE, Projection, ReadModels

DDL = DIRECTORY_DDL + resources.files("services.notification").joinpath(
    "read_models.sql"
).read_text(encoding="utf-8")

PROJECTION = Projection(
    "notification",
    {
        # its own events
        "CalendarSet": service.calendar_set,
        "NoticeIssued": service.notice_issued,
        "NoticeRead": service.notice_read,
        "ChannelRegistered": service.channel_registered,
        "ChannelRetired": service.channel_retired,
        "PhoneRegistered": service.phone_registered,
        "PhoneRemoved": service.phone_removed,
        "DeliveryScheduled": service.delivery_scheduled,
        "DeliveryAttemptFailed": service.delivery_attempt_failed,
        "DeliverySucceeded": service.delivery_succeeded,
        "DeliveryGivenUp": service.delivery_given_up,
        "DeliveryRequeued": service.delivery_requeued,
        "BulletinIssued": service.bulletin_issued,
        # consumed, from whichever service publishes them (board.py, activity.py,
        # selection.py): the pledge service's, for the board and the pledge cards (N1, P7)
        (ANY_SOURCE, "CountyEstablished"): board.county_established,
        (ANY_SOURCE, "PledgeCalendarSet"): board.pledge_calendar_set,
        (ANY_SOURCE, "PledgeDrafted"): board.pledge_drafted,
        (ANY_SOURCE, "PledgeProposed"): board.pledge_proposed,
        (ANY_SOURCE, "PledgeReturned"): board.pledge_returned,
        (ANY_SOURCE, "PledgeResubmitted"): board.pledge_resubmitted,
        (ANY_SOURCE, "PledgeApproved"): board.pledge_approved,
        (ANY_SOURCE, "PledgePublished"): board.pledge_published,
        (ANY_SOURCE, "ProgressReported"): board.progress_reported,
        (ANY_SOURCE, "ItemReportedDone"): board.item_reported_done,
        (ANY_SOURCE, "ProblemSolvedConfirmed"): board.problem_solved_confirmed,
        (ANY_SOURCE, "ImplementationVerified"): board.implementation_verified,
        (ANY_SOURCE, "SatisfactionVerdictRecorded"): board.satisfaction_verdict_recorded,
        (ANY_SOURCE, "SatisfactionNotRated"): board.satisfaction_not_rated,
        (ANY_SOURCE, "SatisfactionCheckReopened"): board.satisfaction_check_reopened,
        (ANY_SOURCE, "QuarterlyPushRecorded"): board.quarterly_push_recorded,
        (ANY_SOURCE, "ItemClosed"): board.item_closed,
        # the review and evaluation services' activity and results (N1, N2)
        (ANY_SOURCE, "ReviewRecorded"): activity.review_recorded,
        (ANY_SOURCE, "ReviewCorrected"): activity.review_corrected,
        (ANY_SOURCE, "JournalEntryRecorded"): activity.journal_entry_recorded,
        (ANY_SOURCE, "MonthlyPresentationEvaluated"): activity.monthly_presentation_evaluated,
        (ANY_SOURCE, "GuidanceVisitRecorded"): activity.guidance_visit_recorded,
        (ANY_SOURCE, "LeaderAssigned"): activity.leader_assigned,
        (ANY_SOURCE, "LeaderUnassigned"): activity.leader_unassigned,
        (ANY_SOURCE, "EvaluationCalendarSet"): activity.evaluation_calendar_set,
        (ANY_SOURCE, "RoundResultsPublished"): activity.round_results_published,
        (ANY_SOURCE, "RatingResultsPublished"): activity.rating_results_published,
        (ANY_SOURCE, "CommendationIssued"): activity.commendation_issued,
        # the evaluation service's selections on public notice (S3)
        (ANY_SOURCE, "SelectionOpened"): selection.selection_opened,
        (ANY_SOURCE, "CandidateNominated"): selection.candidate_nominated,
        (ANY_SOURCE, "NoticePosted"): selection.notice_posted,
        (ANY_SOURCE, "ObjectionFiled"): selection.objection_filed,
        (ANY_SOURCE, "ObjectionAnswered"): selection.objection_answered,
    },
    directory=True,
)

READ_MODELS = ReadModels(ddl=DDL, project=PROJECTION, upcast=REGISTRY.upcast)
