"""The voting page (`/vote`) and the printable sheet of invitation slips (issue 17): Jinja2
templates in the package, simplified Chinese, no outside assets.

The page keeps the code out of every URL: a link or QR code carries it in the fragment
(`/vote#7Q2M-…`), which browsers never send to a server; the page's one inline script moves it
into a form and posts it, then drops it from the address bar. Content-Security-Policy allows
exactly that script and style (by their hashes) and nothing from elsewhere; Referrer-Policy
`no-referrer` keeps the page's address out of any request it makes.

QR codes come from segno (pure Python, maintained, no image library): inline SVG, so the
sheet is one self-contained HTML file that prints sharp at any size.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import segno
from jinja2 import Environment, PackageLoader, select_autoescape

from shared import zh

TEMPLATES = Environment(
    loader=PackageLoader("services.evaluation", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)

STYLE = """
*{box-sizing:border-box}body{margin:0;font:17px/1.5 system-ui,"PingFang SC","Microsoft YaHei",
sans-serif;color:#1a1a1a;background:#f6f6f3}main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.2rem 0 .6rem}h2{font-size:1.1rem;margin:0}p{margin:.4rem 0}
.meta{color:#555;font-size:.95rem}fieldset{border:1px solid #ccc;border-radius:.6rem;
background:#fff;margin:0 0 1rem;padding:.8rem}legend{padding:0 .3rem;font-weight:600}
.subject p{margin:.2rem 0}.grades{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.5rem}
.grades label{flex:1 1 6rem;min-height:3rem;display:flex;align-items:center;
justify-content:center;border:2px solid #888;border-radius:.5rem;padding:.4rem;
cursor:pointer;background:#fff}.grades input{position:absolute;opacity:0;width:1px;height:1px}
.grades input:checked+span{font-weight:700}.grades label:has(input:checked){background:#b3261e;
color:#fff;border-color:#b3261e}.grades input:focus-visible+span{outline:3px solid #1565c0;
outline-offset:3px}input[type=text]{width:100%;font-size:1.2rem;padding:.7rem;
letter-spacing:.08em;border:2px solid #888;border-radius:.5rem;text-transform:uppercase}
button{display:block;width:100%;min-height:3.2rem;font-size:1.1rem;border:0;
border-radius:.5rem;background:#b3261e;color:#fff;margin:.6rem 0;cursor:pointer}
button.back{background:#e0e0e0;color:#1a1a1a}.error{background:#fdecea;border-left:4px solid
#b3261e;padding:.6rem;border-radius:.3rem}.done{font-size:2rem;text-align:center;
margin:3rem 0}dl{background:#fff;border-radius:.6rem;padding:.6rem .8rem}dt{font-weight:600}
dd{margin:0 0 .6rem}
""".strip()

# the link's fragment into the form, posted; the fragment dropped from the address bar
SCRIPT = (
    "(function(){var h=location.hash.slice(1);if(!h)return;"
    'history.replaceState(null,"",location.pathname);'
    'var f=document.getElementById("code-form");'
    "f.elements.code.value=decodeURIComponent(h);f.submit();})();"
)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {_sha256(SCRIPT)}; style-src {_sha256(STYLE)};"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


# the printed sheet: its own print stylesheet, no script, nothing from elsewhere
SHEET_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
}


def page(mode: str, **context: Any) -> str:
    """The voting page in one of its steps: enter (the code), ballot, review, done."""
    return TEMPLATES.get_template("vote.html").render(
        mode=mode, style=STYLE, script=SCRIPT, **context
    )


def qr_svg(url: str) -> str:
    code = segno.make(url, error="m", micro=False)
    svg: str = code.svg_inline(scale=3, dark="#000", light="#fff", omitsize=False)
    return svg


def vote_link(base_url: str, code: str) -> str:
    """The voting page with the code in the fragment: never sent to a server, never logged."""
    return f"{base_url.rstrip('/')}/vote#{code}"


def slips_sheet(
    view: dict[str, Any], slips: list[dict[str, Any]], base_url: str, back: str | None = None
) -> str:
    """The A4 sheet of cut-out slips: named raters' (masked name) first, then the anonymous
    ones in an order drawn at random, so a slip's place says nothing of whom it was made for.
    `back`: the page to return to (a 返回 link on screen, not printed)."""
    named = [s for s in slips if s.get("name")]
    anonymous = [s for s in slips if not s.get("name")]
    secrets.SystemRandom().shuffle(anonymous)
    shown = [
        {**s, "link": vote_link(base_url, s["code"]), "qr": qr_svg(vote_link(base_url, s["code"]))}
        for s in [*named, *anonymous]
    ]
    return TEMPLATES.get_template("slips.html").render(
        view=view,
        slips=shown,
        base=base_url.rstrip("/"),
        sms=sms_summary(slips),
        back=back,
        closes_on=zh.day(view.get("closes_on")),
    )


def sms_summary(slips: list[dict[str, Any]]) -> dict[str, int] | None:
    """How many slips went by SMS, failed to, and have no phone to go to; None when none was
    asked to go by SMS (the sheet then says nothing of it)."""
    if not any(s.get("by_sms") or s.get("sms_failed") for s in slips):
        return None
    return {
        "sent": sum(1 for s in slips if s.get("by_sms")),
        "failed": sum(1 for s in slips if s.get("sms_failed")),
        "no_phone": sum(1 for s in slips if not s.get("phone")),
    }
