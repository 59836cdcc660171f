"""Projects the evaluation service's events, and the pledge directory events it consumes,
into its read models (`read_models.sql` + the shared directory copy).

Everything written comes from the event, never from now(), so a rebuild gives the same rows.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import asyncpg

from services.evaluation import projections_selection as selection
from services.evaluation.events import REGISTRY
from shared.directory import DIRECTORY_DDL
from shared.envelope import EventEnvelope
from shared.personal import ERASED, mask_id_number, mask_phone, unseal
from shared.projections import Projection, ReadModels

DDL = resources.files("services.evaluation").joinpath("read_models.sql").read_text("utf-8")

project = Projection("evaluation", directory=True)
on = project.on
project.add(selection.OWN)
for (source, event_type), step in selection.FOREIGN.items():  # what the selection scores from
    project.on(event_type, source)(step)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@on("EvaluationCalendarSet")
async def _calendar(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO calendars VALUES ($1, $2, $3::text::date, $4::text::date)"
        " ON CONFLICT (county_id, year) DO UPDATE SET"
        " first_round_closes = EXCLUDED.first_round_closes,"
        " second_round_closes = EXCLUDED.second_round_closes",
        d["county_id"],
        d["year"],
        d["first_round_closes"],
        d["second_round_closes"],
    )


@on("RoundOpened")
async def _round(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO rounds VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10::text::date, $11::text::date, 'open', NULL, $12)",
        d["round_id"],
        d["township_id"],
        d["organiser_kind"],
        d["organiser_id"],
        d["title"],
        d["year"],
        d["half"],
        _json(d["content"]),
        _json(d["scale"]),
        d["opens_on"],
        d["closes_on"],
        d.get("held_with"),
    )
    for index, s in enumerate(d["subjects"]):
        await conn.execute(
            "INSERT INTO round_subjects VALUES ($1, $2, $3, $4, $5, $6)",
            d["round_id"],
            s["subject_id"],
            index,
            s["subject_kind"],
            s["subject_name"],
            s["branch_id"],
        )


async def _personal(conn: asyncpg.Connection, sealed: dict[str, Any] | None) -> list[Any]:
    """name, masked phone, masked ID number, erased: from the sealed data while the person's
    key exists, else erased (a rebuild after an erasure never sees the data: A7)."""
    if sealed is None:
        return [None, None, None, False]
    fields = await unseal(conn, sealed)
    if fields is None:
        return ERASED_COLUMNS
    phone, number = fields.get("phone"), fields.get("id_number")
    return [
        fields.get("name"),
        mask_phone(phone) if phone else None,
        mask_id_number(number) if number else None,
        False,
    ]


ERASED_COLUMNS = [ERASED, None, None, True]


@on("RaterRegistered")
async def _rater(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO round_raters VALUES ($1, $2, $3, $4, $5, false, '{}', $6, $7, $8, $9)",
        d["round_id"],
        d["rater_id"],
        d["rater_kind"],
        d["organisation_id"],
        d["member_id"],
        *await _personal(conn, d.get("personal")),
    )


@on("PersonalDataErased")
async def _erased(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """Every read model that shows the person shows them erased (A7)."""
    for table in ("round_raters", "check_raters"):
        await conn.execute(
            f"UPDATE {table} SET name = $2, phone = $3, id_number = $4, erased = $5"
            " WHERE rater_id = $1 AND member_id IS NULL",
            d["person_id"],
            *ERASED_COLUMNS,
        )


@on("RaterParticipated")
async def _participated(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE round_raters SET voted = true, channels = array_append(channels, $3)"
        " WHERE round_id = $1 AND rater_id = $2",
        d["round_id"],
        d["rater_id"],
        d["channel"],
    )
    # whether the rater was registered is decided here, in log order: a participation the log
    # holds before (or without) the registration is reported by the audit (E3)
    await conn.execute(
        "INSERT INTO round_participations SELECT $1, $2, s, $3, EXISTS (SELECT FROM round_raters"
        " WHERE round_id = $1 AND rater_id = $2) FROM unnest($4::text[]) AS s",
        d["round_id"],
        d["rater_id"],
        d["channel"],
        d["subject_ids"],
    )


@on("BallotCast")
async def _ballot(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    for subject_id, grade in d["grades"].items():
        await conn.execute(
            "INSERT INTO round_tally VALUES ($1, $2, $3, 1) ON CONFLICT"
            " (round_id, subject_id, grade) DO UPDATE SET n = round_tally.n + 1",
            d["round_id"],
            subject_id,
            grade,
        )
    await conn.execute(
        "INSERT INTO round_ballot_tokens VALUES ($1, $2)", d["round_id"], d["token_hash"]
    )


@on("RoundClosed")
async def _closed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE rounds SET status = 'closed', closed_on = $2::text::date WHERE round_id = $1",
        d["round_id"],
        d["closed_on"],
    )


@on("RoundResultsPublished")
async def _published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO round_publications VALUES ($1, $2, $3, $4::text::date, $5)",
        d["round_id"],
        d["township_id"],
        d["title"],
        d["published_on"],
        _json(d["results"]),
    )


@on("SatisfactionCheckOpened")
async def _check(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO checks VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::date,"
        " $9::text::date, $10, 'open', NULL, NULL, NULL)",
        d["check_id"],
        d["pledge_id"],
        d["item_id"],
        d["township_id"],
        d["title"],
        d["summary"],
        d["threshold"],
        d["opens_on"],
        d["closes_on"],
        d["source_event_id"],
    )


@on("CheckRaterRegistered")
async def _check_rater(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO check_raters VALUES ($1, $2, $3, false, NULL, $4, $5, $6, $7)",
        d["check_id"],
        d["rater_id"],
        d["member_id"],
        *await _personal(conn, d.get("personal")),
    )


@on("CheckRaterParticipated")
async def _check_voted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE check_raters SET voted = true, channel = $3 WHERE check_id = $1 AND rater_id = $2",
        d["check_id"],
        d["rater_id"],
        d["channel"],
    )
    await conn.execute(
        "INSERT INTO check_participations SELECT $1, $2, $3, EXISTS (SELECT FROM check_raters"
        " WHERE check_id = $1 AND rater_id = $2)",
        d["check_id"],
        d["rater_id"],
        d["channel"],
    )


@on("CheckBallotCast")
async def _check_ballot(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO check_tally VALUES ($1, $2, 1) ON CONFLICT (check_id, grade)"
        " DO UPDATE SET n = check_tally.n + 1",
        d["check_id"],
        d["grade"],
    )


@on("SatisfactionVerdictReached")
async def _verdict(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE checks SET status = 'closed', verdict = $2, satisfaction_rate = $3, ballots = $4"
        " WHERE check_id = $1",
        d["check_id"],
        d["verdict"],
        d["satisfaction_rate"],
        d["ballots"],
    )


@on("RatingResultsPublished")
async def _rating(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO ratings VALUES ($1, $2, $3, $4, $5, $6::text::date, $7)",
        d["rating_id"],
        d["township_id"],
        d["branch_id"],
        d["period"],
        d["level"],
        d["published_on"],
        _json(d["results"]),
    )


READ_MODELS = ReadModels(ddl=DDL + DIRECTORY_DDL, project=project, upcast=REGISTRY.upcast)
