"""Reads of the annual selection's read models: the selection and its commendations, and the
composite score's inputs (S2), read from this service's read models, which are built
from events: its own ratings (E6) and round results (E5), and its copies of the pledge
service's and the review service's events. Each input names the records it came from, so a
candidate's score can be recomputed from exactly those records later (`recompute`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import asyncpg

from services.evaluation.selection.aggregates import (
    ReviewRecord,
    composite,
    period_end,
    pledge_year,
    reviews_value,
    within,
)
from services.evaluation.selection.events import Formula, Input, ReviewsRule, Source, Window
from shared.errors import NotFound


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


async def _ratings(
    conn: asyncpg.Connection, subject_id: str, where: str, *args: Any, window: Window | None = None
) -> Input:
    rows = await conn.fetch(
        "SELECT r.rating_id, r.period, (x->>'score')::float AS score FROM ratings r,"
        f" jsonb_array_elements(r.results) x WHERE x->>'subject_id' = $1 AND {where}"
        " ORDER BY r.rating_id",
        subject_id,
        *args,
    )
    if window is not None:
        rows = [r for r in rows if within(window, period_end(r["period"]))]
    return Input(
        source=Source.RATINGS,
        value=_mean([r["score"] for r in rows]),
        evidence=tuple(r["rating_id"] for r in rows),
    )


async def _evaluation(conn: asyncpg.Connection, subject_id: str, where: str, *args: Any) -> Input:
    rows = await conn.fetch(
        "SELECT p.round_id, x AS result FROM round_publications p JOIN rounds r USING (round_id),"
        f" jsonb_array_elements(p.results) x WHERE x->>'subject_id' = $1 AND {where}"
        " ORDER BY p.round_id",
        subject_id,
        *args,
    )
    counted = [(r["round_id"], json.loads(r["result"])) for r in rows]
    counted = [(i, x) for i, x in counted if sum(x["counts"].values()) > 0]  # rated by someone
    return Input(
        source=Source.EVALUATION,
        value=_mean([x["score"] for _, x in counted]),
        evidence=tuple(i for i, _ in counted),
    )


async def _pledges(conn: asyncpg.Connection, pledge_id: str | None, closed: list[str]) -> Input:
    row = None
    if pledge_id is not None:
        row = await conn.fetchrow(
            "SELECT item_ids FROM pledge_copy WHERE pledge_id = $1 AND item_ids IS NOT NULL",
            pledge_id,
        )
    if row is None:
        return Input(source=Source.PLEDGES, value=None, evidence=())
    items = json.loads(row["item_ids"])
    found = await conn.fetch(
        "SELECT item_id FROM pledge_items_closed WHERE pledge_id = $1 AND item_id = ANY($2::text[])"
        " ORDER BY item_id",
        pledge_id,
        closed,
    )
    ids = [r["item_id"] for r in found]
    value = round(100 * len(ids) / len(items), 2) if items else None
    return Input(source=Source.PLEDGES, value=value, evidence=(str(pledge_id), *ids))


async def _reviews(
    conn: asyncpg.Connection,
    rule: ReviewsRule,
    where: str,
    subject_id: str,
    *args: Any,
    window: Window | None = None,
) -> Input:
    rows = await conn.fetch(
        "SELECT review_id, quarter, held_on, grades FROM review_copy"
        f" WHERE subject_id = $1 AND {where} ORDER BY review_id",
        subject_id,
        *args,
    )
    if window is not None:  # a review counts by the day it was held
        rows = [r for r in rows if within(window, r["held_on"])]
    reviews = [
        ReviewRecord(r["review_id"], r["quarter"], tuple(json.loads(r["grades"]).values()))
        for r in rows
    ]
    return Input(
        source=Source.REVIEWS,
        value=reviews_value(rule, reviews),
        evidence=tuple(r.review_id for r in reviews),
    )


async def _calendar_year(
    conn: asyncpg.Connection, subject_id: str, year: int, formula: Formula
) -> tuple[Input, ...]:
    """A formula declared before windows (schema 2) reads the selection's year, exactly as it
    did: the ratings of its periods, its rounds, its pledge, its quarters' reviews."""
    pledge = await conn.fetchrow(
        "SELECT pledge_id FROM pledge_copy WHERE subject_id = $1 AND year = $2", subject_id, year
    )
    pledge_id = pledge["pledge_id"] if pledge else None
    closed = await conn.fetch(
        "SELECT item_id FROM pledge_items_closed WHERE pledge_id = $1", pledge_id
    )
    return (
        await _ratings(conn, subject_id, "r.period LIKE $2::text || '-%'", str(year)),
        await _evaluation(conn, subject_id, "r.year = $2", year),
        await _pledges(conn, pledge_id, [r["item_id"] for r in closed]),
        await _reviews(
            conn,
            formula.reviews,
            "quarter LIKE $2::text || 'Q%' AND NOT superseded",
            subject_id,
            str(year),
        ),
    )


async def inputs_for(
    conn: asyncpg.Connection, subject_id: str, year: int, formula: Formula
) -> tuple[Input, ...]:
    """What the records say about the subject now, as the formula reads them: those of its
    data window (S2), each counted when the period it covers ends within the window."""
    window = formula.window
    if window is None:
        return await _calendar_year(conn, subject_id, year, formula)
    pledge_id = None
    closed: list[str] = []
    if (pledged := pledge_year(window)) is not None:
        pledge_id = await conn.fetchval(
            "SELECT pledge_id FROM pledge_copy WHERE subject_id = $1 AND year = $2",
            subject_id,
            pledged,
        )
        rows = await conn.fetch(
            "SELECT item_id FROM pledge_items_closed"
            " WHERE pledge_id = $1 AND closed_at < $2::date + 1",
            pledge_id,
            window.ends_on,
        )
        closed = [r["item_id"] for r in rows]
    return (
        await _ratings(conn, subject_id, "true", window=window),
        await _evaluation(
            conn, subject_id, "p.published_on BETWEEN $2 AND $3", window.starts_on, window.ends_on
        ),
        await _pledges(conn, pledge_id, closed),
        await _reviews(conn, formula.reviews, "NOT superseded", subject_id, window=window),
    )


async def township_winners(
    conn: asyncpg.Connection, county_id: str, year: int, kind: str
) -> dict[str, Mapping[str, Any]]:
    """S1 at the county: the awardees of the year's township selections of the county, by
    subject: what the county selects from (a branch's own selection does not count)."""
    rows = await conn.fetch(
        "SELECT c.township_id, a->>'subject_id' AS subject_id, a->>'subject_name' AS"
        " subject_name, a->>'branch_id' AS branch_id FROM commendations c"
        " JOIN dir_townships t USING (township_id), jsonb_array_elements(c.awardees) a"
        " WHERE t.county_id = $1 AND c.year = $2 AND c.level = 'township'"
        " AND a->>'subject_kind' = $3 ORDER BY c.township_id, subject_id",
        county_id,
        year,
        kind,
    )
    return {r["subject_id"]: dict(r) for r in rows}


class Inputs(Protocol):
    """What the selection's handlers read: a candidate's inputs as `inputs_for` reads them,
    the county's townships, and the townships' winners a county selects from."""

    async def inputs_for(
        self, subject_id: str, year: int, formula: Formula
    ) -> tuple[Input, ...]: ...

    async def county_townships(self, county_id: str) -> list[str]: ...

    async def township_winners(
        self, county_id: str, year: int, kind: str
    ) -> dict[str, Mapping[str, Any]]: ...


class PostgresInputs:
    """`Inputs` on the command's transaction: `inputs_for`, as it was."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def inputs_for(self, subject_id: str, year: int, formula: Formula) -> tuple[Input, ...]:
        return await inputs_for(self.conn, subject_id, year, formula)

    async def county_townships(self, county_id: str) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT township_id FROM dir_townships WHERE county_id = $1 ORDER BY township_id",
            county_id,
        )
        return [r["township_id"] for r in rows]

    async def township_winners(
        self, county_id: str, year: int, kind: str
    ) -> dict[str, Mapping[str, Any]]:
        return await township_winners(self.conn, county_id, year, kind)


def inputs(conn: asyncpg.Connection) -> Inputs:
    """The inputs on the command's transaction: `uow.port(queries.inputs)`."""
    return PostgresInputs(conn)


async def recompute(
    conn: asyncpg.Connection, subject_id: str, recorded: tuple[Input, ...], formula: Formula
) -> tuple[Input, ...]:
    """The inputs again, from exactly the records each recorded input names, read as the
    formula the stage was scored with reads them."""
    out = []
    for given in recorded:
        ids = list(given.evidence)
        if given.source is Source.RATINGS:
            out.append(await _ratings(conn, subject_id, "r.rating_id = ANY($2::text[])", ids))
        elif given.source is Source.EVALUATION:
            out.append(await _evaluation(conn, subject_id, "p.round_id = ANY($2::text[])", ids))
        elif given.source is Source.PLEDGES:
            out.append(await _pledges(conn, ids[0] if ids else None, ids[1:]))
        else:
            where = "review_id = ANY($2::text[])"
            out.append(await _reviews(conn, formula.reviews, where, subject_id, ids))
    return tuple(out)


async def recomputation(conn: asyncpg.Connection, selection_id: str, stage: int) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT s.candidates, f.formula FROM selection_stages s JOIN selection_formulas f"
        " ON f.selection_id = s.selection_id AND f.version = s.formula_version"
        " WHERE s.selection_id = $1 AND s.stage = $2",
        selection_id,
        stage,
    )
    if row is None:
        raise NotFound("没有这一轮：请核对后再试。", selection_id=selection_id, stage=stage)
    formula = Formula.model_validate_json(row["formula"])
    candidates = []
    for scored in json.loads(row["candidates"]):
        recorded = tuple(Input.model_validate(i) for i in scored["inputs"])
        again = await recompute(conn, scored["subject_id"], recorded, formula)
        score = composite(formula, again)
        candidates.append(
            {
                "subject_id": scored["subject_id"],
                "recorded": scored["composite"],
                "recomputed": score,
                "inputs_match": again == recorded,
            }
        )
    return {
        "selection_id": selection_id,
        "stage": stage,
        "formula_version": formula.version,
        "candidates": candidates,
        "matches": all(c["inputs_match"] and c["recorded"] == c["recomputed"] for c in candidates),
    }


async def selection(conn: asyncpg.Connection, *, selection_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM selections WHERE selection_id = $1", selection_id)
    if row is None:
        raise NotFound("没有找到该评选：请核对后再试。", selection_id=selection_id)
    out = {**dict(row), "finalists": json.loads(row["finalists"] or "[]")}
    formula = await conn.fetchval(
        "SELECT formula FROM selection_formulas WHERE selection_id = $1 AND version = $2",
        selection_id,
        row["formula_version"],
    )
    out["formula"] = json.loads(formula) if formula else None
    candidates = await conn.fetch(
        "SELECT subject_id, subject_name, branch_id, nominated_by, reason"
        " FROM selection_candidates WHERE selection_id = $1 ORDER BY subject_id",
        selection_id,
    )
    out["candidates"] = [dict(c) for c in candidates]
    stages = await conn.fetch(
        "SELECT stage, formula_version, scored_on, candidates, decided_by, decided_on, decisions"
        " FROM selection_stages WHERE selection_id = $1 ORDER BY stage",
        selection_id,
    )
    out["stages"] = [
        {
            **dict(s),
            "candidates": json.loads(s["candidates"]),
            "decisions": json.loads(s["decisions"]),
        }
        for s in stages
    ]
    objections = await conn.fetch(
        "SELECT o.objection_id, o.subject_id, o.summary, o.answer, o.upheld, o.in_person,"
        " o.township_id, t.name AS township_name FROM selection_objections o"
        " LEFT JOIN dir_townships t USING (township_id)"
        " WHERE o.selection_id = $1 ORDER BY o.objection_id",
        selection_id,
    )
    out["objections"] = [dict(o) for o in objections]
    return out


async def selections(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    organisation_id: str | None,
    year: int | None,
    limit: int,
    offset: int,
    county_id: str | None = None,
    level: str | None = None,
) -> dict[str, Any]:
    """The selections of a township (every level it holds or is in), an organisation, or the
    townships of a county (`county_id`: those held in its townships, not the county's own),
    of a level if given, newest year first; public like each selection (三公开)."""
    where = (
        "($1::text IS NULL OR township_id = $1) AND ($2::text IS NULL OR organisation_id = $2)"
        " AND ($3::int IS NULL OR year = $3) AND ($4::text IS NULL OR township_id IN"
        " (SELECT township_id FROM dir_townships WHERE county_id = $4))"
        " AND ($5::text IS NULL OR level = $5)"
    )
    args = (township_id, organisation_id, year, county_id, level)
    total = await conn.fetchval(f"SELECT count(*) FROM selections WHERE {where}", *args)
    rows = await conn.fetch(
        "SELECT selection_id, level, organisation_id, township_id, year, title, subject_kind,"
        " commendation_on, stages_scored, posted_on, notice_until, issued_on"
        f" FROM selections WHERE {where} ORDER BY year DESC, selection_id LIMIT $6 OFFSET $7",
        *args,
        limit,
        offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [dict(r) for r in rows]}


async def commendations(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    county_id: str | None = None,
    year: int | None = None,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM commendations WHERE ($1::text IS NULL OR township_id = $1)"
        " AND ($2::text IS NULL OR township_id = $2 OR township_id IN"
        " (SELECT township_id FROM dir_townships WHERE county_id = $2))"
        " AND ($3::int IS NULL OR year = $3) ORDER BY year, selection_id",
        township_id,
        county_id,
        year,
    )
    return [{**dict(r), "awardees": json.loads(r["awardees"])} for r in rows]
