"""Scheduling outbound deliveries (N5): one Delivery per matching channel, in the same
transaction as what caused it, so nothing published is ever lost between the two."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from services.notification.aggregate import Delivery
from shared.unit_of_work import UnitOfWork

# what a channel can subscribe to: the releases (X2) and the notices (N3, N4)
RELEASE_TYPES = (
    "pledge_published",
    "item_closed",
    "review",
    "guidance_visit",
    "round_results",
    "rating_results",
    "selection_notice",
    "commendation",
    "bulletin",
)
NOTICE_TYPES = ("reminder", "overdue")
DELIVERABLE = RELEASE_TYPES + NOTICE_TYPES


async def schedule_deliveries(
    uow: UnitOfWork,
    *,
    release_type: str,
    township_id: str,
    release_id: str,
    subject: str,
    content: dict[str, Any],
    now: datetime,
) -> list[str]:
    channels = await uow.conn.fetch(
        "SELECT channel_id FROM channels c WHERE active AND release_types ? $1"
        " AND (township_id = $2 OR (township_id IS NULL AND county_id ="
        "   (SELECT county_id FROM dir_townships WHERE township_id = $2)))"
        " ORDER BY channel_id",
        release_type,
        township_id,
    )
    scheduled = []
    for channel in channels:
        delivery_id = f"dl-{secrets.token_hex(8)}"
        delivery = Delivery.schedule(
            delivery_id,
            channel["channel_id"],
            township_id,
            release_id,
            release_type,
            subject,
            json.loads(json.dumps(content, ensure_ascii=False, default=str)),
            now,
        )
        await uow.save(delivery)
        scheduled.append(delivery_id)
    return scheduled
