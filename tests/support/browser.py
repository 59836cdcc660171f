"""Pages driven as a person would: fill a field, tap a button, read what the page shows.

Playwright's Python API drives the Chromium that tests/conftest.py found or installed (never
Playwright's own browser download, whose hosts some networks do not reach). Two screens:
a 360 px phone with touch, as most clerks, members and the public use, and an office desktop.

    async def test_x(browser: Browser) -> None:
        page = await browser.page(PHONE)
        await page.goto(url)
        await page.get_by_label("手机号或身份证号").fill("13800000000")
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext, Page, async_playwright

# As the probe of this machine kind starts it: without the background-networking flags,
# Chromium's own connections are refused by a closed network, many at a time.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
DESKTOP: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


@dataclass
class Browser:
    """One headless Chromium; each `page()` opens a fresh context (its own cookies), closed
    with the browser."""

    chromium: PlaywrightBrowser
    contexts: list[BrowserContext] = field(default_factory=list)

    async def page(self, screen: dict[str, Any] = PHONE, **options: Any) -> Page:
        context = await self.chromium.new_context(**screen, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return await context.new_page()

    async def close_pages(self) -> None:
        for context in self.contexts:
            await context.close()
        self.contexts.clear()


@asynccontextmanager
async def browser_for(chromium_binary: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_binary, headless=True, args=FLAGS
        )
        try:
            yield Browser(chromium)
        finally:
            await chromium.close()


async def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 on a page that fits), once
    the page a click led to has loaded (asked mid-navigation, there is no document yet)."""
    await page.wait_for_load_state()
    width: int = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width
