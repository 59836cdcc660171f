"""The township office's menu in a browser (issue 18): on a desktop of 1024 and 1280 px every
one of its fourteen pages is in sight (the menu wraps; a no-wrap scroller hid 推送渠道 and
three more off-screen), and on a phone it stays the compact grid. The other findings:
tests/unit/test_console_generalfix.py."""

from __future__ import annotations

import time
from pathlib import Path

from services.console.session import SESSION_COOKIE, Sealer, Session, load_key
from services.console.settings import ConsoleSettings
from services.console.web import MENUS
from shared.embedded import free_port
from tests.e2e.console_helpers import NOWHERE, console_serving
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser


async def test_the_offices_whole_menu_is_in_sight_on_a_desktop(
    servers: Servers, browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    settings = ConsoleSettings(
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        identity_url=NOWHERE,
        pledge_url=NOWHERE,
        notification_url=NOWHERE,
        session_key_file=tmp_path / "console.key",
    )
    async with console_serving(settings) as base:
        session = Session(
            access_token=servers.token("township_office", "t-1", "o-1"),
            refresh_token="unused",
            expires_at=time.time() + 600,
            id_token=None,
            person="o-1",
            name="赵",
            role="township_office",
            org="t-1",
        )
        sealed = Sealer(load_key(settings.session_key_file)).seal_session(session)
        labels = [label for _, label in MENUS["township_office"]]
        for width in (1024, 1280):
            screen = {**DESKTOP, "viewport": {"width": width, "height": 800}}
            page = await browser.page(screen)
            await page.context.add_cookies([{"name": SESSION_COOKIE, "value": sealed, "url": base}])
            await page.goto(f"{base}/")
            links = page.locator("nav.menu a")
            assert await links.count() == len(labels)
            for n in range(len(labels)):
                box = await links.nth(n).bounding_box()
                assert box is not None
                assert box["x"] >= 0, (width, labels[n])
                assert box["x"] + box["width"] <= width, (width, labels[n])
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width
            menu = await page.evaluate(
                "(() => { const m = document.querySelector('nav.menu');"
                " return [m.scrollWidth, m.clientWidth]; })()"
            )
            assert menu[0] <= menu[1], menu  # nothing scrolled out of the menu itself
        phone = await browser.page(PHONE)
        await phone.context.add_cookies([{"name": SESSION_COOKIE, "value": sealed, "url": base}])
        await phone.goto(f"{base}/")
        shown = await phone.evaluate("getComputedStyle(document.querySelector('nav.menu')).display")
        assert shown == "grid"
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
