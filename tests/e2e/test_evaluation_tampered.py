"""Issue 21's leftover: a public rater's sealed personal data whose bytes were altered in the
database (here the read model's copy, in the test's own database, as its owner) made the
organiser's rater list answer 500 and the slips sheet fail. Now the list answers, the damaged
record shown as 无法读取 and flagged `unreadable`, the others as before, the sheet prints, and
the damage is logged with the rater's id (never the data)."""

from __future__ import annotations

import base64
import json
import re

import asyncpg
from structlog.testing import capture_logs

from shared.database import READ_SCHEMA
from shared.personal import UNREADABLE
from shared.settings import with_database
from tests.e2e.evaluation_helpers import (
    directory_copied,
    pledge_and_evaluation,
    township_round,
)
from tests.e2e.helpers import Directory, ok
from tests.support import Servers


def tampered(envelope: dict[str, str]) -> dict[str, str]:
    """The same envelope with one bit of its ciphertext flipped."""
    raw = bytearray(base64.b64decode(envelope["sealed"]))
    raw[-1] ^= 0x01
    return {**envelope, "sealed": base64.b64encode(bytes(raw)).decode()}


async def test_an_altered_sealed_rater_is_shown_unreadable_not_a_500(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e, path = evaluation.client, await township_round(evaluation, d)
        raters = f"{path}/raters"
        body = {"raters": [{"kind": "public", "name": "王小明", "phone": "13812345678"}]}
        body["raters"].append({"kind": "public", "name": "李四"})
        alice, bob = ok(await e.post(raters, json=body, headers=d.office), 201)["rater_ids"]

        dsn = with_database(servers.postgres.dsn, evaluation.settings.database_name)
        owner = await asyncpg.connect(dsn)
        try:
            sealed = await owner.fetchval(
                f"SELECT personal FROM {READ_SCHEMA}.round_raters WHERE rater_id = $1", alice
            )
            await owner.execute(
                f"UPDATE {READ_SCHEMA}.round_raters SET personal = $2 WHERE rater_id = $1",
                alice,
                json.dumps(tampered(json.loads(sealed))),
            )
        finally:
            await owner.close()

        with capture_logs() as logs:
            answer = await e.get(raters, headers=d.office)
            assert answer.status_code == 200, answer.text
            shown = {r["rater_id"]: r for r in answer.json()["raters"]}
            assert (shown[alice]["name"], shown[alice]["phone"]) == (UNREADABLE, None)
            assert (shown[alice]["unreadable"], shown[alice]["erased"]) == (True, False)
            assert (shown[bob]["name"], shown[bob]["unreadable"]) == ("李四", False)

            # the slips still print: the damaged one without a name
            sheet = await e.post(f"{path}/invitation-sheet", json={}, headers=d.office)
            assert sheet.status_code == 200, sheet.text
            codes = r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"
            assert len(set(re.findall(codes, sheet.text))) == 2
            assert "李*" in sheet.text
            assert "王*明" not in sheet.text
        damaged = [x for x in logs if x["event"] == "personal_data_unreadable"]
        assert len(damaged) == 2  # the list, then the sheet
        assert {x["person_id"] for x in damaged} == {alice}
        assert all(x["log_level"] == "error" for x in damaged)
        assert "13812345678" not in repr(logs)
