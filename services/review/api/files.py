"""Evidence files of reviews, journal entries and guidance visits (issue 19): upload, then
attach by hash; served to whoever may see a record they are attached to (access.py)."""

from __future__ import annotations

from typing import Any

from services.review import queries as q
from services.review.access import sees_file_of
from services.review.events import SubjectKind
from shared.auth import Principal
from shared.directory import counties_of
from shared.files_api import file_router


async def may_see(conn: Any, who: Principal, sha256: str) -> bool:
    if await q.uploaded_by(conn, sha256, who.subject):
        return True
    for use in await q.file_uses(conn, sha256):
        member = None
        if use["member_id"] is not None:
            member = await q.copies(conn).find_subject(SubjectKind.MEMBER, use["member_id"])
        counties = await counties_of(conn, use["township_id"]) if use["township_id"] else set()
        if sees_file_of(who, use, member, counties):
            return True
    return False


router = file_router(may_see)
