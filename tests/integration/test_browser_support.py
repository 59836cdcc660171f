"""The browser that page tests drive: it fills a form and reads the answer, on a phone."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator

import pytest

from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow

PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<form method="post" action="/"><label for="n">姓名</label><input id="n" name="n">
<button>提交</button></form>"""


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(h.split(b":")[1])
                for h in head.split(b"\r\n")
                if h.lower().startswith(b"content-length")
            ),
            0,
        )
        body = (await reader.readexactly(length)).decode() if length else ""
        sent = urllib.parse.parse_qs(body).get("n", [""])[0]
        html = PAGE if head.startswith(b"GET") else f"<p id=answer>收到 {sent}</p>"
        data = html.encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/"
    server.close()


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_a_form_is_filled_and_sent(
    browser: Browser, site: str, screen: dict[str, object]
) -> None:
    page = await browser.page(screen)
    await page.goto(site)
    await page.get_by_label("姓名").fill("张三")
    await page.get_by_role("button", name="提交").click()
    assert await page.locator("#answer").inner_text() == "收到 张三"
    assert await horizontal_overflow(page) == 0
