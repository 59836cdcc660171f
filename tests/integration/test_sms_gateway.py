"""Both SMS gateways (shared/sms.py) against the local provider (tests/support/sms_provider.py),
a real HTTP server on 127.0.0.1 that verifies their signatures independently: accepted
messages are recorded; a wrong secret, a stale timestamp and a replayed request are refused,
and the provider's codes come back retryable or permanent; no phone number in a log line."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.logging import configure_logging
from shared.sms import AliyunSms, SmsError, TencentSms
from tests.support.sms_provider import APP_ID, KEY_ID, SECRET, SIGN_NAME, SmsProvider

TEMPLATES = {"reminder": "SMS_2001", "overdue": "SMS_2002", "tencent": "1001"}
PARAMS = {"title": "公开承诺拟定截止", "due_on": "2027-03-15"}


@pytest.fixture
async def provider() -> AsyncIterator[tuple[SmsProvider, str, httpx.AsyncClient]]:
    stand_in = SmsProvider()
    async with stand_in.running() as url, httpx.AsyncClient(timeout=10) as http:
        yield stand_in, url, http


def aliyun(url: str, http: httpx.AsyncClient, secret: str = SECRET) -> AliyunSms:
    return AliyunSms(KEY_ID, secret, SIGN_NAME, TEMPLATES, http, endpoint=url)


def tencent(url: str, http: httpx.AsyncClient, secret: str = SECRET) -> TencentSms:
    return TencentSms(KEY_ID, secret, SIGN_NAME, APP_ID, TEMPLATES, http, endpoint=url)


async def test_aliyun_messages_are_signed_and_refused_when_they_are_not(
    provider: tuple[SmsProvider, str, httpx.AsyncClient],
) -> None:
    stand_in, url, http = provider
    lines = io.StringIO()
    configure_logging(json=True, level="INFO", file=lines)  # type: ignore[arg-type]
    try:
        await aliyun(url, http).send("13812340000", "reminder", PARAMS)
        stand_in.fail_next = ["isp.SYSTEM_ERROR"]
        with pytest.raises(SmsError):
            await aliyun(url, http).send("13812340001", "reminder", PARAMS)
    finally:
        configure_logging(json=False, level="WARNING")  # as tests/conftest.py has it
    logs = lines.getvalue()
    [sent] = stand_in.accepted
    assert (sent.provider, sent.phone, sent.template) == ("aliyun", "13812340000", "SMS_2001")
    assert sent.params == PARAMS
    assert sent.sign_name == SIGN_NAME
    assert "sms_sent" in logs
    assert "138****0000" in logs
    assert "138****0001" in logs
    assert "1381234000" not in logs

    with pytest.raises(SmsError) as wrong:
        await aliyun(url, http, secret="not-the-secret").send("13812340000", "reminder", PARAMS)
    assert (wrong.value.code, wrong.value.retryable) == ("SignatureDoesNotMatch", False)
    stand_in.skew = 16 * 60  # the provider's clock 16 minutes ahead: our timestamp is stale
    with pytest.raises(SmsError) as stale:
        await aliyun(url, http).send("13812340000", "reminder", PARAMS)
    assert stale.value.code == "InvalidTimeStamp.Expired"
    stand_in.skew = 0
    stand_in.fail_next = ["isv.BUSINESS_LIMIT_CONTROL"]
    with pytest.raises(SmsError) as limited:
        await aliyun(url, http).send("13812340000", "overdue", PARAMS)
    assert limited.value.retryable
    with pytest.raises(SmsError) as bad_number:
        await aliyun(url, http).send("12345", "overdue", PARAMS)
    assert (bad_number.value.code, bad_number.value.retryable) == (
        "isv.MOBILE_NUMBER_ILLEGAL",
        False,
    )
    with pytest.raises(SmsError) as no_template:
        await aliyun(url, http).send("13812340000", "invitation", PARAMS)
    assert not no_template.value.retryable
    assert len(stand_in.accepted) == 1


async def test_a_replayed_aliyun_request_is_refused(
    provider: tuple[SmsProvider, str, httpx.AsyncClient],
) -> None:
    stand_in, url, http = provider
    requests: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        requests.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [keep]}) as watched:
        await aliyun(url, watched).send("13812340000", "reminder", PARAMS)
    [original] = requests
    replay = await http.post(url, content=original.content, headers=dict(original.headers))
    assert replay.json()["Code"] == "SignatureNonceUsed"
    assert len(stand_in.accepted) == 1


async def test_tencent_messages_are_signed_and_refused_when_they_are_not(
    provider: tuple[SmsProvider, str, httpx.AsyncClient],
) -> None:
    stand_in, url, http = provider
    requests: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        requests.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [keep]}) as watched:
        await tencent(url, watched).send("138 1234 0000", "tencent", {"a": "2027-03-15"})
    [sent] = stand_in.accepted
    assert (sent.provider, sent.phone, sent.template) == ("tencent", "+8613812340000", "1001")
    assert sent.params == ["2027-03-15"]
    # the same request again: TC3 has no nonce, the provider refuses a signature seen before
    [original] = requests
    replay = await http.post(url, content=original.content, headers=dict(original.headers))
    assert replay.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"

    with pytest.raises(SmsError) as wrong:
        await tencent(url, http, secret="x").send("13812340000", "tencent", {"a": "1"})
    assert (wrong.value.code, wrong.value.retryable) == ("AuthFailure.SignatureFailure", False)
    stand_in.skew = -6 * 60
    with pytest.raises(SmsError) as stale:
        await tencent(url, http).send("13812340000", "tencent", {"a": "1"})
    assert (stale.value.code, stale.value.retryable) == ("AuthFailure.SignatureExpire", True)
    stand_in.skew = 0
    with pytest.raises(SmsError) as bad_number:  # refused per number, in SendStatusSet
        await tencent(url, http).send("+861234", "tencent", {"a": "1"})
    assert bad_number.value.code == "InvalidParameterValue.IncorrectPhoneNumber"
    assert "+861234" not in str(bad_number.value)
    stand_in.fail_next = ["LimitExceeded.PhoneNumberDailyLimit"]
    with pytest.raises(SmsError) as limited:
        await tencent(url, http).send("13812340000", "tencent", {"a": "1"})
    assert limited.value.retryable
    assert len(stand_in.accepted) == 1
