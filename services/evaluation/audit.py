"""E3, the auditor's check: every counted ballot came from a distinct registered rater.

Read from the participation and ballot records the projection derives from the events in log
order (so a rebuild from the log, forged records included, gives the same answer), without
linking any ballot to anyone: per subject, the participations of distinct raters registered
before they took part are compared with the ballots that grade it. Every problem is named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg

from services.evaluation import queries as q


def problem(kind: str, detail: str, rater_id: str | None, subject_id: str) -> dict[str, Any]:
    return {"problem": kind, "rater_id": rater_id, "subject_id": subject_id, "detail": detail}


def findings(
    participations: Iterable[Mapping[str, Any]], ballots: Mapping[str, int], subjects: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per subject, participations by distinct registered raters and ballots; the problems),
    from participation rows (rater_id, subject_id, registered) and ballots per subject."""
    found: list[dict[str, Any]] = []
    times: Counter[tuple[str, str]] = Counter()
    valid: set[tuple[str, str]] = set()
    for p in participations:
        key = (p["rater_id"], p["subject_id"])
        times[key] += 1
        if p["registered"]:
            valid.add(key)
        else:
            found.append(problem("unregistered_rater", "took part unregistered", *key))
    for (rater_id, subject_id), n in sorted(times.items()):
        if n > 1:
            found.append(
                problem("repeated_participation", f"took part {n} times", rater_id, subject_id)
            )
    distinct = Counter(subject_id for _, subject_id in valid)
    others = sorted(({s for _, s in times} | set(ballots)) - set(subjects))
    counts = []
    for subject_id in [*subjects, *others]:
        row = {
            "subject_id": subject_id,
            "participations": distinct[subject_id],
            "ballots": ballots.get(subject_id, 0),
        }
        counts.append(row)
        if subject_id in others:
            found.append(problem("not_a_subject", "is not a subject here", None, subject_id))
        if row["participations"] != row["ballots"]:
            detail = f"{row['ballots']} ballots, {row['participations']} distinct registered raters"
            found.append(problem("ballots_differ", detail, None, subject_id))
    return counts, found


async def round_audit(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any]:
    found = await q.round_row(conn, round_id=round_id)
    participations = await conn.fetch(
        "SELECT rater_id, subject_id, registered FROM round_participations WHERE round_id = $1"
        " ORDER BY rater_id, subject_id",
        round_id,
    )
    ballots = await conn.fetch(
        "SELECT subject_id, sum(n)::int AS n FROM round_tally WHERE round_id = $1 GROUP BY 1",
        round_id,
    )
    subjects, problems = findings(
        participations,
        {b["subject_id"]: b["n"] for b in ballots},
        [s["subject_id"] for s in found["subjects"]],
    )
    raters = await conn.fetchrow(
        "SELECT count(*) AS registered, count(*) FILTER (WHERE voted) AS voted"
        " FROM round_raters WHERE round_id = $1",
        round_id,
    )
    tokens = await conn.fetchval(
        "SELECT count(*) FROM round_ballot_tokens WHERE round_id = $1", round_id
    )
    return {
        "round_id": round_id,
        "registered_raters": raters["registered"],
        "raters_who_voted": raters["voted"],
        "ballots": tokens,
        "subjects": subjects,
        "problems": problems,
        "consistent": not problems,
    }


async def check_audit(conn: asyncpg.Connection, *, check_id: str) -> dict[str, Any]:
    """The same for a satisfaction check (E8): its one subject is the pledge item."""
    found = await q.check(conn, check_id=check_id)
    item = found["item_id"]
    participations = await conn.fetch(
        "SELECT rater_id, $2::text AS subject_id, registered FROM check_participations"
        " WHERE check_id = $1 ORDER BY rater_id",
        check_id,
        item,
    )
    ballots = await conn.fetchval(
        "SELECT coalesce(sum(n), 0)::int FROM check_tally WHERE check_id = $1", check_id
    )
    [subject], problems = findings(participations, {item: ballots}, [item])
    return {
        "check_id": check_id,
        "registered_raters": found["registered"],
        "raters_who_voted": found["voted"],
        "participations": subject["participations"],
        "ballots": ballots,
        "problems": problems,
        "consistent": not problems,
    }
