"""Rendering the public board (N1, P7): Jinja2 templates, QR codes and the satisfaction chart."""

from __future__ import annotations

from typing import Any

import segno
from jinja2 import Environment, PackageLoader, select_autoescape

TEMPLATES = Environment(
    loader=PackageLoader("services.notification", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)


def qr_svg(url: str) -> str:
    """An inline SVG QR code of a page's address, printed on each pledge card."""
    code = segno.make(url, error="m", micro=False)
    svg: str = code.svg_inline(scale=3, dark="#000", light="#fff", omitsize=False)
    return svg


def render(template: str, base_url: str, **context: Any) -> str:
    base = base_url.rstrip("/")

    def qr(card: dict[str, Any]) -> str:
        return qr_svg(f"{base}/pledges/{card['pledge_id']}")

    return TEMPLATES.get_template(template).render(qr=qr, **context)
