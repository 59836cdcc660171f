"""N3 with R1 and E2: who is chased for a quarter's missing reviews and a half's missing
evaluation rounds, read from the notification service's own read models (its directory copy
and the reviews and round results it has seen)."""

from __future__ import annotations

import json
from datetime import date

import asyncpg

from services.notification.events import Deadline, DeadlineKind
from services.notification.projections import READ_MODELS
from services.notification.queries import compile_township, unfinished, unreviewed
from shared.database import READ_SCHEMA
from tests.support import Servers, fresh_log_database

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


async def read_models(servers: Servers, *rows: str) -> asyncpg.Pool:
    pool, _ = await fresh_log_database(servers)
    await READ_MODELS.rebuild(pool)
    for statement in (*DIRECTORY, *rows):
        await pool.execute(statement.replace("INTO ", f"INTO {READ_SCHEMA}.", 1))
    return pool


async def test_each_missing_review_is_chased_at_its_reviewer(servers: Servers) -> None:
    pool = await read_models(servers)
    try:
        chased = sorted(await unreviewed(pool, "t1", "2027Q1"))
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


def round_of(round_id: str, published_on: str, *subjects: tuple[str, str, str | None]) -> str:
    results = [
        {"subject_kind": kind, "subject_id": subject, "branch_id": branch}
        for kind, subject, branch in subjects
    ]
    return (
        f"INSERT INTO board_rounds VALUES ('{round_id}', 't1', '评议', '{published_on}',"
        f" '{json.dumps(results)}')"
    )


H1 = Deadline(
    deadline_id="evaluation_round-2027H1",
    kind=DeadlineKind.EVALUATION_ROUND,
    title="上半年群众评议",
    due_on=date(2027, 7, 10),
    remind_days_before=10,
    period="2027H1",
)


async def test_each_missing_evaluation_round_is_chased_at_its_organiser(servers: Servers) -> None:
    nothing_yet = await read_models(servers)
    # the branches' round and the organ branch's members' round held this half; the
    # village branch's members' round only last year
    some = await read_models(
        servers,
        round_of("r-t", "2027-06-20", ("branch", "organ", None), ("branch", "village", None)),
        round_of("r-o", "2027-06-25", ("member", "m1", "organ"), ("member", "sec-o", "organ")),
        round_of("r-v", "2026-12-20", ("member", "m2", "village")),
    )
    try:
        before = sorted(await unfinished(nothing_yet, H1, "t1", date(2027, 7, 11)))
        after = sorted(await unfinished(some, H1, "t1", date(2027, 7, 11)))
    finally:
        await nothing_yet.close()
        await some.close()
    assert before == sorted(
        [
            ("township_office:t1", "上半年群众评议"),  # the branches' round
            ("sec-o", "镇机关支部"),  # each branch's members' round, at its secretary
            ("township_office:t1", "红沙梁村支部"),  # no secretary: the office
        ]
    )
    assert after == [("township_office:t1", "红沙梁村支部")]


def pledge_of(pledge_id: str, branch: str, member: str | None, name: str, status: str) -> str:
    who = "NULL" if member is None else f"'{member}'"
    return (
        "INSERT INTO board_pledges (pledge_id, year, pledger_kind, branch_id, member_id,"
        f" pledger_name, township_id, county_id, standard, status) VALUES ('{pledge_id}', 2027,"
        f" '{'branch' if member is None else 'member'}', '{branch}', {who}, '{name}', 't1',"
        f" 'c1', 'five_good', '{status}')"
    )


async def test_each_approved_pledge_not_yet_published_is_chased_at_its_publisher(
    servers: Servers,
) -> None:
    """P7: every approved pledge is published, by the branch secretary (the office while a
    branch has none); a pledge published, or not approved yet, is not chased for it."""
    publication = Deadline(
        deadline_id="publication-2027",
        kind=DeadlineKind.PUBLICATION,
        title="2027年已审定承诺公开（亮诺）",
        due_on=date(2027, 3, 31),
        remind_days_before=7,
        period="2027",
    )
    pool = await read_models(
        servers,
        pledge_of("p-o", "organ", None, "镇机关支部", "published"),
        pledge_of("p-m1", "organ", "m1", "张党员", "approved"),
        pledge_of("p-so", "organ", "sec-o", "李支书", "proposed"),
        pledge_of("p-v", "village", None, "红沙梁村支部", "approved"),
    )
    try:
        chased = sorted(await unfinished(pool, publication, "t1", date(2027, 3, 25)))
    finally:
        await pool.close()
    assert chased == [("sec-o", "张党员"), ("township_office:t1", "红沙梁村支部")]


async def test_the_quarterly_push_and_the_monthly_journal_meeting_are_chased(
    servers: Servers,
) -> None:
    """P11: the township office, for each published pledge not pushed in the quarter; R6: each
    branch's secretary (the office while there is none), for each current member whose
    journal was not presented that month."""
    push = Deadline(
        deadline_id="quarterly_push-2027Q1",
        kind=DeadlineKind.QUARTERLY_PUSH,
        title="2027年第一季度公开承诺推进",
        due_on=date(2027, 3, 31),
        remind_days_before=7,
        period="2027Q1",
    )
    meeting = Deadline(
        deadline_id="journal_meeting-2027-03",
        kind=DeadlineKind.JOURNAL_MEETING,
        title="2027年3月党员纪实讲评",
        due_on=date(2027, 3, 31),
        remind_days_before=5,
        period="2027-03",
    )
    pool = await read_models(
        servers,
        pledge_of("p-o", "organ", None, "镇机关支部", "published"),
        pledge_of("p-m1", "organ", "m1", "张党员", "published"),
        pledge_of("p-v", "village", None, "红沙梁村支部", "approved"),  # not published yet
        "INSERT INTO board_pushes VALUES ('p-o', '2027Q1')",
        "INSERT INTO board_pushes VALUES ('p-m1', '2026Q4')",
        "INSERT INTO board_presentations VALUES ('m1', '2027-03', 't1', 'organ', '好')",
        "INSERT INTO board_presentations VALUES ('m2', '2027-02', 't1', 'village', '好')",
    )
    try:
        pushes = sorted(await unfinished(pool, push, "t1", date(2027, 3, 28)))
        meetings = sorted(await unfinished(pool, meeting, "t1", date(2027, 3, 28)))
    finally:
        await pool.close()
    assert pushes == [("township_office:t1", "张党员")]
    assert meetings == [
        ("sec-o", "李支书"),
        ("sec-o", "王书记"),
        ("township_office:t1", "赵党员"),
    ]


async def test_a_bulletin_lists_each_leading_cadres_guidance_n4(servers: Servers) -> None:
    """Per cadre: which branch they visited in the period and how often (two cadres of one
    name are told apart by id; a visit recorded before ids, by name)."""
    visit = "INSERT INTO board_visits VALUES ('{}', 't1', '{}', '{}', '{}', '指导', {})"
    pool = await read_models(
        servers,
        visit.format("v1", "village", "王镇长", "2027-03-02", "'k-wang'"),
        visit.format("v2", "village", "王镇长", "2027-03-20", "'k-wang'"),
        visit.format("v3", "organ", "王镇长", "2027-03-21", "'k-wang'"),
        visit.format("v4", "village", "王镇长", "2027-03-22", "'k-wang-2'"),  # another 王
        visit.format("v5", "organ", "李部长", "2027-03-05", "NULL"),
        visit.format("v6", "organ", "李部长", "2027-02-05", "NULL"),  # not in March
    )
    try:
        guidance, _ = await compile_township(pool, "t1", "2027-03", date(2027, 4, 1))
    finally:
        await pool.close()
    assert sorted((g.cadre, g.branch_name, g.visits) for g in guidance) == [
        ("李部长", "镇机关支部", 1),
        ("王镇长", "红沙梁村支部", 1),
        ("王镇长", "红沙梁村支部", 2),
        ("王镇长", "镇机关支部", 1),
    ]
