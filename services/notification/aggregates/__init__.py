"""The notification service's aggregates and rules, one file per aggregate. Pure; no I/O.

A Calendar holds a county's deadlines for a year (N3), a DeadlineNotices stream issues each
reminder and overdue notice once, a Channel is an outbound destination and a Delivery carries
one message to it through its attempts (N5), a Contact is a person's phone for SMS notices
(sealed, A7), a Bulletin is issued once (N4).
"""

from services.notification.aggregates.bulletin import Bulletin, branch_record
from services.notification.aggregates.calendar import (
    OWNERS,
    TITLES,
    Calendar,
    check_owned,
    default_deadlines,
    follow_owners,
    owned_dates,
    phase,
)
from services.notification.aggregates.channel import Channel
from services.notification.aggregates.contact import Contact
from services.notification.aggregates.delivery import BACKOFF, Delivery
from services.notification.aggregates.notices import (
    NAMED,
    DeadlineNotices,
    Recipient,
    grouped,
    notice_text,
    office,
    township_reviewer,
)

__all__ = [
    "BACKOFF",
    "NAMED",
    "OWNERS",
    "TITLES",
    "Bulletin",
    "Calendar",
    "Channel",
    "Contact",
    "DeadlineNotices",
    "Delivery",
    "Recipient",
    "branch_record",
    "check_owned",
    "default_deadlines",
    "follow_owners",
    "grouped",
    "notice_text",
    "office",
    "owned_dates",
    "phase",
    "township_reviewer",
]
