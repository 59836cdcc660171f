"""The notification service's pure parts: the default calendar (N3), notices issued once,
deliveries' back-off and dead letters (N5), the signatures of webhooks and robots."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notification.aggregates import BACKOFF, Calendar, DeadlineNotices, Delivery
from services.notification.aggregates.calendar import (
    default_deadlines,
    follow_owners,
    owned_dates,
    phase,
)
from services.notification.aggregates.notices import grouped, notice_text
from services.notification.delivery.channels import dingtalk_url, sign_webhook, text_of
from services.notification.events import (
    DeadlineKind,
    DeliveryAttemptFailed,
    DeliveryGivenUp,
    NoticeKind,
)
from shared.errors import InvalidInput, InvalidState

NOW = datetime(2027, 5, 1, 2, 0, tzinfo=UTC)
DRAFTING = next(d for d in default_deadlines(2027) if d.kind is DeadlineKind.DRAFTING)


def test_the_default_calendar_of_a_year() -> None:
    deadlines = {d.deadline_id: d for d in default_deadlines(2027)}
    assert len(deadlines) == 27 + 4 + 12  # and each quarter's push, each month's meeting
    assert deadlines["quarterly_push-2027Q2"].due_on == date(2027, 6, 30)
    assert deadlines["quarterly_push-2027Q2"].title == "2027年第二季度公开承诺推进"
    assert deadlines["journal_meeting-2027-02"].due_on == date(2027, 2, 28)
    assert deadlines["journal_meeting-2027-02"].title == "2027年2月党员纪实讲评"
    assert deadlines["drafting-2027"].due_on == date(2027, 3, 15)
    # P7: every approved pledge published, sixteen days after drafting by default
    assert deadlines["publication-2027"].due_on == date(2027, 3, 31)
    assert deadlines["publication-2027"].kind is DeadlineKind.PUBLICATION
    moved_drafting = {d.deadline_id: d for d in default_deadlines(2027, date(2027, 3, 20))}
    assert moved_drafting["publication-2027"].due_on == date(2027, 4, 5)
    own = {d.deadline_id: d for d in default_deadlines(2027, None, None, date(2027, 4, 20))}
    assert own["publication-2027"].due_on == date(2027, 4, 20)
    assert deadlines["evaluation_round-2027H1"].due_on == date(2027, 7, 10)
    assert deadlines["evaluation_round-2027H2"].due_on == date(2028, 1, 5)
    assert deadlines["selection-2027"].due_on == date(2027, 7, 1)
    assert deadlines["quarterly_review-2027Q1"].due_on == date(2027, 3, 31)
    assert deadlines["quarterly_review-2027Q4"].due_on == date(2027, 12, 31)
    assert deadlines["member_rating-2027-12"].due_on == date(2028, 1, 5)
    assert deadlines["branch_rating-2027-B6"].due_on == date(2028, 1, 10)
    # titles a person reads: periods the Chinese way (shared/zh.py)
    assert deadlines["quarterly_review-2027Q1"].title == "2027年第一季度点评"
    assert deadlines["branch_rating-2027-B6"].title == "2027年11–12月支部评星结果公示"
    assert deadlines["member_rating-2027-03"].title == "2027年3月党员评星结果公示"
    title, body = notice_text(deadlines["drafting-2027"], NoticeKind.REMINDER, "李秀英")
    assert (title, body) == (
        "【提醒】2027年公开承诺拟定",
        "李秀英: 请于2027年3月15日前完成2027年公开承诺拟定。",
    )
    kinds = [d.kind for d in deadlines.values()]
    assert kinds.count(DeadlineKind.MEMBER_RATING) == 12
    assert kinds.count(DeadlineKind.BRANCH_RATING) == 6
    # the county's pledge calendar moves the drafting deadline
    moved = {d.deadline_id: d for d in default_deadlines(2027, date(2027, 3, 20))}
    assert moved["drafting-2027"].due_on == date(2027, 3, 20)
    # and the evaluation service's calendar moves the rounds (E4)
    rounds = (date(2027, 6, 25), date(2027, 12, 28))
    moved = {d.deadline_id: d for d in default_deadlines(2027, None, rounds)}
    assert moved["evaluation_round-2027H1"].due_on == date(2027, 6, 25)
    assert moved["evaluation_round-2027H2"].due_on == date(2027, 12, 28)
    assert moved["drafting-2027"].due_on == date(2027, 3, 15)


def test_the_other_services_deadlines_stay_on_their_owners_dates() -> None:
    """A calendar set here keeps no second copy of the drafting deadline (the pledge
    service's) or of the rounds' closing dates (the evaluation service's)."""
    kept = default_deadlines(2027)  # set here while the owners had their defaults
    owned = owned_dates(2027, date(2027, 3, 20), (date(2027, 6, 25), date(2028, 1, 3)))
    followed = {d.deadline_id: d for d in follow_owners(kept, owned)}
    assert followed["drafting-2027"].due_on == date(2027, 3, 20)
    assert followed["drafting-2027"].remind_days_before == 7
    assert followed["evaluation_round-2027H1"].due_on == date(2027, 6, 25)
    assert followed["evaluation_round-2027H2"].due_on == date(2028, 1, 3)
    assert followed["selection-2027"].due_on == date(2027, 7, 1)
    dates = [d.due_on for d in follow_owners(kept, owned)]
    assert dates == sorted(dates)

    calendar = Calendar("calendar-minqin-2027", "minqin")
    calendar.set("minqin", 2027, follow_owners(kept, owned), owned)  # their dates: accepted
    moved = tuple(
        d.model_copy(update={"due_on": date(2027, 3, 25)}) if d.kind is DeadlineKind.DRAFTING else d
        for d in kept
    )
    with pytest.raises(InvalidInput, match="承诺日历") as refused:
        calendar.set("minqin", 2027, moved, owned)
    at = next(i for i, d in enumerate(moved) if d.kind is DeadlineKind.DRAFTING)
    assert refused.value.extra["errors"] == [
        {"field": f"deadlines.{at}.due_on", "reason": refused.value.detail}
    ]
    with pytest.raises(InvalidInput, match="评议日历"):
        calendar.set(
            "minqin", 2027, kept, owned_dates(2027, None, (date(2027, 6, 25), date(2028, 1, 5)))
        )
    assert len(calendar.pending) == 1


def test_one_notice_per_recipient_names_all_it_is_missing() -> None:
    found = [("s-1", "红沙梁村党支部"), ("s-1", "张建国"), ("m-1", "李秀英")]
    assert grouped(found) == [("s-1", "红沙梁村党支部、张建国"), ("m-1", "李秀英")]
    many = grouped([("s-1", f"党员{n}") for n in range(12)])
    assert many == [("s-1", "、".join(f"党员{n}" for n in range(10)) + "等12个对象")]


def test_the_phase_of_a_deadline() -> None:
    drafting = DRAFTING
    assert phase(drafting, date(2027, 3, 7)) is None
    assert phase(drafting, date(2027, 3, 8)) == "reminder"
    assert phase(drafting, date(2027, 3, 15)) == "reminder"
    assert phase(drafting, date(2027, 3, 16)) == "overdue"


def test_a_notice_is_issued_once_per_kind_and_recipient() -> None:
    drafting = DRAFTING
    notices = DeadlineNotices("deadline-x", "t-1")

    def issue(kind: NoticeKind, recipient: str) -> bool:
        return notices.issue(
            notice_id=f"n-{len(notices.pending)}",
            county_id="c",
            township_id="t-1",
            deadline=drafting,
            kind=kind,
            recipient=recipient,
            title="t",
            body="b",
        )

    assert issue(NoticeKind.REMINDER, "m-1")
    assert not issue(NoticeKind.REMINDER, "m-1")
    assert issue(NoticeKind.OVERDUE, "m-1")
    assert issue(NoticeKind.REMINDER, "m-2")
    replayed = DeadlineNotices.replay("deadline-x", "t-1", notices.pending)
    assert not replayed.issue(
        notice_id="n-9",
        county_id="c",
        township_id="t-1",
        deadline=drafting,
        kind=NoticeKind.OVERDUE,
        recipient="m-1",
        title="t",
        body="b",
    )
    notices.mark_read("n-0", "m-1")
    notices.mark_read("n-0", "m-1")
    assert len(notices.pending) == 4


def delivery() -> Delivery:
    return Delivery.schedule("dl-1", "ch-1", "t-1", "r-1", "bulletin", "s", {}, NOW)


def test_a_failing_delivery_backs_off_then_is_given_up_and_can_be_redelivered() -> None:
    d = delivery()
    now = NOW
    for attempt, wait in enumerate(BACKOFF, start=1):
        d.failed("HTTP 503", now)
        event = d.pending[-1]
        assert isinstance(event, DeliveryAttemptFailed)
        assert (event.attempt, event.retry_at) == (attempt, now + wait)
        now = event.retry_at
    d.failed("HTTP 503", now)
    assert isinstance(d.pending[-1], DeliveryGivenUp)
    assert d.status == "dead"
    with pytest.raises(InvalidState):
        d.succeeded(200)
    d.requeue("admin", now)
    assert (d.status, d.attempts) == ("pending", 0)
    d.succeeded(204)
    assert d.status == "delivered"
    with pytest.raises(InvalidState):
        d.requeue("admin", now)
    with pytest.raises(InvalidState):
        d.failed("late", now)


def test_standard_webhooks_signature_matches_the_specification_example() -> None:
    # the example of the Standard Webhooks specification's reference libraries
    signature = sign_webhook(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_dingtalk_signed_url() -> None:
    url = dingtalk_url(
        "https://oapi.dingtalk.com/robot/send?access_token=t", "SECabc", 1700000000000
    )
    query = parse_qs(urlsplit(url).query)
    digest = hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()
    assert query == {
        "access_token": ["t"],
        "timestamp": ["1700000000000"],
        "sign": [base64.b64encode(digest).decode()],
    }
    assert (
        dingtalk_url("https://x/robot?access_token=t", None, 1) == "https://x/robot?access_token=t"
    )


def test_message_texts() -> None:
    card = {
        "letter_no": "L-1",
        "items": [{"title": "修路", "target": "2公里", "due_date": "2027-10-01"}],
    }
    assert "修路（目标：2公里，时限：2027年10月1日）" in text_of("pledge_published", "s", card)
    closed = {"title": "修路", "closing_reasons": ["问题已解决: 通车"]}
    assert text_of("item_closed", "s", closed) == "修路 已销号：问题已解决: 通车"
    assert text_of("commendation", "先进党组织", {}) == "先进党组织"
    assert timedelta(0) < BACKOFF[0]


def test_the_board_shows_codes_in_chinese() -> None:
    from services.notification.documents.board import TEMPLATES

    zh = TEMPLATES.filters["zh"]
    assert (zh("organisation_life_meeting"), zh("basically_qualified")) == (
        "组织生活会",
        "基本合格",
    )
    assert zh("something-new") == "something-new"  # an unknown code is shown as it is


def test_a_bulletin_names_pledges_approved_not_published_and_drafted_late() -> None:
    from services.notification.aggregates.bulletin import branch_record

    counts = {
        "branch_id": "b1",
        "name": "红沙梁村党支部",
        "secretary": "刘书记",
        "pledges": 3,
        "reviews": 1,
        "journals": 2,
        "visits": 1,
        "open_items": 2,
        "overdue_items": 0,
        "members": 2,
    }
    assert branch_record(counts).gaps == ()  # what older compilations had: no such counts
    line = branch_record({**counts, "unpublished": 2, "drafted_late": 1})
    assert line.gaps == ("已审定未公开 2 份", "定诺逾期 1 份")
    assert (line.approved_unpublished, line.drafted_late) == (2, 1)


def test_a_bulletin_says_each_secretarys_work_and_the_branchs_activities_n4() -> None:
    from services.notification.queries import branch_work

    counts = {
        "secretary": "刘书记",
        "secretary_pledge": "published",
        "secretary_journal": 0,
        "journals": 2,
        "members": 3,
        "pledges": 4,
        "reviews": 1,
        "journal_entries": 5,
        "ratings": 1,
        "visits": 2,
    }
    said = branch_work(counts)
    assert said["secretary_work"] == [
        "本人承诺已公开",
        "本人纪实未讲评",
        "组织党员纪实讲评 2/3 人",
        "公开本支部承诺 4 份",
    ]
    assert said["activities"] == [
        "领导点评 1 次",
        "党员纪实 5 篇",
        "评星定级 1 次",
        "联系点指导 2 次",
    ]
    assert branch_work({**counts, "secretary": None})["secretary_work"] == []  # 书记空缺


def test_the_township_page_shows_a_bulletin_as_the_seed_lists_it() -> None:
    from services.notification.documents.board import render

    line = {
        "branch_name": "红沙梁村党支部",
        "secretary_name": "刘书记",
        "pledges_published": 2,
        "reviews_held": 1,
        "journals_presented": 2,
        "guidance_visits": 2,
        "overdue_items": 0,
        "gaps": ["已审定未公开 1 份"],
        "secretary_work": ["本人承诺已公开", "本人纪实已讲评"],
        "activities": ["领导点评 1 次"],
        "publicity": ["公开承诺 2 条"],
    }
    bulletin = {
        "title": "2027年3月督查通报",
        "issued_on": date(2027, 4, 1),
        "note": "",
        "branches": [line],
        "guidance": [
            {"cadre": "王镇长", "branch_id": "b1", "branch_name": "红沙梁村党支部", "visits": 2}
        ],
        "publicity": ["群众评议结果 1 条"],
    }
    township = {
        "name": "红沙梁镇",
        "county_id": "minqin",
        "county_name": "民勤县",
        "branches": [],
        "bulletins": [bulletin, {**bulletin, "branches": [], "guidance": [], "publicity": []}],
        "rounds": [],
        "ratings": [{"period": "2026-B6", "published_on": date(2027, 1, 10), "results": []}],
        "notices": [],
        "commendations": [],
    }
    page = render("township.html", "http://board", UTC, t=township)
    for said in (
        "2027年3月督查通报",
        "（2027年4月1日）",
        "书记刘书记：本人承诺已公开，本人纪实已讲评。",
        "活动：领导点评 1 次。公开：公开承诺 2 条。",
        "王镇长：红沙梁村党支部 2 次",
        "本镇公开：群众评议结果 1 条",
        "已审定未公开 1 份",
        "2026年11–12月",  # the bimonthly rating's period
    ):
        assert said in page, said
    assert "2026-B6" not in page
