"""Invitations by SMS, erasures and the export's days, without servers: the round's page
offers SMS only where the county has it (and reissue by SMS only to a rater with a phone), the
township office alone is offered a rater's erasure, the audits list erasures without personal
data, the export's days become the API's times (a bad one refused beside its field); the
evaluation service lets the office of the person's own township erase, no other, and an SMS
the channel refuses marks its slip and loses none of the answer's codes. In a browser against
the real services: tests/e2e/test_console_smsinvite.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.console.calls import Refused
from services.console.pages.audit import export_span
from services.console.pages.rounds import erasures_shown, without_phone
from services.evaluation import handlers as shared_handlers
from services.evaluation.api import voting as voting_api
from services.evaluation.documents.voting import slips_sheet
from services.evaluation.rounds import handlers as round_handlers
from shared.auth import Role
from shared.errors import Forbidden
from shared.sms import SmsError
from tests.unit import test_evaluation_handlers as eh
from tests.unit.test_console_evalpages import ROUND, render

TURNOUT = {"registered": 2, "voted": 0, "rate": 0.0, "by_organisation": [], "by_channel": []}
RATERS = [
    {"rater_id": "rt-1", "rater_kind": "public", "name": "李秀英", "phone": "139****0001"},
    {"rater_id": "rt-2", "rater_kind": "public", "name": "王大山", "phone": None},
    {"rater_id": "rt-3", "rater_kind": "public", "name": "已删除", "erased": True},
    {"rater_id": "rt-4", "rater_kind": "public", "name": None, "phone": None},  # anonymous
]


def round_page(role: str = "township_office", sms: bool = True, by_sms: int = 0) -> str:
    invitations = {"invited": 2, "reissued": 0, "voted": 0, "in_urn": 0}
    return render(
        "round.html",
        role=role,
        round=ROUND | {"organiser_id": "t-1"},
        organiser=True,
        turnout=TURNOUT,
        invitations=invitations | {"sms": sms, "by_sms": by_sms},
        raters=[
            {"member_id": None, "voted": False, "erased": False, "invited": True} | r
            for r in RATERS
        ],
        member_names={},
        raters_total=len(RATERS),
        no_phone=without_phone(RATERS),
        offset=0,
        page_size=50,
        imports=[],
        kinds={"public": "群众"},
        channels={},
        refused=None,
        filled={},
    )


def test_sms_is_offered_and_counted_only_where_the_county_has_an_sms_channel() -> None:
    html = round_page(sms=True, by_sms=1)
    assert "同时短信发送链接（登记了手机号的评议人）" in html
    assert "短信发送投票链接 1 人 · 没有登记手机号 2 人" in html  # not the erased
    assert html.count("补发并短信发送") == 1  # 李秀英 only: the one with a phone
    none = round_page(sms=False)
    assert "同时短信发送" not in none
    assert "补发并短信发送" not in none
    assert 'id="sms-turnout"' not in none
    assert none.count("补发邀请码") == 4


def test_only_the_township_office_is_offered_to_erase_a_raters_personal_data() -> None:
    html = round_page()
    assert html.count("删除个人信息") == 2  # 李秀英 and 王大山: not the erased, not anonymous
    assert 'href="/rounds/r-1/raters/rt-1/erasure"' in html
    assert "删除个人信息" not in round_page(role="branch_secretary")


def test_the_confirmation_says_what_goes_and_what_stays() -> None:
    rater = RATERS[0] | {"id_number": None, "voted": True, "erased": False}
    html = render("erasure.html", rater=rater, back="/checks/c-1", refused=None, filled={})
    assert "139****0001" in html
    assert "无法恢复" in html
    assert "选票保留不变" in html
    assert '<a href="/checks/c-1">取消</a>' in html
    done = render("erasure.html", rater=RATERS[2], back="/", refused=None, filled={})
    assert "确认删除" not in done


def test_the_audits_list_erasures_by_when_and_which_post_without_personal_data() -> None:
    audit = {
        "consistent": True,
        "registered_raters": 2,
        "raters_who_voted": 1,
        "participations": 1,
        "ballots": 1,
        "in_urn": 0,
        "problems": [],
        "erasures": [
            {
                "rater_id": "rt-1",
                "erased_at": "2027-03-15T06:05:00Z",
                "actor": "p-clerk",
                "actor_role": "township_office",
            }
        ],
    }
    check = {
        "title": "硬化村道",
        "township_id": "t-1",
        "opens_on": "2027-03-01",
        "closes_on": "2027-03-20",
        "status": "closed",
        "verdict": None,
    }
    shown = erasures_shown(audit)
    assert shown[0]["at"] == "2027年3月15日 14:05"  # local time
    html = render("audit_check.html", role="auditor", check=check, audit=audit, erasures=shown)
    row = html[html.index('id="erasures"') :]
    assert "rt-1" in row
    assert "乡镇创先办" in row
    assert "p-clerk" in row
    none = render(
        "round_audit.html", role="auditor", round=ROUND, audit=audit | {"subjects": []}, erasures=[]
    )
    assert "没有评议人的个人信息被删除" in none


def test_the_exports_days_are_the_apis_times_in_local_time() -> None:
    assert export_span("", "") == {}
    assert export_span("2027-03-01", "2027-03-31") == {
        "from": "2027-03-01T00:00:00+08:00",
        "to": "2027-03-31T23:59:59.999999+08:00",
    }
    assert export_span("", " 2027-03-31 ") == {"to": "2027-03-31T23:59:59.999999+08:00"}
    with pytest.raises(Refused) as wrong:
        export_span("2027-3-1x", "")
    assert wrong.value.fields == {"from": "日期格式不对，例如 2027-03-15。"}
    with pytest.raises(Refused) as backwards:
        export_span("2027-03-02", "2027-03-01")
    assert backwards.value.fields == {"to": "截止日期不能早于起始日期。"}


async def test_the_office_of_the_persons_own_township_erases_and_no_other() -> None:
    m, ports = eh.world()
    round_id = await eh.opened(m, eh.township_round(), eh.OFFICE)
    cmd = eh.raters({"kind": "public", "name": "张三"})
    answer = await eh.run(
        m, eh.OFFICE, lambda u: round_handlers.register_raters(u, round_id, cmd, eh.OFFICE)
    )
    [person] = answer["rater_ids"]
    elsewhere = eh.who(Role.TOWNSHIP_OFFICE, "t2")
    await eh.refused(
        m, Forbidden, elsewhere, lambda u: shared_handlers.erase_person(u, person, elsewhere)
    )
    await eh.run(m, eh.OFFICE, lambda u: shared_handlers.erase_person(u, person, eh.OFFICE))
    assert eh.of(m, "PersonalDataErased") == [{"person_id": person}]
    assert person not in ports.keys.keys


class RefusingSms:
    """The county's SMS channel refusing every message, as a provider's limit would."""

    async def send(
        self, phone: str, template: str, params: dict[str, str], *, sign_name: str | None = None
    ) -> None:
        raise SmsError("isv.BUSINESS_LIMIT_CONTROL", "limit", retryable=True)


async def test_a_refused_sms_marks_its_slip_and_loses_none_of_the_codes() -> None:
    runtime = SimpleNamespace(
        components={"sms": RefusingSms()},
        settings=SimpleNamespace(public_base_url="https://gk.example"),
    )
    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtime=runtime)))
    view = {"township": "红沙梁镇", "title": "硬化村道", "closes_on": "2027-03-20"}
    slips = [
        {
            "rater_id": "rt-1",
            "code": "AAAA-BBBB-CCCC-DDDD",
            "name": "李*英",
            "phone": "13912340001",
        },
        {"rater_id": "rt-2", "code": "EEEE-FFFF-GGGG-HHHH", "name": "王*山", "phone": None},
    ]
    answer = {"id": "c-1", "view": view, "invitations": [s | {"by_sms": False} for s in slips]}
    answer["invitations"][0]["by_sms"] = True
    await voting_api._send(request, answer)
    sent, paper = answer["invitations"]
    assert (sent["by_sms"], sent["sms_failed"]) == (False, True)
    assert "sms_failed" not in paper
    sheet = slips_sheet(view, answer["invitations"], "https://gk.example")
    assert "短信发送投票链接 0 人，发送失败 1 人；没有登记手机号 1 人" in sheet
    assert "AAAA-BBBB-CCCC-DDDD" in sheet
    assert "EEEE-FFFF-GGGG-HHHH" in sheet
    assert "投票链接已短信发送" not in sheet
    assert 'id="sms"' not in slips_sheet(view, slips, "https://gk.example")
