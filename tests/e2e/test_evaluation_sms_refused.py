"""Turnout by SMS counts only the texts the provider accepted: against the real pledge and
evaluation services and the local SMS provider (tests/support/sms_provider.py), which
refuses one of two invitation texts. The refusal is in the log without the phone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation
from tests.e2e.helpers import Directory, ok
from tests.support import Servers
from tests.support.sms_provider import SmsProvider

PHONES = ("13912340001", "13912340002")


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmsProvider]:
    async with SmsProvider().configured(monkeypatch, {"vote_invitation": "SMS_3001"}) as sms:
        yield sms


async def test_a_text_the_provider_refused_is_not_counted_as_sent(
    servers: Servers, provider: SmsProvider
) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        e = evaluation.client
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        opening = {"title": "2027年上半年群众评议", "year": 2027, "half": 1}
        opening |= {"township_id": d.township, "opens_on": "2027-03-01"}
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
        raters = [{"kind": "public", "name": "张桂兰", "phone": p} for p in PHONES]
        raters.append({"kind": "public"})  # no phone: on paper only
        path = f"/v1/rounds/{round_id}/raters"
        ok(await e.post(path, json={"raters": raters}, headers=d.office), 201)

        provider.fail_next = ["isv.MOBILE_NUMBER_ILLEGAL"]  # the first text asked for
        path = f"/v1/rounds/{round_id}/invitations"
        slips = ok(await e.post(path, json={"by_sms": True}, headers=d.office), 201)
        failed = [s for s in slips["invitations"] if s.get("sms_failed")]
        sent = [s for s in slips["invitations"] if s["by_sms"]]
        assert (len(sent), len(failed)) == (1, 1)
        assert len(provider.accepted) == 1

        turnout = ok(await e.get(path))
        assert (turnout["invited"], turnout["by_sms"], turnout["sms_refused"]) == (3, 1, 1)
        [refusal] = await evaluation.runtime.pool.fetch(
            "SELECT convert_from(body, 'UTF8') AS body FROM events"
            " WHERE type = 'InvitationTextRefused'"
        )
        assert failed[0]["rater_id"] in refusal["body"]
        assert "MOBILE_NUMBER_ILLEGAL" in refusal["body"]
        assert not any(phone in refusal["body"] for phone in PHONES)

        # reissued by SMS, the provider accepting it now: counted as sent, no longer refused
        again = f"{path}/{failed[0]['rater_id']}/reissue"
        ok(await e.post(again, json={"by_sms": True}, headers=d.office), 201)
        turnout = ok(await e.get(path))
        assert (turnout["by_sms"], turnout["sms_refused"]) == (2, 0)

        # the other's reissued by SMS and refused this time: her valid code went nowhere, so
        # she is counted as refused, not as reached by the text the reissue voided
        provider.fail_next = ["isv.MOBILE_NUMBER_ILLEGAL"]
        ok(
            await e.post(
                f"{path}/{sent[0]['rater_id']}/reissue", json={"by_sms": True}, headers=d.office
            ),
            201,
        )
        turnout = ok(await e.get(path))
        assert (turnout["by_sms"], turnout["sms_refused"]) == (1, 1)
