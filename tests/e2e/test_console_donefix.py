"""In real Chromium against the real pledge and notification services (issue 18): on her 360 px
phone the member reports an item of her published pledge done with a photo (the tick that it
cannot be undone forgotten first: asked beside it, nothing reported), and reads it 已完成 with
the township's confirmations and the satisfaction check to come; the county administrator's
reminder calendar on a phone is a month at a time (the next deadline's month open, the page
a few screens long, nothing wider than the phone), a deadline edited in another month and
saved; at a desktop every month opens at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from playwright.async_api import Page

from services.console.pages.pledges import this_year
from services.console.session import SESSION_COOKIE
from services.console.settings import ConsoleSettings
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.embedded import free_port
from tests.e2e.console_helpers import NOWHERE, Console, console_serving
from tests.e2e.helpers import Directory, ok
from tests.e2e.review_helpers import START
from tests.support import Servers, running
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow
from tests.unit.test_console_donefix import publish_member_pledge
from tests.unit.test_console_pledgefix import recorded


async def test_done_on_a_phone_and_the_calendar_a_month_at_a_time(
    servers: Servers, browser: Browser, tmp_path: Path
) -> None:
    async with running(servers, [PLEDGE, NOTIFICATION], FixedClock(START)) as services:
        pledge, notification = services["pledge"], services["notification"]
        d = await Directory(pledge.client, servers).build()
        pid, (first, _) = await publish_member_pledge(pledge, d)
        port = free_port()
        settings = ConsoleSettings(
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            identity_url=NOWHERE,
            pledge_url=str(pledge.client.base_url),
            notification_url=str(notification.client.base_url),
            session_key_file=tmp_path / "console.key",
        )
        async with console_serving(settings) as base:
            sessions = Console(servers, tmp_path)  # seals with the served console's key

            async def signed_in(screen: dict[str, Any], role: str, org: str, who: str) -> Page:
                sessions.as_(role, org, who)
                sealed = sessions.http.cookies[SESSION_COOKIE]
                page = await browser.page(screen)
                await page.context.add_cookies(
                    [{"name": SESSION_COOKIE, "value": sealed, "url": base}]
                )
                return page

            # --- the member on her phone reports her first item done -------------------------
            member = await signed_in(PHONE, "member", d.branch, d.member)
            await member.goto(f"{base}/pledges/{pid}")
            item = member.locator("ol > li").first
            await item.get_by_text("报告此项已完成").click()
            await item.get_by_label("完成情况").fill("十户全部用上滴灌")
            photo = tmp_path / "done.jpg"
            Image.new("RGB", (64, 48), (40, 160, 90)).save(photo, "JPEG")
            await item.get_by_label(
                "佐证材料（照片或扫描件，可拍照，可多选，可不传）"
            ).set_input_files(str(photo))
            await item.get_by_role("button", name="报告完成").click()  # the tick forgotten
            item = member.locator("ol > li").first
            tick = item.get_by_role("checkbox")
            assert await tick.get_attribute("aria-invalid") == "true"
            assert "请勾选确认" in await member.locator(f"#err-done-{first}-confirmed").inner_text()
            assert await item.get_by_label("完成情况").input_value() == "十户全部用上滴灌"
            assert await recorded(pledge, "ItemReportedDone") == []
            await tick.check()
            await item.get_by_label(
                "佐证材料（照片或扫描件，可拍照，可多选，可不传）"
            ).set_input_files(str(photo))
            await item.get_by_role("button", name="报告完成").click()
            state = member.locator(f"#done-state-{first}")
            text = await state.inner_text()
            assert "已完成" in text
            assert "十户全部用上滴灌" in text
            assert "佐证材料 1 个：done.jpg" in text
            assert "群众满意度测评：等待乡镇组织测评" in text
            assert await horizontal_overflow(member) == 0
            [reported] = await recorded(pledge, "ItemReportedDone")
            assert [f["name"] for f in reported["files"]] == ["done.jpg"]

            # --- the county administrator's reminder calendar on a phone -------------------------
            year = this_year() + 1  # every deadline ahead: January's the next
            admin = await signed_in(PHONE, "county_admin", d.county, "admin")
            await admin.goto(f"{base}/reminders?year={year}")
            months = admin.locator("details.month")
            assert await months.count() == 13  # January to the next January's round
            opened = admin.locator("details.month[open]")
            assert await opened.count() == 1
            assert await opened.get_attribute("id") == f"month-{year}-01"
            height = await admin.evaluate("document.documentElement.scrollHeight")
            assert height < 3000, height  # a few screens, not 10,000 px
            assert await horizontal_overflow(admin) == 0
            june = admin.locator(f"#month-{year}-06")
            await june.locator("summary").click()
            assert await horizontal_overflow(admin) == 0
            await june.get_by_label(f"{year}年6月党员纪实讲评 提前天数").fill("9")
            await admin.get_by_role("button", name="保存提醒日历").click()
            await admin.wait_for_url(f"{base}/reminders?year={year}")
            calendar = ok(
                await notification.client.get(f"/v1/counties/{d.county}/calendars/{year}")
            )
            [june_journal] = [
                x
                for x in calendar["deadlines"]
                if x["period"] == f"{year}-06" and x["kind"] == "journal_meeting"
            ]
            assert june_journal["remind_days_before"] == 9

            # --- at a desktop: every month at once, a row a deadline ---------------------------
            desk = await signed_in(DESKTOP, "county_admin", d.county, "admin")
            await desk.goto(f"{base}/reminders?year={year}")
            await desk.get_by_role("link", name="全部展开").click()
            assert await desk.locator("details.month[open]").count() == 13
            assert await horizontal_overflow(desk) == 0
            row = desk.locator("ul.deadlines li").first
            box = await row.bounding_box()
            assert box is not None
            assert box["height"] < 100
