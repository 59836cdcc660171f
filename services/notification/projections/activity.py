"""Projects the review and evaluation services' events into the board (N1, N2) and the
releases feed (X2), and the branches' responsible leaders the reminders chase (N3, R1). Only
the contract's public fields are kept (contracts.py)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.notification import contracts as k
from services.notification.projections.board import release
from shared.envelope import EventEnvelope


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def review_recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    r = k.ReviewRecorded.model_validate(d)
    await conn.execute(
        "INSERT INTO board_reviews (review_id, township_id, branch_id, subject_kind, subject_id,"
        " subject_name, reviewer_name, occasion, quarter, held_on)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        r.review_id,
        r.township_id,
        r.branch_id,
        r.subject_kind,
        r.subject_id,
        r.subject_name,
        r.reviewer_name,
        r.occasion,
        r.quarter,
        r.held_on,
    )
    await release(conn, e, "review", r.township_id, r.subject_name, r.model_dump(mode="json"))


async def review_corrected(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    c = k.ReviewCorrected.model_validate(d)
    await conn.execute(
        "UPDATE board_reviews SET corrected_by = $2 WHERE review_id = $1",
        c.corrects_review_id,
        c.review_id,
    )
    if "township_id" in d and "subject_kind" in d:
        await review_recorded(conn, e, d)


async def journal_entry_recorded(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    j = k.JournalEntryRecorded.model_validate(d)
    await conn.execute(
        "INSERT INTO board_journals VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        j.entry_id,
        j.township_id,
        j.branch_id,
        j.member_id,
        j.month,
    )


async def monthly_presentation_evaluated(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    p = k.MonthlyPresentationEvaluated.model_validate(d)
    await conn.execute(
        "INSERT INTO board_presentations VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (member_id, month) DO UPDATE SET evaluation = EXCLUDED.evaluation",
        p.member_id,
        p.month,
        p.township_id,
        p.branch_id,
        p.evaluation,
    )


async def guidance_visit_recorded(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    v = k.GuidanceVisitRecorded.model_validate(d)
    await conn.execute(
        "INSERT INTO board_visits VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        v.visit_id,
        v.township_id,
        v.branch_id,
        v.cadre_name,
        v.visited_on,
        v.summary,
        v.cadre_id,
    )
    await release(conn, e, "guidance_visit", v.township_id, v.cadre_name, v.model_dump(mode="json"))


async def leader_assigned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """R1: whom the office assigned to the branch, for the reminders (N3); not a release."""
    a = k.LeaderAssigned.model_validate(d)
    await conn.execute(
        "INSERT INTO branch_leaders VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        a.branch_id,
        a.leader_id,
        a.township_id,
    )


async def leader_unassigned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    u = k.LeaderUnassigned.model_validate(d)
    await conn.execute(
        "DELETE FROM branch_leaders WHERE branch_id = $1 AND leader_id = $2",
        u.branch_id,
        u.leader_id,
    )


async def evaluation_calendar_set(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    """E4: the rounds' closing dates are the evaluation service's; the reminders follow them."""
    c = k.EvaluationCalendarSet.model_validate(d)
    await conn.execute(
        "INSERT INTO evaluation_calendars VALUES ($1, $2, $3, $4) ON CONFLICT (county_id, year)"
        " DO UPDATE SET first_round_closes = EXCLUDED.first_round_closes,"
        " second_round_closes = EXCLUDED.second_round_closes",
        c.county_id,
        c.year,
        c.first_round_closes,
        c.second_round_closes,
    )


async def round_results_published(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    r = k.RoundResultsPublished.model_validate(d)
    results = [x.model_dump(mode="json") for x in r.results]
    await conn.execute(
        "INSERT INTO board_rounds VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        r.round_id,
        r.township_id,
        r.title,
        r.published_on,
        _json(results),
    )
    await release(conn, e, "round_results", r.township_id, r.title, r.model_dump(mode="json"))


async def rating_results_published(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    r = k.RatingResultsPublished.model_validate(d)
    await conn.execute(
        "INSERT INTO board_ratings VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        r.rating_id,
        r.township_id,
        r.branch_id,
        r.period,
        r.level,
        r.published_on,
        _json([x.model_dump(mode="json") for x in r.results]),
    )
    await release(conn, e, "rating_results", r.township_id, r.period, r.model_dump(mode="json"))


async def commendation_issued(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    c = k.CommendationIssued.model_validate(d)
    if c.level == "county":  # its township_id is the county's: no township's board shows it
        return
    await conn.execute(
        "INSERT INTO board_commendations VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT DO NOTHING",
        c.selection_id,
        c.township_id,
        c.year,
        c.title,
        c.issued_on,
        _json([a.model_dump(mode="json") for a in c.awardees]),
        c.level,
    )
    await release(conn, e, "commendation", c.township_id, c.title, c.model_dump(mode="json"))
