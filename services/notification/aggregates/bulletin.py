"""Supervision bulletins (督查通報, N4), compiled from the events received so far: for each
branch, how its secretary drives the activity (pledges published, reviews held, members
whose work journal was presented and evaluated), leading cadres' guidance visits, open and
overdue items, and the gaps."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import asyncpg

from services.notification.aggregate import Bulletin
from services.notification.events import BranchRecord
from services.notification.handlers import county_of_township
from services.notification.outbound import schedule_deliveries
from shared.unit_of_work import UnitOfWork, accepted


async def compile_branches(
    conn: asyncpg.Connection, township_id: str, period: str, on: date
) -> tuple[BranchRecord, ...]:
    """`period` is a month ("2027-03") for the regular bulletin; activity counts are for that
    month, or for the year to date when the period is not a month."""
    month = period if len(period) == 7 and period[4] == "-" else None
    rows = await conn.fetch(
        "SELECT b.branch_id, b.name,"
        " (SELECT name FROM dir_members m WHERE m.member_id = b.secretary_id) AS secretary,"
        " (SELECT count(*) FROM board_pledges p WHERE p.branch_id = b.branch_id"
        "   AND p.status = 'published' AND p.year = $3) AS pledges,"
        " (SELECT count(*) FROM board_reviews r WHERE r.branch_id = b.branch_id"
        "   AND r.corrected_by IS NULL AND ($2::text IS NULL OR to_char(r.held_on, 'YYYY-MM') = $2)"
        "   AND extract(year FROM r.held_on) = $3) AS reviews,"
        # the branch's members whose monthly journal was presented and evaluated (R6), not
        # entries made, nor members who have left since (the count is set against them)
        " (SELECT count(DISTINCT p.member_id) FROM board_presentations p"
        "   JOIN dir_members m ON m.member_id = p.member_id AND m.active"
        "   AND m.branch_id = b.branch_id WHERE p.branch_id = b.branch_id"
        "   AND ($2::text IS NULL OR p.month = $2) AND p.month LIKE $3::text || '-%') AS journals,"
        " (SELECT count(*) FROM board_visits v WHERE v.branch_id = b.branch_id"
        "   AND ($2::text IS NULL OR to_char(v.visited_on, 'YYYY-MM') = $2)"
        "   AND extract(year FROM v.visited_on) = $3) AS visits,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.branch_id = b.branch_id AND i.published AND i.closed_at IS NULL) AS open_items,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.branch_id = b.branch_id AND i.published AND i.closed_at IS NULL"
        "   AND i.due_date < $4) AS overdue_items,"
        " (SELECT count(*) FROM dir_members m WHERE m.branch_id = b.branch_id AND m.active)"
        "   AS members"
        " FROM dir_branches b WHERE b.township_id = $1 AND b.active ORDER BY b.branch_id",
        township_id,
        month,
        int(month[:4]) if month else on.year,
        on,
    )
    return tuple(_record(dict(r)) for r in rows)


def _record(r: dict[str, Any]) -> BranchRecord:
    gaps = []
    if not r["secretary"]:
        gaps.append("书记空缺")
    if not r["pledges"]:
        gaps.append("未公开承诺")
    if not r["reviews"]:
        gaps.append("未开展点评")
    if r["journals"] < r["members"]:
        gaps.append(f"纪实未全覆盖({r['journals']}/{r['members']})")
    if not r["visits"]:
        gaps.append("无联系点指导")
    if r["overdue_items"]:
        gaps.append(f"{r['overdue_items']}项承诺逾期")
    return BranchRecord(
        branch_id=r["branch_id"],
        branch_name=r["name"],
        secretary_name=r["secretary"],
        pledges_published=r["pledges"],
        reviews_held=r["reviews"],
        journals_presented=r["journals"],
        guidance_visits=r["visits"],
        open_items=r["open_items"],
        overdue_items=r["overdue_items"],
        gaps=tuple(gaps),
    )


async def issue_bulletin(
    uow: UnitOfWork, township_id: str, *, period: str | None, regular: bool, title: str, note: str
) -> dict[str, Any]:
    county_id = await county_of_township(uow, township_id)
    on = uow.today()
    bulletin_id = f"bl-{period}" if regular else f"bl-{secrets.token_hex(4)}"
    label = period or on.isoformat()
    stream = f"bulletin-{township_id}-{bulletin_id}"
    bulletin = await uow.load(Bulletin, stream) or Bulletin(stream, township_id)
    branches = await compile_branches(uow.conn, township_id, label, on)
    bulletin_id = f"{bulletin_id}-{township_id}"
    if bulletin.issue(
        bulletin_id=bulletin_id,
        township_id=township_id,
        county_id=county_id,
        period=label,
        regular=regular,
        title=title,
        issued_on=on,
        note=note,
        branches=branches,
    ):
        [event] = await uow.save(bulletin)
        content = event.data
        await schedule_deliveries(
            uow,
            release_type="bulletin",
            township_id=township_id,
            release_id=event.id,
            subject=title,
            content=content,
            now=uow.store.clock.now(),
        )
    return accepted(bulletin_id, uow)
