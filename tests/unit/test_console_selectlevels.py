"""The selection's pages at each level without servers (issue 20 items 2-4): a county
selection offers its steps (organising and deciding) to the county's administrator only, a
branch's to that branch's secretary only, each naming its own deciding body; each post is
offered the opening of its own level's selection (a branch's of members only); posts with
no place in the selection are refused the page, the committee its opening. The steps against
the real services, in a browser: tests/e2e/test_console_selectlevels.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from services.console.app import create_app
from services.console.pages.selections import BODIES, NOMINATORS, SOURCES, pickers
from services.console.session import SESSION_COOKIE, Sealer
from services.console.settings import ConsoleSettings
from services.console.web import TEMPLATES
from tests.unit.test_console_selectpages import a_selection, session

STEPS = ("计算第", "提交县委决定", "提交支部决定", "提交镇党委决定", "发布公示", "记录异议")


def page(role: str, org: str, selection: dict[str, Any], nominees: Any = ()) -> str:
    waiting = next((s for s in selection["stages"] if s["decided_by"] is None), None)
    return render(
        "selection.html",
        role,
        me=session(role, org),
        s=selection,
        names={c["subject_id"]: c["subject_name"] for c in selection["candidates"]},
        **pickers(selection, list(nominees)),
        waiting=waiting,
        can_score=waiting is None,
        sources=SOURCES,
        bodies=BODIES,
        nominators=NOMINATORS,
        refused=None,
        filled={},
        today="2027-07-01",
    )


def held_by(level: str, organisation: str, township: str, **changes: Any) -> dict[str, Any]:
    return a_selection(level=level, organisation_id=organisation, township_id=township, **changes)


def render(template: str, role: str, **context: Any) -> str:
    """The page as the person (`me`) of the context sees it."""
    context.setdefault("me", session(role))
    return TEMPLATES.get_template(template).render(
        menu=[], path="/", csrf="c", new_key=lambda: "k", **context
    )


def posted(selection: dict[str, Any]) -> dict[str, Any]:
    """A county's or branch's selection decided and on notice, an objection brought in
    person unanswered."""
    stage = selection["stages"][0] | {
        "decided_by": selection["level"],
        "decided_on": "2027-06-25",
        "decisions": [
            {"subject_id": "b-1", "advanced": True, "reason": "研究同意"},
            {"subject_id": "b-2", "advanced": False, "reason": "群众满意度偏低"},
        ],
    }
    objection = {
        "objection_id": "o-1",
        "subject_id": "b-1",
        "summary": "来信反映",
        "answer": None,
        "upheld": None,
        "in_person": True,
    }
    return selection | {
        "stages": [stage],
        "posted_on": "2027-06-26",
        "notice_until": "2027-07-01",
        "finalists": ["b-1"],
        "objections": [objection],
    }


@pytest.mark.parametrize(
    ("level", "holder", "org", "body", "recorder", "others"),
    [
        (
            "county",
            "county_admin",
            "c-1",
            "县委",
            "县里",
            [("county_admin", "c-2"), ("township_committee", "t-1"), ("township_office", "t-1")],
        ),
        (
            "branch",
            "branch_secretary",
            "b-1",
            "支部",
            "支部书记",
            [("branch_secretary", "b-2"), ("township_office", "t-1")],
        ),
    ],
)
def test_a_county_or_branch_selection_is_its_holders_to_organise_and_decide(
    level: str, holder: str, org: str, body: str, recorder: str, others: list[tuple[str, str]]
) -> None:
    selection = held_by(level, org, "c-1" if level == "county" else "t-1")
    html = page(holder, org, selection)
    assert {"county": "县级评选（从各乡镇表彰对象中评选）", "branch": "支部评选"}[level] in html
    assert f"第1轮待{body}决定" in html
    assert f"提交{body}决定" in html
    assert "领导点评：92.50" in html  # the parts beside the composite
    assert " checked" not in html  # nothing pre-chosen
    opened = selection | {"stages": [], "candidates": []}
    assert ("还没有发布表彰" in page(holder, org, opened)) is (level == "county")
    assert "还没有发布表彰" not in page(holder, org, opened, [{"id": "m-1", "name": "张建国"}])
    notice = page(holder, org, posted(selection))
    assert f"（来访，{recorder}记录）" in notice
    assert "发布表彰决定" in notice
    assert "提交答复" in notice
    for role, elsewhere in others:
        other = page(role, elsewhere, selection)
        assert not [step for step in STEPS if step in other], role
        on_notice = page(role, elsewhere, posted(selection))
        assert not [step for step in ("发布表彰决定", "提交答复", "记录异议") if step in on_notice]


@pytest.mark.parametrize(
    ("role", "org", "offered", "kinds"),
    [
        ("township_office", "t-1", "开展年度评选", True),
        ("county_admin", "c-1", "开展全县年度评选（从各乡镇表彰对象中评选）", True),
        ("branch_secretary", "b-1", "开展本支部党员评选", False),
        ("township_committee", "t-1", None, False),
    ],
)
def test_each_post_is_offered_the_opening_of_its_own_levels_selection(
    role: str, org: str, offered: str | None, kinds: bool
) -> None:
    county_row = {
        "selection_id": "s-2027-member-county-c-1",
        "level": "county",
        "title": "全县优秀共产党员",
        "year": 2027,
        "subject_kind": "member",
        "stages_scored": 0,
        "posted_on": None,
        "issued_on": None,
    }
    html = render(
        "selections.html",
        role,
        me=session(role, org),
        selections={"total": 1, "rows": [county_row | {"level": "branch", "title": "支部评选"}]},
        county_selections=[county_row] if role in ("township_office", "township_committee") else [],
        opens={"township_office": "township", "county_admin": "county"}.get(
            role, "branch" if role == "branch_secretary" else None
        ),
        page=1,
        pages=1,
        refused=None,
        filled={},
    )
    assert ("开始评选" in html) is (offered is not None)
    if offered:
        assert f"<h2>{offered}</h2>" in html
    assert ('name="subject_kind"' in html) is kinds
    assert "支部评选 · 2027年" in html
    if role in ("township_office", "township_committee"):
        assert 'href="/selections/s-2027-member-county-c-1"' in html


def console(tmp_path: Path, role: str, org: str) -> tuple[httpx.AsyncClient, str]:
    """The console with one person's session; no service answers but the menu's count."""

    def nothing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"unread": 0})

    settings = ConsoleSettings(session_key_file=tmp_path / "key")
    app = create_app(settings, transport=httpx.MockTransport(nothing))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    sealer = Sealer((tmp_path / "key").read_bytes())
    signed = session(role, org)
    client.cookies.set(SESSION_COOKIE, sealer.seal_session(signed))
    return client, signed.csrf


@pytest.mark.parametrize("role", ["auditor", "integration"])  # a member reads: test_console_selvis
async def test_posts_without_a_place_in_the_selections_are_refused(
    role: str, tmp_path: Path
) -> None:
    client, csrf = console(tmp_path, role, "b-1")
    for answer in (
        await client.get("/selections"),
        await client.get("/selections/s-2027-member-county-c-1"),
        await client.post("/selections", data={"csrf": csrf, "key": "k", "title": "评选"}),
    ):
        assert answer.status_code == 403
        assert "县级评选由县管理员办理" in answer.text


async def test_the_committee_decides_and_does_not_open_a_selection(tmp_path: Path) -> None:
    client, csrf = console(tmp_path, "township_committee", "t-1")
    answer = await client.post("/selections", data={"csrf": csrf, "key": "k", "title": "评选"})
    assert answer.status_code == 403
    assert "镇党委决定各轮" in answer.text
