"""The evaluation pages' own mechanism, without servers: the paper-ballot grid read from its
form and a refused cell shown beside it, where each import's page leads back to, who is
offered which forms, and the posts refused these pages before any service is asked. The
pages against the real services: tests/e2e/test_console_evalpages.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from services.console.app import create_app
from services.console.calls import Refused
from services.console.pages.imports import back_of
from services.console.pages.rounds import grid_hints, stack_of
from services.console.session import SESSION_COOKIE, Sealer
from services.console.settings import ConsoleSettings
from services.console.web import TEMPLATES
from tests.unit.test_console import a_session

ROUND: dict[str, Any] = {
    "round_id": "r-1",
    "township_id": "t-1",
    "organiser_kind": "township",
    "organiser_id": "t-1",
    "title": "群众评议",
    "year": 2027,
    "half": 1,
    "scale": {"grades": [{"grade": "satisfied", "label": "满意"}]},
    "opens_on": "2027-06-01",
    "closes_on": "2027-07-10",
    "status": "open",
    "held_with": None,
    "subjects": [
        {
            "subject_id": "b-1",
            "subject_name": "红沙梁村党支部",
            "subject_kind": "branch",
            "branch_id": "b-1",
        },
        {
            "subject_id": "b-2",
            "subject_name": "东湖村党支部",
            "subject_kind": "branch",
            "branch_id": "b-2",
        },
    ],
}


def render(template: str, role: str = "township_office", **context: Any) -> str:
    return TEMPLATES.get_template(template).render(
        me=a_session(role=role, org="t-1"),
        menu=[],
        path="/",
        csrf="c",
        new_key=lambda: "k",
        **context,
    )


def test_the_grid_sends_filled_rows_with_every_cell_and_skips_empty_ones() -> None:
    form = {
        "ballots.0.b-1": "satisfied",
        "ballots.0.b-2": "satisfied",
        "ballots.1.b-1": "",
        "ballots.1.b-2": "",
        "ballots.2.b-2": "dissatisfied",  # b-1 left empty: sent empty, the service names it
        "signed.rt-1": "on",
    }
    numbers, ballots = stack_of(form, ["b-1", "b-2"])
    assert numbers == [0, 2]
    assert ballots == [
        {"b-1": "satisfied", "b-2": "satisfied"},
        {"b-1": "", "b-2": "dissatisfied"},
    ]


def test_the_services_refusal_is_put_beside_the_grids_cell_or_its_sign_in_sheet() -> None:
    """The second ballot sent was the form's third row; the sheet's faults beside the sheet."""
    assert grid_hints({"ballots.1.b-1": "格式不对。"}, [0, 2]) == {
        "ballots.2.b-1": "请为这一项选择评价。"
    }
    assert grid_hints({"body": "填写的内容不符合要求。"}, [0]) == {
        "signed": "签到表上勾选的人数须与选票张数相同（每人一张）。"
    }
    assert grid_hints({"participants": "x"}, [])["signed"] == "请勾选签到表上交了选票的人。"
    assert "未登记" in grid_hints({"participants.0": "x"}, [0])["signed"]
    assert "signed" in grid_hints({"ballots.0": "x"}, [0])


def test_a_refused_cell_is_shown_beside_it_with_what_was_chosen_kept() -> None:
    refused = Refused(
        422,
        "填写的内容有误，请按提示修改后再提交。",
        fields={"ballots.2.b-1": "请为这一项选择评价。"},
    )
    html = render(
        "paper.html",
        round=ROUND,
        grades=[("satisfied", "满意"), ("dissatisfied", "不满意")],
        waiting=[{"rater_id": "rt-1", "rater_kind": "public", "name": "王*", "member_id": None}],
        rows=range(3),
        kinds={"public": "群众"},
        refused=refused,
        filled={"ballots.2.b-2": "dissatisfied", "signed.rt-1": "on"},
    )
    assert 'name="ballots.2.b-1" aria-label="第3张 红沙梁村党支部" aria-invalid="true"' in html
    assert '<p class="field-error" id="err-ballots-2-b-1">请为这一项选择评价。</p>' in html
    assert html.count('aria-invalid="true"') == 1
    assert '<option value="dissatisfied" selected>不满意</option>' in html
    assert 'name="signed.rt-1" checked' in html


@pytest.mark.parametrize(
    ("kind", "back"),
    [
        ("round_raters", "/rounds/s-1"),
        ("paper_ballots", "/rounds/s-1"),
        ("check_raters", "/checks/s-1"),
        ("branch_ratings", "/ratings"),
        ("roster", "/roster"),
    ],
)
def test_an_import_leads_back_to_its_page(kind: str, back: str) -> None:
    assert back_of({"kind": kind, "scope_id": "s-1"})[0] == back


@pytest.mark.parametrize(
    ("role", "offered"),
    [("township_office", True), ("branch_secretary", True), ("township_committee", False)],
)
def test_who_organises_is_offered_to_open_a_round(role: str, offered: bool) -> None:
    html = render(
        "rounds.html",
        role,
        rounds=[],
        turnouts={},
        opener=role in ("township_office", "branch_secretary"),
        filled={"year": "2027"},
    )
    assert ('action="/rounds"' in html) is offered


@pytest.mark.parametrize("organiser", [True, False])
def test_only_the_organiser_is_offered_the_rounds_forms(organiser: bool) -> None:
    html = render(
        "round.html",
        round=ROUND,
        organiser=organiser,
        turnout={
            "registered": 3,
            "voted": 1,
            "rate": 1 / 3,
            "by_channel": [{"channel": "paper", "raters": 1}],
            "by_organisation": [
                {"organisation_id": "t-1", "registered": 2, "voted": 1, "rate": 0.5},
                {"organisation_id": "b-2", "registered": 1, "voted": 0, "rate": 0.0},
            ],
        },
        invitations={"invited": 2},
        raters=[],
        raters_total=0,
        offset=0,
        page_size=50,
        imports=[],
        kinds={},
        channels={"paper": "纸质选票"},
        filled={},
    )
    assert "33.3%" in html
    assert '<td data-label="单位">本镇</td>' in html  # turnout by organisation, named
    assert '<td data-label="单位">东湖村党支部</td>' in html
    for form in ("/raters/imports", "/paper", "/closure", "/invitation-sheet"):
        assert (form in html) is organiser


async def test_other_posts_are_refused_the_evaluation_pages_in_chinese(tmp_path: Path) -> None:
    """Refused from the session alone: no service is asked (none listens here)."""
    nowhere = "http://127.0.0.1:9"
    settings = ConsoleSettings(
        session_key_file=tmp_path / "key",
        identity_url=nowhere,
        pledge_url=nowhere,
        evaluation_url=nowhere,
        notification_url=nowhere,
    )
    app = create_app(settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    sealer = Sealer((tmp_path / "key").read_bytes())
    refusals = {
        ("member", "/rounds"): "评议工作页面由乡镇党委、创先办、支部书记和审计员使用",
        ("member", "/ratings"): "评星定级由乡镇党委（评支部）和支部书记（评党员）使用",
        ("township_committee", "/checks"): "满意度测评由乡镇创先办组织",
        ("township_committee", "/rounds/r-1/audit"): "评议审计由审计员进行",
    }
    for (role, path), sentence in refusals.items():
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, sealer.seal_session(a_session(role=role, org="t-1")))
        answer = await client.get(path)
        assert answer.status_code == 403, path
        assert sentence in answer.text


@pytest.mark.parametrize(
    ("status", "verdict", "shown", "forms"),
    [
        ("open", None, "尚未结束", {"/raters", "/ballots", "/closure", "/extension"}),
        ("lapsed", None, "未开展满意度测评", {"/extension"}),  # reopened by a later date
        ("closed", "dissatisfied", "不满意，满意率 50.0%", set()),
    ],
)
def test_a_check_offers_what_its_state_allows(
    status: str, verdict: str | None, shown: str, forms: set[str]
) -> None:
    check = {
        "check_id": "c-1",
        "title": "改造支渠3公里",
        "summary": "已完成",
        "threshold": 0.8,
        "opens_on": "2027-03-01",
        "closes_on": "2027-03-15",
        "status": status,
        "verdict": verdict,
        "satisfaction_rate": 0.5 if verdict else None,
        "ballots": 2 if verdict else None,
        "registered": 2,
        "voted": 2 if verdict else 0,
    }
    html = render(
        "check.html",
        check=check,
        raters=[{"rater_id": "rt-1", "name": "王*", "phone": "139****1111", "voted": False}],
        invitations={"invited": 1},
        imports=[],
        grades={"satisfied": "满意", "dissatisfied": "不满意"},
        states={"open": "进行中", "closed": "已出结果", "lapsed": "无人参评，待延期"},
        filled={},
    )
    assert shown in html
    for form in ("/raters", "/ballots", "/closure", "/extension"):
        assert (f'action="/checks/c-1{form}"' in html) is (form in forms)
