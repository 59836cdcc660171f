"""What a person reads, in simplified Chinese: the one place for labels of codes, dates and
periods (the board, bulletins, notices, the ledger workbook, results workbooks, pledge
letters and the labels an API returns beside its codes).

Ids and codes stay as they are in the API and the events; these helpers only say them the
way a township reads them: 2027年3月15日 (in local time), 2026年11–12月 (not `2026-B6`),
2027年第一季度 (not `2027Q1`), 未销号 (not `open`). Pure; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import Any

LABELS: dict[str, str] = {
    # review occasions (R1)
    "organisation_life_meeting": "组织生活会",
    "secretaries_meeting": "支部书记会",
    "members_meeting": "党员大会",
    "ad_hoc": "不定期",
    # grades of the seed's scales (E7) and of reviews (R3)
    "satisfied": "满意",
    "mostly_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "excellent": "优秀",
    "qualified": "合格",
    "basically_qualified": "基本合格",
    "unqualified": "不合格",
    # review dimensions (R3)
    "key_work": "重点工作",
    "leadership_team_building": "班子建设",
    "grassroots_organisation_building": "基层组织建设",
    "party_conduct": "党风廉政",
    "solving_public_problems": "为民办实事",
    "work_approach": "工作作风",
    "execution": "执行力",
    "efficiency_and_results": "工作效率和成效",
    "pledge_fulfilment": "承诺践诺",
    "quarterly": "季度点评",
    # the ledger (P8, P10)
    "open": "未销号",
    "closed": "已销号",
    "branch": "党组织",
    "member": "党员",
    "not_reported_done": "未报告完成",
    "problem_not_solved": "问题未确认解决",
    "implementation_not_verified": "落实情况未核实",
    "satisfaction_pending": "满意度测评未出结果",
    "satisfaction_not_rated": "未开展满意度测评",
    "public_not_satisfied": "群众不满意",
    "problem_solved": "问题已解决",
    "implementation_verified": "落实已核实",
    "public_satisfied": "群众满意",
    # what the board and the feed publish (N1, X2)
    "pledge_published": "公开承诺",
    "item_closed": "承诺事项销号",
    "review": "领导点评",
    "guidance_visit": "联系点指导",
    "round_results": "群众评议结果",
    "rating_results": "评星定级结果",
    "commendation": "评选表彰",
    "bulletin": "督查通报",
    # pledge standards and statuses (P1–P7)
    "five_good": "五个好",
    "five_take_the_lead": "五带头",
    "drafting": "起草中",
    "under_review": "审核中",
    "returned": "退回修改",
    "approved": "已审定",
    "published": "已公开",
    # posts (roles), as a refusal names them
    "county_admin": "县管理员",
    "township_committee": "乡镇党委",
    "township_office": "乡镇创先办",
    "branch_secretary": "支部书记",
    "auditor": "审计员",
}

# labels written in traditional characters by earlier versions (events keep them as written;
# whoever reads them gets the simplified form)
SIMPLIFIED = {"滿意": "满意", "基本滿意": "基本满意", "不滿意": "不满意", "優秀": "优秀"}

_NUMERALS = "〇一二三四五六七八九十"
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_BIMONTH = re.compile(r"^(\d{4})-B([1-6])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-?H([12])$")


def label(code: Any) -> str:
    """The Chinese a person reads for a code (a code it does not know is shown as it is)."""
    text = str(code)
    return LABELS.get(text, SIMPLIFIED.get(text, text))


def labels(codes: Iterable[Any], sep: str = "；") -> str:
    return sep.join(label(c) for c in codes)


def simplified(text: str) -> str:
    """A scale's label as a person reads it (labels kept in traditional characters by older
    events read in simplified ones)."""
    return SIMPLIFIED.get(text, text)


def day(value: date | datetime | str | None, tz: tzinfo | None = None) -> str:
    """2027年3月15日; a moment is first taken to local time (`tz`); '' for nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = (
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            if "T" in value
            else (date.fromisoformat(value))
        )
    if isinstance(value, datetime):
        value = (value.astimezone(tz) if tz and value.tzinfo else value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def moment(value: datetime, tz: tzinfo | None = None) -> str:
    """2027年3月15日 14:05, in local time (`tz`)."""
    local = value.astimezone(tz) if tz and value.tzinfo else value
    return f"{day(local)} {local:%H:%M}"


def period(code: str) -> str:
    """A period's code as a person reads it: 2027Q1 → 2027年第一季度, 2026-B6 → 2026年11–12月,
    2027-03 → 2027年3月, 2027-H1 → 2027年上半年, 2027 → 2027年; anything else as it is."""
    text = str(code)
    if m := _QUARTER.match(text):
        return f"{m.group(1)}年第{_NUMERALS[int(m.group(2))]}季度"
    if m := _BIMONTH.match(text):
        first = 2 * int(m.group(2)) - 1
        return f"{m.group(1)}年{first}–{first + 1}月"
    if m := _MONTH.match(text):
        return f"{m.group(1)}年{int(m.group(2))}月"
    if m := _HALF.match(text):
        return f"{m.group(1)}年{'上' if m.group(2) == '1' else '下'}半年"
    if m := _YEAR.match(text):
        return f"{m.group(1)}年"
    return text


def percent(rate: float | None, digits: int = 1) -> str:
    """0.8 → 80.0%; 0.8126 → 81.3%."""
    return f"{(rate or 0) * 100:.{digits}f}%"


# what to fix in a field, by the validation error's code (pydantic's error types): the
# `reason` of a 422 problem's `errors[]`, beside the `code` a client may map itself
FIXES = {
    "missing": "请填写此项。",
    "string_too_short": "内容太短，请填写完整。",
    "string_too_long": "内容太长，请精简。",
    "string_pattern_mismatch": "格式不对。",
    "date_from_datetime_parsing": "日期格式不对，例如 2027-03-15。",
    "date_parsing": "日期格式不对，例如 2027-03-15。",
    "int_parsing": "请填写数字。",
    "enum": "请从列表中选择。",
    "literal_error": "请从列表中选择。",
    "too_short": "内容太短或项目太少，请补充完整。",  # text with a length limit, and lists
    "too_long": "内容太长或项目太多，请精简。",
    "value_error": "填写的内容不符合要求。",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    """Whether a text is written for a person here (has a CJK character), not a code or an
    English message of a library."""
    return bool(_CJK.search(text))


def fix(code: str, message: str = "") -> str:
    """What to fix in a field: a validator's own Chinese message (`Value error, …` without its
    prefix), else the sentence for the error's code, else a general one."""
    own = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if chinese(own):
        return own
    return FIXES.get(code, FIXES["value_error"])


# why a delivery failed, as a clerk reads it: the delivery loop records the technical outcome
# (an HTTP status, "SmsError: <code>: …", "<Exception>: …"); the known ones, in Chinese
FAILURES = {
    # the SMS account (a cloud provider's AccessKey, approved signature and templates) is the
    # installation's, set where it is deployed (docs/operations.md, GONGKAI_SMS_*), not on a page
    "NoAccount": (
        "未配置短信服务账号：短信服务账号由系统运维人员在通知服务的部署配置中设置"
        "（见运维手册“短信”一节），请联系运维人员开通短信后重新推送。"
    ),
    "NoPhone": "收件人没有登记手机号：请在账号页登记后重新推送。",
    "Network": "连不上短信服务：网络恢复后重新推送。",
    "the channel was retired": "推送渠道已停用：请改用其他渠道。",
    "ConnectError": "连不上对方服务器：请检查渠道地址和网络后重新推送。",
    "ConnectTimeout": "连接对方服务器超时：请检查网络后重新推送。",
    "ReadTimeout": "对方服务器长时间没有回应：请稍后重新推送。",
}


def failure(outcome: str | None) -> str:
    """A delivery's last failure in Chinese (the recorded text itself when it is not known)."""
    text = (outcome or "").strip()
    if not text:
        return ""
    if text.isdigit():
        return f"对方服务器拒收（HTTP {text}）：请检查渠道设置后重新推送。"
    for key, sentence in FAILURES.items():
        if key in text:
            return sentence
    if text.startswith("SmsError: "):
        return f"短信服务商拒绝发送（{text.split(': ')[1]}）：请核对短信签名、模板和余额。"
    return text
