"""Logs against the running evaluation service (issue 21): registering a public rater with a
name and a phone, and casting a ballot, leave one line per request naming the route's
template, the status, the correlation id the response carried and the actor; no name,
phone, grade or token, whether sent in the body, the query or the Authorization header.
(tests/unit/test_logs.py holds the same to an app of its own, with errors and failures.)"""

from __future__ import annotations

import io
import json
from typing import Any

from shared.logging import configure_logging
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation, round_of_members
from tests.e2e.helpers import Directory, ok
from tests.support import Servers

NAME, PHONE, GRADE = "王小明", "13812345678", "dissatisfied"


async def test_a_rater_registration_and_a_ballot_log_no_person_and_no_grade(
    servers: Servers,
) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        path = await round_of_members(evaluation, d)
        buffer = io.StringIO()
        configure_logging(json=True, level="INFO", file=buffer)
        try:
            query = {"name": NAME, "phone": PHONE, "grade": GRADE}
            public = {"kind": "public", "name": NAME, "phone": PHONE}
            registered = await e.post(
                f"{path}/raters", json={"raters": [public]}, params=query, headers=d.office
            )
            ok(registered, 201)
            vote = {"grades": {d.branch: GRADE}}
            cast = await e.post(f"{path}/ballots", json=vote, params=query, headers=d.the_member)
            ok(cast, 201)
            again = await e.post(f"{path}/ballots", json=vote, params=query, headers=d.the_member)
            assert again.status_code == 409, again.text
            read = await e.get(f"{path}/raters", params=query, headers=d.office)
            ok(read)
            assert NAME in read.text  # the organiser sees the name; the log does not
        finally:
            configure_logging(json=False, level="WARNING")
    lines: list[dict[str, Any]] = [json.loads(line) for line in buffer.getvalue().splitlines()]
    requests = [line for line in lines if line["event"] == "request"]
    seen = [(r["method"], r["route"], r["status"]) for r in requests]
    assert seen == [
        ("POST", "/v1/rounds/{round_id}/raters", 201),
        ("POST", "/v1/rounds/{round_id}/ballots", 201),
        ("POST", "/v1/rounds/{round_id}/ballots", 409),
        ("GET", "/v1/rounds/{round_id}/raters", 200),
    ]
    responses = (registered, cast, again, read)
    for line, response in zip(requests, responses, strict=True):
        assert line["correlation_id"] == response.headers["x-correlation-id"]
        assert line["service"] == "evaluation"
    office = f"township_office-{d.township}"  # the subject of the office's token
    assert [r["actor"] for r in requests] == [office, d.member, d.member, office]
    text = buffer.getvalue()
    tokens = [h["Authorization"].partition(" ")[2] for h in (d.office, d.the_member)]
    for value in (NAME, PHONE, GRADE, json.dumps(NAME).strip('"'), "Bearer", *tokens):
        assert value not in text, value
