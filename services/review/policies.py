"""What the review service consumes: every event of the pledge service (all types), kept in
the inbox and projected into its copies of the directory and of pledge status (D2, R3); and
of the identity service's events only the posts (`PostStarted`, `PostEnded`), for its copy of
who sits on each township committee (`committee_seats`: the office assigns only the
township's leaders, R1). Its other events (people's names, locks, credentials) are
acknowledged and never stored (A7: docs/services/review.md, "What it keeps of identity").
Each replays its source's stream from the start, so seats granted before this subscription
existed are copied too; until the identity service runs, its runner waits for the stream.

No policy handler: the review service decides nothing on another service's event; it only
keeps its copies current, from the moment each event arrives (D3).
"""

from __future__ import annotations

from services.review import contracts as k
from shared.consumed import by_type
from shared.subscriptions import Subscription

# the identity events the review service reads (contracts.py), the only ones it keeps
IDENTITY_KEPT = frozenset(by_type(k.PostStarted, k.PostEnded))


def subscriptions() -> list[Subscription]:
    return [
        Subscription(consumer="review", source="pledge"),
        Subscription(consumer="review", source="identity", keep=IDENTITY_KEPT),
    ]
