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


# The public reads Chinese: codes from the events, as the seed names them.
LABELS = {
    "organisation_life_meeting": "组织生活会",
    "secretaries_meeting": "支部书记会",
    "members_meeting": "党员大会",
    "ad_hoc": "不定期",
    "satisfied": "满意",
    "mostly_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "excellent": "优秀",
    "qualified": "合格",
    "basically_qualified": "基本合格",
    "unqualified": "不合格",
}
TEMPLATES.filters["zh"] = lambda code: LABELS.get(str(code), code)


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
