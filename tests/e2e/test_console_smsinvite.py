"""Invitations by SMS from the console, erasures and the export's days (issues 17 and 18), in
a real browser against the real identity, pledge and evaluation services and a local Alibaba
Cloud SMS provider that checks every request's signature (tests/support/sms_provider.py).

The township office, at a desktop, registers two people a finished item served (one with a
phone), prints the check's invitations "同时短信发送": the sheet says one went by SMS and one
has no phone, the provider got the link; the office reissues the invitation by SMS and the
person votes from the new link on a phone (the old code no longer opens a ballot); the office
erases that person's personal data after a confirmation, and the check's page fits a 360 px
phone. The county's auditor, on a phone, reads the erasure in the check's audit (when and by
which post, no personal data) and exports the log of today only, which verifies, after a range
ending before it began is refused beside its field. No code is in any log line the services
wrote."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.async_api import expect

from services.evaluation.app import DEFINITION as EVALUATION
from shared.audit.verify import verify_bundle
from shared.logging import configure_logging
from tests.e2e.console_helpers import (
    console_serving,
    console_settings,
    office_clerk,
    person,
    sign_in,
    township_copied,
    world_for_console,
)
from tests.e2e.evaluation_helpers import check_of_a_finished_item
from tests.e2e.test_evaluation_voting import vote_on_a_phone
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow
from tests.support.sms_provider import SIGN_NAME, SmsProvider

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
CHINA = timezone(timedelta(hours=8))
PHONE_NUMBER = "13912340001"
AUDITOR_LOGIN = "110101199003070011"


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmsProvider]:
    """The county's SMS channel: the local provider, with the invitation's template."""
    async with SmsProvider().configured(monkeypatch, {"vote_invitation": "SMS_3001"}) as sms:
        yield sms


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every line the services log from now (as in production, JSON): configured after they
    started, as each configures logging when it starts."""
    captured = io.StringIO()
    configure_logging(json=True, level="INFO", file=captured)
    try:
        yield captured
    finally:
        configure_logging(json=False, level="WARNING")  # as tests/conftest.py has it


def code_of(link: str) -> str:
    found = CODE.search(link.rsplit("#", 1)[-1])
    assert found is not None, link
    return found.group(0)


async def test_the_office_invites_by_sms_and_erases_and_the_auditor_sees_it(
    browser: Browser,
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    provider: SmsProvider,
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(EVALUATION,)) as (
        world,
        console_url,
    ):
        d, evaluation = world.directory, world.services["evaluation"].client
        clerk = await office_clerk(world)
        auditor = await person(world, "审计员周明", {"role": "auditor", "org": d.county})
        await township_copied(world, d.branch)
        _, check_id = await check_of_a_finished_item(
            world.pledge, world.services["evaluation"], d, "硬化村道2公里"
        )
        today = datetime.now(UTC).astimezone(CHINA).date()
        settings = console_settings(world, console_url, tmp_path)
        stack = ExitStack()
        async with console_serving(settings):
            logs = stack.enter_context(captured_logs())
            # --- the office registers the people served, one with a phone -------------------
            page = await browser.page(DESKTOP)
            await sign_in(page, world, clerk, "13800005555", console_url)
            check_url = f"{console_url}/checks/{check_id}"
            await page.goto(check_url)
            for name, phone in (("李秀英", PHONE_NUMBER), ("王大山", "")):
                await page.get_by_label("姓名", exact=True).fill(name)
                await page.get_by_label("手机号", exact=True).fill(phone)
                await page.get_by_role("button", name="登记", exact=True).click()
                await expect(page.locator("main")).to_contain_text(name)

            # --- invitations printed, and sent by SMS to the one with a phone ---------------
            await page.get_by_label("同时短信发送链接（登记了手机号的评议人）").check()
            await page.get_by_role("button", name="打印邀请码").click()  # in the same tab
            summary = await page.locator("#sms").inner_text()
            assert "短信发送投票链接 1 人" in summary
            assert "没有登记手机号 1 人" in summary
            printed = CODE.findall(await page.locator(".sheet").inner_text())
            assert len(printed) == 2
            assert await page.get_by_text("投票链接已短信发送").count() == 1
            [sent] = provider.accepted
            assert (sent.phone, sent.template, sent.sign_name) == (
                PHONE_NUMBER,
                "SMS_3001",
                SIGN_NAME,
            )
            assert isinstance(sent.params, dict)
            first = code_of(sent.params["link"])
            assert sent.params["link"].startswith(f"{str(evaluation.base_url).rstrip('/')}/vote#")
            assert first in printed
            await page.locator("#back a").click()  # back to the check
            turnout = await page.locator("#sms-turnout").inner_text()
            assert "短信发送投票链接 1 人" in turnout
            assert "没有登记手机号 1 人" in turnout

            # --- her invitation reissued by SMS: the new link votes, the old code is dead ----
            row = page.locator("tr", has_text="李秀英")
            await row.get_by_role("button", name="补发并短信发送").click()
            await expect(page.locator("#sms-sent")).to_contain_text("已通过短信发到")
            shown = await page.locator("#code").inner_text()
            assert len(provider.accepted) == 2
            link = provider.accepted[1].params["link"]  # type: ignore[call-overload]
            assert code_of(link) == shown != first
            phone = await browser.page(PHONE)
            await phone.goto(f"{str(evaluation.base_url).rstrip('/')}/vote#{first}")
            await expect(phone.locator("main")).to_contain_text("这个邀请码已作废")
            await vote_on_a_phone(await browser.page(PHONE), link, "满意")
            await page.goto(check_url)
            await expect(page.locator("tr", has_text="李秀英")).to_contain_text("已参评")

            # --- the office erases her personal data, after a confirmation ------------------
            await (
                page.locator("tr", has_text="李秀英")
                .get_by_role("link", name="删除个人信息")
                .click()
            )
            assert "139****0001" in await page.locator("#erasing").inner_text()
            await page.set_viewport_size(PHONE["viewport"])
            assert await horizontal_overflow(page) == 0
            await page.get_by_role("button", name="确认删除").click()
            await page.wait_for_url(check_url)
            assert await page.locator("tr", has_text="已删除").count() == 1
            assert await page.get_by_role("link", name="删除个人信息").count() == 1  # 王大山's
            served = page.locator("section", has=page.locator("h2", has_text="服务对象（"))
            assert "李秀英" not in await served.inner_text()  # (the roll's picker names her)
            assert await horizontal_overflow(page) == 0

            # --- the auditor, on a phone: the erasure in the check's audit, today's export ---
            look = await browser.page(PHONE)
            await sign_in(
                look,
                world,
                auditor,
                AUDITOR_LOGIN,
                console_url,
                by="county_admin",
                second_factor=True,
            )
            await look.goto(f"{console_url}/audit/checks/{check_id}")
            erasures = await look.locator("#erasures").inner_text()
            assert "乡镇创先办" in erasures
            assert clerk in erasures
            assert "删除的个人信息（1）" in await look.locator("main").inner_text()
            assert "139****0001" not in await look.content()
            assert await horizontal_overflow(look) == 0
            await look.goto(f"{console_url}/audit?service=evaluation")
            await look.get_by_role("button", name="立即签名一个检查点").click()
            await expect(look.locator("#checkpoints tbody tr")).to_have_count(1)
            day, before = today.isoformat(), (today - timedelta(days=1)).isoformat()
            await look.get_by_label("起始日期").fill(day)
            await look.get_by_label("截止日期").fill(before)
            await look.get_by_role("button", name="下载导出包").click()
            to = look.get_by_label("截止日期")
            await expect(to).to_have_attribute("aria-invalid", "true")
            assert await look.locator("#err-to").inner_text() == "截止日期不能早于起始日期。"
            await to.fill(day)
            async with look.expect_download() as downloading:
                await look.get_by_role("button", name="下载导出包").click()
            await (await downloading.value).save_as(tmp_path / "today.zip")
            with zipfile.ZipFile(tmp_path / "today.zip") as bundle:
                bundle.extractall(tmp_path / "today")
            manifest = json.loads((tmp_path / "today" / "manifest.json").read_text())
            assert manifest["range"] is not None
            report = verify_bundle(tmp_path / "today")
            assert report.ok, report.problems
            assert report.events > 0
            export = f"{console_url}/audit/evaluation/export.zip"
            earlier = await look.request.get(export, params={"to": before})
            with zipfile.ZipFile(io.BytesIO(await earlier.body())) as bundle:
                assert bundle.read("events.jsonl") == b""  # nothing was recorded before today

    stack.close()
    lines = logs.getvalue()
    assert '"sms_sent"' in lines  # the services' lines were captured
    for code in {*printed, shown}:
        assert code not in lines
        assert code.replace("-", "") not in lines
