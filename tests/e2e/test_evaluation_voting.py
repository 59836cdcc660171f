"""Issue 17 end to end: the public votes from a phone with a printed slip, in a round and in a
satisfaction check, against the running pledge and evaluation services (real PostgreSQL and
NATS) in a real browser on a 360 px phone screen. The slips' links open the page; the ballots
wait in the urn and are appended at close; the results, the auditor's check and the item's
closing follow; the code is in no URL the server saw, no log line, no event."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Page, Response

from services.evaluation.documents.voting import qr_svg
from tests.e2e.evaluation_helpers import (
    check_of_a_finished_item,
    directory_copied,
    pledge_and_evaluation,
)
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import Servers
from tests.support.browser import PHONE, Browser, horizontal_overflow

CODE = re.compile(r'<p class="code">([0-9A-Z-]{19})</p>')


def slips(sheet: str) -> list[str]:
    return CODE.findall(sheet)


async def vote_on_a_phone(page: Page, link: str, grade: str) -> dict[str, int]:
    """Open the slip's link, tap a grade for every subject, review, submit; what was fetched."""
    sizes: dict[str, int] = {}

    def weigh(response: Response) -> None:
        sizes[response.url] = int(response.headers.get("content-length", "0"))

    page.on("response", weigh)
    await page.goto(link)
    await page.get_by_role("button", name="下一步：核对").wait_for()
    assert "#" not in page.url  # the code left the address bar
    assert await horizontal_overflow(page) == 0
    groups = page.get_by_role("radiogroup")
    for index in range(await groups.count()):
        await groups.nth(index).get_by_text(grade, exact=True).tap()
    await page.get_by_role("button", name="下一步：核对").tap()
    await page.get_by_role("button", name="确认提交").wait_for()
    assert grade in await page.locator("dl").inner_text()
    await page.get_by_role("button", name="确认提交").tap()
    await page.get_by_role("status").wait_for()
    assert (await page.locator("main").inner_text()).strip() == "已提交"
    return sizes


async def test_the_public_votes_from_printed_slips_on_a_phone(
    servers: Servers, browser: Browser
) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, clock):
        p, e = pledge.client, evaluation.client
        d = await Directory(p, servers).build()
        await directory_copied(evaluation, d)
        base = str(e.base_url).rstrip("/")
        seen: list[str] = []  # every URL the browser asked for

        # --- a round of the township's branches, three public raters -----------------------
        opening = {"title": "2027年上半年群众评议", "year": 2027, "half": 1}
        opening |= {"township_id": d.township, "opens_on": "2027-03-01"}
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
        public = [{"kind": "public", "name": "张桂兰", "phone": "13912345678"}]
        public += [{"kind": "public"}, {"kind": "public"}]
        ok(
            await e.post(
                f"/v1/rounds/{round_id}/raters", json={"raters": public}, headers=d.office
            ),
            201,
        )
        sheet = await e.post(f"/v1/rounds/{round_id}/invitation-sheet", json={}, headers=d.office)
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["referrer-policy"] == "no-referrer"
        html = sheet.text
        assert "@page{size:A4" in html
        assert html.count("评议人：张*兰") == 1  # the named rater's slip, masked
        assert html.count("群众代表") == 2  # the anonymous ones
        codes = slips(html)
        assert len(codes) == 3
        link = f"{base}/vote#{codes[0]}"
        assert qr_svg(link) in html  # the slip's QR code is its link
        again = await e.post(f"/v1/rounds/{round_id}/invitation-sheet", json={}, headers=d.office)
        assert slips(again.text) == []  # printed once: nobody is invited twice

        page = await browser.page(PHONE)
        page.on("request", lambda request: seen.append(request.url))
        sizes = await vote_on_a_phone(page, link, "满意")
        assert all(url.startswith(base) for url in seen)  # no outside assets
        assert sum(sizes.values()) < 100_000
        # the second voter types the code in (lower case, spaces) at /vote
        typed = await browser.page(PHONE)
        typed.on("request", lambda request: seen.append(request.url))
        await typed.goto(f"{base}/vote")
        await typed.get_by_label("评议邀请码").fill(codes[1].lower().replace("-", " "))
        await typed.get_by_role("button", name="开始评议").tap()
        await typed.get_by_role("button", name="下一步：核对").wait_for()
        groups = typed.get_by_role("radiogroup")
        for index in range(await groups.count()):
            await groups.nth(index).get_by_text("不满意", exact=True).tap()
        await typed.get_by_role("button", name="下一步：核对").tap()
        await typed.get_by_role("button", name="确认提交").tap()
        await typed.get_by_role("status").wait_for()
        # the same code again: a clear answer, nothing appended
        events = await evaluation.runtime.pool.fetchval("SELECT count(*) FROM events")
        await typed.goto(f"{base}/vote#{codes[1]}")
        await typed.get_by_role("alert").wait_for()
        assert "已经投过" in await typed.get_by_role("alert").inner_text()
        assert await evaluation.runtime.pool.fetchval("SELECT count(*) FROM events") == events

        # the ballots wait in the urn (fewer than k = 10): participations only in the log
        types = [
            r["type"]
            for r in await evaluation.runtime.pool.fetch(
                "SELECT type FROM events WHERE stream_id LIKE $1", f"%{round_id}"
            )
        ]
        assert types.count("RaterParticipated") == 2
        assert "BallotCast" not in types
        turnout = ok(await e.get(f"/v1/rounds/{round_id}/invitations"))
        assert (turnout["invited"], turnout["voted"], turnout["in_urn"]) == (3, 2, 2)
        audit = ok(await e.get(f"/v1/rounds/{round_id}/audit", headers=d.as_("auditor", d.county)))
        assert audit["consistent"], audit
        ok(await e.post(f"/v1/rounds/{round_id}/closure", headers=d.office))
        results = ok(await e.get(f"/v1/rounds/{round_id}/results"))["results"]
        for subject in results:
            assert (subject["counts"]["satisfied"], subject["counts"]["dissatisfied"]) == (1, 1)
        audit = ok(await e.get(f"/v1/rounds/{round_id}/audit", headers=d.as_("auditor", d.county)))
        assert (audit["consistent"], audit["in_urn"], audit["ballots"]) == (True, 0, 2), audit
        # the third slip died with the round
        late = await browser.page(PHONE)
        await late.goto(f"{base}/vote#{codes[2]}")
        await late.get_by_role("alert").wait_for()
        assert "结束" in await late.get_by_role("alert").inner_text()

        # --- a satisfaction check: the people an item served ----------------------------------
        canal, check_id = await check_of_a_finished_item(pledge, evaluation, d, "改造支渠3公里")
        clock.advance(timedelta(days=1))
        served = {"raters": [{}, {}]}
        checks = f"/v1/satisfaction-checks/{check_id}"
        ok(await e.post(f"{checks}/raters", json=served, headers=d.office), 201)
        sheet = await e.post(f"{checks}/invitation-sheet", json={}, headers=d.office)
        codes = slips(sheet.text)
        assert len(codes) == 2
        assert "改造支渠3公里" in sheet.text
        for code in codes:
            check_page = await browser.page(PHONE)
            check_page.on("request", lambda request: seen.append(request.url))
            await vote_on_a_phone(check_page, f"{base}/vote#{code}", "满意")
        closed = ok(await e.post(f"{checks}/closure", headers=d.office))
        assert closed["verdict"] == "satisfied"
        audit = ok(await e.get(f"{checks}/audit", headers=d.as_("auditor", d.county)))
        assert (audit["consistent"], audit["ballots"], audit["in_urn"]) == (True, 2, 0), audit

        async def item_closed() -> bool:
            rows = ok(await p.get(f"/v1/ledger?branch_id={d.branch}"))["rows"]
            return any(r["item_id"] == canal and r["status"] == "closed" for r in rows)

        await eventually(item_closed, timeout=20)

        # no code in a URL the browser asked for, an event, or a kept table but as a hash
        bodies = b"".join(
            r["body"] for r in await evaluation.runtime.pool.fetch("SELECT body FROM events")
        )
        everything = " ".join(seen)
        for code in [*slips(html), *codes]:
            assert code not in everything
            assert code.encode() not in bodies
            assert code.replace("-", "").encode() not in bodies
