"""The township leaders' pages without servers: a review form asks every dimension the review
service requires of its kind, with a refused one marked beside it; the selection's page shows
the composite score and its parts beside each candidate and offers each post only its own
steps (the committee decides with nothing pre-chosen); the committee's decisions are sent as
chosen; other posts are refused the pages. The pages against the real services:
tests/e2e/test_console_selectpages.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.console.app import create_app
from services.console.calls import Refused
from services.console.pages.selections import SOURCES, decisions_of, pickers
from services.console.session import SESSION_COOKIE, Sealer, Session
from services.console.settings import ConsoleSettings
from services.console.web import TEMPLATES
from services.review.events import DIMENSIONS, Grade, SubjectKind
from services.review.queries import review_scales


def session(role: str, org: str = "t-1") -> Session:
    return Session(
        access_token="at",
        refresh_token="rt",
        expires_at=time.time() + 300,
        id_token=None,
        person="p-1",
        name="王振华",
        role=role,
        org=org,
    )


def render(template: str, role: str, **context: Any) -> str:
    return TEMPLATES.get_template(template).render(
        me=session(role), menu=[], path="/", csrf="c", new_key=lambda: "k", **context
    )


def test_the_review_scales_are_the_review_services_own_rules_in_chinese() -> None:
    scales = review_scales()
    for kind in SubjectKind:
        assert [d["code"] for d in scales["dimensions"][kind.value]] == list(DIMENSIONS[kind])
    assert [g["code"] for g in scales["grades"]] == list(Grade)
    labelled = [*scales["grades"], *scales["occasions"]]
    labelled += [d for dims in scales["dimensions"].values() for d in dims]
    assert all(c["label"] != c["code"] and not c["label"].isascii() for c in labelled)


@pytest.mark.parametrize("kind", ["branch", "member"])
def test_a_review_form_asks_every_dimension_and_marks_a_refused_one(kind: str) -> None:
    scales = review_scales()
    dimensions = scales["dimensions"][kind]
    missing = dimensions[-1]["code"]
    refused = Refused(
        422, "填写的内容有误", fields={f"assessments.{missing}.grade": "请从列表中选择。"}
    )
    html = render(
        "review_form.html",
        "township_committee",
        branch={"branch_id": "b-1", "name": "红沙梁村党支部"},
        subject={"id": "b-1" if kind == "branch" else "m-1", "name": "某某", "kind": kind},
        dimensions=dimensions,
        grades=scales["grades"],
        occasions=scales["occasions"],
        refused=refused,
        filled={"assessments.key_work.grade": "excellent"},
        written=("achievements", "shortcomings", "direction"),
    )
    for d in dimensions:
        assert f"<legend>{d['label']}</legend>" in html
        assert f'name="assessments.{d["code"]}.grade"' in html
        assert f'name="assessments.{d["code"]}.comment"' in html
    assert html.count("<fieldset>") == len(dimensions)
    assert f'aria-describedby="err-assessments-{missing}-grade"' in html
    assert f'id="err-assessments-{missing}-grade">请从列表中选择。' in html
    assert html.count('aria-invalid="true"') == 1
    if kind == "branch":
        assert '<option value="excellent" selected>' in html  # what was typed stays


def a_selection(**changes: Any) -> dict[str, Any]:
    scored = [
        {
            "subject_id": "b-1",
            "subject_name": "红沙梁村党支部",
            "branch_id": "b-1",
            "inputs": [
                {"source": "reviews", "value": 92.5, "evidence": ["r-1"]},
                {"source": "ratings", "value": None, "evidence": []},
            ],
            "composite": 92.5,
            "rank": 1,
            "suggested": True,
        },
        {
            "subject_id": "b-2",
            "subject_name": "东风村党支部",
            "branch_id": "b-2",
            "inputs": [{"source": "reviews", "value": 61.0, "evidence": ["r-2"]}],
            "composite": 61.0,
            "rank": 2,
            "suggested": False,
        },
    ]
    selection: dict[str, Any] = {
        "selection_id": "s-2027-branch-t-1",
        "level": "township",
        "township_id": "t-1",
        "year": 2027,
        "title": "先进基层党组织评选",
        "subject_kind": "branch",
        "notice_days": 7,
        "commendation_on": "2027-07-01",
        "formula": {
            "weights": {"reviews": 0.5, "ratings": 0.5},
            "when_missing": "reweight",
            "quotas": [1],
            "window": {"starts_on": "2026-06-01", "ends_on": "2027-05-31"},
        },
        "candidates": [
            {
                "subject_id": "b-1",
                "subject_name": "红沙梁村党支部",
                "nominated_by": "branch",
                "reason": "带富成效突出",
            },
            {
                "subject_id": "b-2",
                "subject_name": "东风村党支部",
                "nominated_by": "township",
                "reason": "班子团结",
            },
        ],
        "stages": [
            {
                "stage": 1,
                "scored_on": "2027-06-10",
                "candidates": scored,
                "decided_by": None,
                "decided_on": None,
                "decisions": [],
            }
        ],
        "posted_on": None,
        "notice_until": None,
        "finalists": [],
        "objections": [],
        "issued_on": None,
    }
    return selection | changes


def render_selection(role: str, selection: dict[str, Any]) -> str:
    waiting = next((s for s in selection["stages"] if s["decided_by"] is None), None)
    return render(
        "selection.html",
        role,
        s=selection,
        names={c["subject_id"]: c["subject_name"] for c in selection["candidates"]},
        **pickers(selection, []),
        waiting=waiting,
        can_score=False,
        sources=SOURCES,
        bodies={"township_committee": "镇党委"},
        nominators={"branch": "支部推荐", "township": "创先办推荐"},
        refused=None,
        filled={},
        today="2027-06-12",
    )


def test_the_committee_decides_each_candidate_beside_its_score_and_parts() -> None:
    html = render_selection("township_committee", a_selection())
    assert "92.50" in html
    assert "领导点评：92.50" in html
    assert "评星定级：无数据" in html
    assert html.count("按得分建议入围") == 1  # a suggestion, shown as one
    assert "提交镇党委决定" in html
    assert html.count('type="radio" name="decisions.') == 4
    assert " checked" not in html  # nothing decided for the committee
    assert "推荐理由：带富成效突出" in html
    assert "发布公示" not in html
    assert "计算第" not in html


def test_the_office_organises_and_does_not_decide() -> None:
    html = render_selection("township_office", a_selection())
    assert "提交镇党委决定" not in html
    assert "待镇党委决定" in html
    decided = a_selection()
    decided["stages"][0] |= {
        "decided_by": "township_committee",
        "decided_on": "2027-06-11",
        "decisions": [
            {"subject_id": "b-1", "advanced": True, "reason": "镇党委研究同意"},
            {"subject_id": "b-2", "advanced": False, "reason": "群众满意度偏低"},
        ],
    }
    html = render_selection("township_office", decided)
    assert "入围：镇党委研究同意" in html
    assert "未入围：群众满意度偏低" in html
    assert "镇党委于2027年6月11日决定" in html
    assert "发布公示" in html
    posted = decided | {
        "posted_on": "2027-06-12",
        "notice_until": "2027-06-19",
        "finalists": ["b-1"],
    }
    posted["objections"] = [
        {
            "objection_id": "o-1",
            "subject_id": "b-1",
            "summary": "账目公开不及时",
            "answer": None,
            "upheld": None,
            "in_person": True,
        }
    ]
    office = render_selection("township_office", posted)
    committee = render_selection("township_committee", posted)
    assert "记录异议" in office
    assert "记录异议" not in committee
    assert "发布表彰决定" in committee
    assert "发布表彰决定" not in office
    assert "提交答复" in office
    assert "提交答复" in committee
    assert "（来访，创先办记录）" in committee


def test_the_committees_decisions_are_sent_as_chosen() -> None:
    form = {
        "csrf": "c",
        "key": "k",
        "decisions.1.subject_id": "b-2",
        "decisions.1.reason": " 群众满意度偏低 ",
        "decisions.1.advanced": "no",
        "decisions.0.subject_id": "b-1",
        "decisions.0.reason": "镇党委研究同意",
        "decisions.0.advanced": "yes",
        "decisions.2.subject_id": "b-3",  # no choice made: sent so, the service names it
    }
    assert decisions_of(form) == [
        {"subject_id": "b-1", "advanced": True, "reason": "镇党委研究同意"},
        {"subject_id": "b-2", "advanced": False, "reason": "群众满意度偏低"},
        {"subject_id": "b-3", "advanced": "", "reason": ""},
    ]


@pytest.mark.parametrize(
    ("role", "path", "refusal"),
    [
        ("member", "/reviews", "“领导点评”由乡镇党委、创先办和支部书记使用。"),
        # a member reads her township's and county's selections (test_console_selvis)
        ("auditor", "/selections", "“评选表彰”由乡镇党委、创先办、支部书记和党员使用。"),
        ("branch_secretary", "/visits", "“联系点指导”由乡镇党委和创先办使用。"),
        ("county_admin", "/visits", "“联系点指导”由乡镇党委和创先办使用。"),
    ],
)
async def test_other_posts_are_refused_the_pages(
    role: str, path: str, refusal: str, tmp_path: Path
) -> None:
    def nothing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"unread": 0})  # only the menu's count is asked

    settings = ConsoleSettings(session_key_file=tmp_path / "key")
    app = create_app(settings, transport=httpx.MockTransport(nothing))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    sealer = Sealer((tmp_path / "key").read_bytes())
    client.cookies.set(SESSION_COOKIE, sealer.seal_session(session(role, "b-1")))
    answer = await client.get(path)
    assert answer.status_code == 403
    assert refusal in answer.text
    if path != "/reviews":  # its forms post to a subject's page
        posted = await client.post(path, data={"csrf": "forged", "key": "k"})
        assert posted.status_code == 403
