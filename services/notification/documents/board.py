"""Rendering the public board (N1, P7): Jinja2 templates, QR codes and the satisfaction chart."""

from __future__ import annotations

import os
from datetime import tzinfo
from typing import Any

import segno
from jinja2 import Environment, PackageLoader, select_autoescape

from shared import zh

TEMPLATES = Environment(
    loader=PackageLoader("services.notification", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)


# The public reads Chinese (shared/zh.py): codes as the seed names them, dates the Chinese
# way in local time, periods readable.
TEMPLATES.filters["zh"] = zh.label
TEMPLATES.filters["period"] = zh.period
TEMPLATES.filters["percent"] = zh.percent


def qr_svg(url: str) -> str:
    """An inline SVG QR code of a page's address, printed on each pledge card."""
    code = segno.make(url, error="m", micro=False)
    svg: str = code.svg_inline(scale=3, dark="#000", light="#fff", omitsize=False)
    return svg


def render(template: str, base_url: str, tz: tzinfo | None = None, **context: Any) -> str:
    base = base_url.rstrip("/")

    def day(value: Any) -> str:
        return zh.day(value, tz)

    def qr(card: dict[str, Any]) -> str:
        return qr_svg(f"{base}/pledges/{card['pledge_id']}")

    return TEMPLATES.get_template(template).render(qr=qr, day=day, files_url=files_url(), **context)


def files_url() -> str:
    """Where the pledge service serves published items' files (the board links the photos
    there; it keeps none of their bytes): GONGKAI_PLEDGE_PUBLIC_URL."""
    return os.environ.get("GONGKAI_PLEDGE_PUBLIC_URL", "http://127.0.0.1:8101").rstrip("/")
