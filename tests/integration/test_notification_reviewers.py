"""N3 with R1: who is chased for a quarter's missing reviews, read from the notification
service's own read models (its directory copy and the reviews it has seen)."""

from __future__ import annotations

from services.notification.projections import READ_MODELS
from services.notification.responsible import unreviewed
from shared.database import READ_SCHEMA
from shared.testing import Servers, fresh_log_database

# the read models as the directory copy leaves them: a township whose head sits on the
# leadership team of the township's own organ branch, and a village branch
DIRECTORY = [
    "INSERT INTO dir_townships VALUES ('t1', 'c1', '红沙梁镇', 'head', '王书记')",
    "INSERT INTO dir_branches VALUES ('organ', 't1', 'c1', '镇机关支部', 'organ', 'sec-o', true)",
    "INSERT INTO dir_branches VALUES ('village', 't1', 'c1', '红沙梁村支部', 'village', NULL,"
    " true)",
    "INSERT INTO dir_members VALUES ('head', 'organ', 't1', '王书记', '镇党委书记', true, true)",
    "INSERT INTO dir_members VALUES ('sec-o', 'organ', 't1', '李支书', '支部书记', true, true)",
    "INSERT INTO dir_members VALUES ('m1', 'organ', 't1', '张党员', '党员', false, true)",
    "INSERT INTO dir_members VALUES ('m2', 'village', 't1', '赵党员', '党员', false, true)",
]


async def test_each_missing_review_is_chased_at_its_reviewer(servers: Servers) -> None:
    pool, _ = await fresh_log_database(servers)
    try:
        await READ_MODELS.rebuild(pool)
        async with pool.acquire() as conn:
            await conn.execute(f"SET search_path = {READ_SCHEMA}, public")
            for statement in DIRECTORY:
                await conn.execute(statement)
            chased = sorted(await unreviewed(conn, "t1", "2027Q1"))
    finally:
        await pool.close()
    assert chased == sorted(
        [
            ("head", "镇机关支部"),  # branches and leadership teams: the township's head
            ("head", "红沙梁村支部"),
            ("head", "李支书"),
            ("township_committee:t1", "王书记"),  # the head themself: the committee
            ("sec-o", "张党员"),  # other members: their branch's secretary
            ("township_office:t1", "赵党员"),  # no secretary: the office that appoints one
        ]
    )
