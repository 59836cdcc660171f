"""The round's and check's pages say how many invitation texts the provider refused
(turnout's `sms_refused`), beside those it accepted."""

from __future__ import annotations

from typing import Any

from tests.unit.test_console_evalpages import TEMPLATES


def turnout_line(**invitations: Any) -> str:
    macros = TEMPLATES.get_template("macros.html").module
    return str(macros.sms_turnout({"sms": True} | invitations, 0))  # type: ignore[attr-defined]


def test_the_pages_show_the_texts_the_provider_refused() -> None:
    assert "短信被拒收" not in turnout_line(by_sms=1, sms_refused=0)
    refused = turnout_line(by_sms=1, sms_refused=2)
    assert "短信发送投票链接 1 人 · 短信被拒收 2 人（请把打印的邀请码交给本人）" in refused
