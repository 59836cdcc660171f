"""P7: the pledge letter (承诺书, A4) and pledge card (承诺卡, A5), one printable HTML page."""

from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import Any

from shared import zh

STYLE = """
body { font-family: "Noto Serif CJK SC", "Songti SC", serif; margin: 2rem; }
.letter, .card { page-break-after: always; border: 1px solid #a00; padding: 1.5rem; }
.card { max-width: 148mm; }
h1 { color: #a00; text-align: center; } td, th { border: 1px solid #999; padding: .3rem; }
table { border-collapse: collapse; width: 100%; } td, th { overflow-wrap: anywhere; }
@media (max-width: 600px) { body { margin: .5rem; } .letter, .card { padding: .75rem; } }
@media print { body { margin: 0; } .letter { size: A4; } .card { size: A5; } }
"""


def pledge_letter_html(
    pledge: dict[str, Any], branch: dict[str, Any], tz: tzinfo | None = None
) -> str:
    who = escape(pledge["pledger_name"])
    kind = "党组织承诺书" if pledge["pledger_kind"] == "branch" else "党员承诺书"
    standard = zh.label(pledge["standard"])
    rows = "".join(
        f"<tr><td>{i + 1}</td><td>{escape(item['title'])}</td><td>{escape(item['category'])}</td>"
        f"<td>{escape(item['target'])}</td><td>{zh.day(item['due_date'])}</td></tr>"
        for i, item in enumerate(pledge["items"])
    )
    items = (
        "<table><tr><th>序号</th><th>承诺事项</th><th>类别</th><th>目标</th><th>时限</th></tr>"
        f"{rows}</table>"
    )
    letter_no = escape(pledge["letter_no"] or "(未公开)")
    # a member's pledge names her branch beside her; a branch's own names it once
    of = "" if pledge["pledger_kind"] == "branch" else escape(branch["name"])
    return (
        f"<!doctype html><html lang='zh-Hans'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{kind} {who}</title><style>{STYLE}</style></head><body>"
        f"<section class='letter'><h1>{kind}</h1><p>编号 {letter_no}</p>"
        f"<p>{of + ' · ' if of else ''}{who} · {pledge['year']}年 · 围绕「{standard}」</p>"
        f"<p>依据: {escape(pledge['basis'] or '')}</p>{items}"
        f"<p>承诺人: {who}　　日期: {zh.day(pledge['published_at'], tz)}</p></section>"
        f"<section class='card'><h1>承诺卡</h1><p>{who}{f'（{of}）' if of else ''}</p>"
        f"{items}<p>接受群众监督</p></section></body></html>"
    )
