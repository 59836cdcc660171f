"""Supervision bulletins (督查通报, N4): for each branch, how its secretary drives the
activity (pledges published, reviews held, members whose work journal was presented and
evaluated), leading cadres' guidance visits, open and overdue items, and the gaps. A
Bulletin stream issues its bulletin once. Pure; the counts are read in queries.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.notification.events import BranchRecord, BulletinIssued, CadreGuidance
from shared.aggregate import Aggregate
from shared.events import DomainEvent


def branch_record(r: dict[str, Any]) -> BranchRecord:
    """A branch's line in a bulletin, with the gaps its counts show (N4)."""
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
    if r.get("unpublished"):
        gaps.append(f"已审定未公开 {r['unpublished']} 份")
    if r.get("drafted_late"):
        gaps.append(f"定诺逾期 {r['drafted_late']} 份")
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
        approved_unpublished=r.get("unpublished", 0),
        drafted_late=r.get("drafted_late", 0),
        gaps=tuple(gaps),
        secretary_work=tuple(r.get("secretary_work", ())),
        activities=tuple(r.get("activities", ())),
        publicity=tuple(r.get("publicity", ())),
    )


class Bulletin(Aggregate):
    def blank(self) -> None:
        self.issued = False

    def issue(
        self,
        *,
        bulletin_id: str,
        township_id: str,
        county_id: str,
        period: str,
        regular: bool,
        title: str,
        issued_on: date,
        note: str,
        branches: tuple[BranchRecord, ...],
        guidance: tuple[CadreGuidance, ...] = (),
        publicity: tuple[str, ...] = (),
    ) -> bool:
        """A bulletin is issued once per stream (a month's regular one stays unique)."""
        if self.issued:
            return False
        self._record(
            BulletinIssued(
                bulletin_id=bulletin_id,
                township_id=township_id,
                county_id=county_id,
                period=period,
                regular=regular,
                title=title,
                issued_on=issued_on,
                note=note,
                branches=branches,
                guidance=guidance,
                publicity=publicity,
            )
        )
        return True

    def apply(self, event: DomainEvent) -> None:
        match event:
            case BulletinIssued():
                self.issued = True
