"""What a person reads is in simplified Chinese, said one way (shared/zh.py): dates, periods,
labels; and no traditional character is shipped in a page, a workbook or a label."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.evaluation.aggregates import tally
from shared import zh

ROOT = Path(__file__).resolve().parents[2]

# the traditional forms of the characters this project writes (made once with OpenCC's s2t
# over every shipped file); none of them belongs in what we ship
TRADITIONAL = set(
    "並個價優兒內冊別刪創劃劉動務匯參吳呂員問單國圍報場壓壘壩夠夾孫學實寧對導層崗師帶幹廣張強"
    "復愛態戰戶掃揮據擬數時暫書會東楊業標機欄權決況減測準溫滯滲滿灘為無燈爭狀現產畝異發盞盡"
    "監眾確碼筆節範簡紀約紅級組結給編縣績織繞羅習聯職臺與興華蓋蕭蘇蘭號術補裝裡見規計記訪設許評"
    "話該詳認課調談請諾講謝議護責質賬趙踐軍辦農進過選還鄉鄧鄭釘銷鋒錄鎮開間關陳陽隨雙韓頁項領"
    "頭題類顯風養馬馮體鬥麗黃點黨稱職較"
)


def shipped() -> list[Path]:
    files: list[Path] = []
    for top in ("services", "shared", "gongkai"):
        for suffix in ("*.py", "*.html", "*.sql"):
            files += (ROOT / top).rglob(suffix)
    return files


def test_nothing_shipped_is_written_in_traditional_characters() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in shipped()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TRADITIONAL & set(line) and path.name != "zh.py"
    ]
    assert found == []


def test_the_seeds_scales_are_labelled_in_simplified_chinese() -> None:
    labels = [
        g.label for s in (tally.PUBLIC_SATISFACTION, tally.MEMBER_APPRAISAL) for g in s.grades
    ]
    assert labels == ["满意", "基本满意", "不满意", "优秀", "合格", "基本合格", "不合格"]
    # a label an older event wrote in traditional characters reads simplified
    assert [zh.simplified(t) for t in ("滿意", "基本滿意", "不滿意", "優秀")] == labels[:4]


def test_dates_are_said_the_chinese_way_in_local_time() -> None:
    beijing = timezone(timedelta(hours=8))
    assert zh.day(date(2027, 3, 15)) == "2027年3月15日"
    assert zh.day("2027-03-05") == "2027年3月5日"
    # 16:30 UTC on March 14 is already March 15 in Beijing
    assert zh.day(datetime(2027, 3, 14, 16, 30, tzinfo=UTC), beijing) == "2027年3月15日"
    assert zh.moment(datetime(2027, 3, 14, 16, 30, tzinfo=UTC), beijing) == "2027年3月15日 00:30"
    assert zh.day(None) == ""


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("2026-B6", "2026年11–12月"),
        ("2027-B1", "2027年1–2月"),
        ("2027Q1", "2027年第一季度"),
        ("2027Q4", "2027年第四季度"),
        ("2027-03", "2027年3月"),
        ("2027-H2", "2027年下半年"),
        ("2027", "2027年"),
        ("ad hoc", "ad hoc"),
    ],
)
def test_periods_are_readable(code: str, said: str) -> None:
    assert zh.period(code) == said


def test_codes_read_in_chinese_and_unknown_codes_as_they_are() -> None:
    assert zh.label("open") == "未销号"
    assert zh.label("satisfaction_not_rated") == "未开展满意度测评"
    assert zh.labels(["problem_not_solved", "public_not_satisfied"]) == "问题未确认解决；群众不满意"
    assert zh.label("something_new") == "something_new"
    assert zh.percent(0.8126) == "81.3%"
    assert zh.percent(1) == "100.0%"


def test_a_deliverys_failure_reads_in_chinese() -> None:
    """失败推送: what the delivery loop recorded, as a clerk reads it (the text itself when it
    is not one the county knows)."""
    no_account = "SmsError: NoAccount: no SMS account is configured (GONGKAI_SMS_PROVIDER)"
    assert zh.failure(no_account).startswith("未配置短信服务账号")
    assert zh.failure("404") == "对方服务器拒收（HTTP 404）：请检查渠道设置后重新推送。"
    assert zh.failure("RuntimeError: the channel was retired").startswith("推送渠道已停用")
    assert "isv.BUSINESS_LIMIT_CONTROL" in zh.failure(
        "SmsError: isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控"
    )
    assert zh.failure("ValueError: odd") == "ValueError: odd"
    assert zh.failure(None) == ""
