"""N1, P7 in a real browser: headless Chromium loads the board pages of a county built
through the pledge API, the test checks what it rendered, and saves a phone-sized screenshot
of the branch page and a PDF of the printed pledge cards (one card per page)."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import Directory, eventually
from tests.e2e.notification_helpers import pledge_and_notification, publish_pledge
from tests.support import Servers

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
Browser = Callable[..., Awaitable[str]]

# Added to a copy of a board page (its styles are inline, so the copy renders as the page
# does), shown in a frame as wide as a phone (headless Chromium's window is at least 500 px
# wide): what the browser computed for each table cell, written into the DOM it dumps.
PROBE = """<script>
const cells = [...document.querySelectorAll('table.wide td')].map(td => [
  getComputedStyle(td).display, getComputedStyle(td, '::before').content,
  td.textContent.trim().slice(0, 12)]);
const heads = [...document.querySelectorAll('table.wide thead')].map(
  h => getComputedStyle(h).display);
const into = window.parent.document;
const probe = into.createElement('pre');
probe.id = 'probe';
probe.textContent = JSON.stringify({width: window.innerWidth, cells, heads});
into.body.appendChild(probe);
</script>"""


@pytest.fixture
def browser(chromium_binary: str, tmp_path: Path) -> Browser:
    """Runs headless Chromium once with the given arguments and returns what it printed.
    The binary comes from tests/conftest.py, which installs Debian's once per run when the
    machine has none."""

    async def run(*args: str) -> str:
        profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
        process = await asyncio.create_subprocess_exec(
            chromium_binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
        return stdout.decode()

    return run


async def test_the_board_in_a_browser(servers: Servers, tmp_path: Path, browser: Browser) -> None:
    async with pledge_and_notification(servers) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        branch_pledge, _ = await publish_pledge(pledge, d, ["改造支渠3公里", "推广滴灌300亩"])
        await publish_pledge(pledge, d, ["带动10户发展节水农业"], member=True)
        board = notification.client
        base = str(board.base_url).rstrip("/")

        async def published() -> bool:
            return (await board.get(f"/branches/{d.branch}")).text.count('class="card"') == 2

        await eventually(published)

        county = await browser("--dump-dom", f"{base}/counties/{d.county}")
        assert "红沙梁镇" in county
        assert "苏武镇" in county
        township = await browser("--dump-dom", f"{base}/townships/{d.township}")
        assert "红沙梁村党支部" in township
        assert "张建国" in township
        page = await browser("--dump-dom", f"{base}/branches/{d.branch}")
        assert "改造支渠3公里" in page
        assert "带动10户发展节水农业" in page
        assert page.count("<svg") >= 2  # a QR code on each card
        assert f"{base}/pledges/{branch_pledge}" not in page  # the address is in the QR image

        # on a phone (360 px) each row stacks into lines, and each line says what it is: the
        # column headers are hidden, so every cell shows its label (data-label, base.html)
        async def computed(path: str, width: int) -> dict[str, Any]:
            name = path.strip("/").replace("/", "-")
            copy = tmp_path / f"{name}-{width}.html"
            text = (await board.get(path)).text
            copy.write_text(text.replace("</body>", f"{PROBE}</body>"), encoding="utf-8")
            frame = tmp_path / f"frame-{name}-{width}.html"
            frame.write_text(
                f'<html><body><iframe src="{copy.name}" width="{width}" height="900"'
                ' style="border:0"></iframe></body></html>',
                encoding="utf-8",
            )
            dom = await browser(
                "--allow-file-access-from-files",
                "--window-size=1100,1000",
                "--dump-dom",
                frame.as_uri(),
            )
            [found] = re.findall(r'<pre id="probe">(.*?)</pre>', dom, re.S)
            probe: dict[str, Any] = json.loads(html.unescape(found))
            assert probe["width"] == width, path
            assert probe["cells"], path
            return probe

        for path in (
            f"/counties/{d.county}",
            f"/townships/{d.township}",
            f"/branches/{d.branch}",
        ):
            probe = await computed(path, 360)
            assert set(probe["heads"]) == {"none"}, path
            for display, label, text in probe["cells"]:
                assert display == "block", (path, text)
                assert label.startswith('"'), (path, text, label)  # not "none"
                assert label.endswith('："'), (path, text, label)
        on_a_desk = await computed(f"/townships/{d.township}", 1024)
        assert {display for display, _, _ in on_a_desk["cells"]} == {"table-cell"}
        assert {label for _, label, _ in on_a_desk["cells"]} == {"none"}  # headers instead

        screenshot = tmp_path / "branch.png"
        await browser(
            f"--screenshot={screenshot}",
            "--window-size=412,1800",
            "--hide-scrollbars",
            f"{base}/branches/{d.branch}",
        )
        assert screenshot.read_bytes().startswith(b"\x89PNG")
        assert screenshot.stat().st_size > 5000

        cards = tmp_path / "cards.pdf"
        await browser(
            f"--print-to-pdf={cards}",
            "--no-pdf-header-footer",
            f"{base}/branches/{d.branch}",
        )
        pdf = cards.read_bytes()
        assert pdf.startswith(b"%PDF")
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pages == 2  # the print stylesheet: one card per page, nothing else

        card = tmp_path / "card.pdf"
        await browser(
            f"--print-to-pdf={card}",
            "--no-pdf-header-footer",
            f"{base}/pledges/{branch_pledge}",
        )
        assert len(re.findall(rb"/Type\s*/Page(?!s)", card.read_bytes())) == 1
