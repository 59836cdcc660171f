"""Refusals a person reads are simplified Chinese and say what to do (issue 20 item 11).

Every refusal raised in services/ and shared/ (the `GongkaiError` family, the role checks'
`require(..., why)`, the labels `uow.get` names a missing record by, the console's own
`Refused`) carries a Chinese message: an AST scan fails when an English one creeps back.
The RFC 9457 problem keeps its machine-stable `type`, `title` and `errors[].field`; its
`detail` is the service's Chinese sentence, and the console shows it at the top of the page
and each field's reason beside the field. No servers: the problems are made by the
services' own exception handlers (shared/http.py) in an in-process app.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from services.console.calls import Refused
from services.console.web import TEMPLATES
from services.evaluation.aggregates import tally
from services.evaluation.rounds.aggregates import Round
from services.evaluation.rounds.events import RoundOpened, Subject, SubjectKind
from shared.errors import Forbidden
from shared.http import install_error_handlers
from shared.text import Line

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
BASE_ERRORS = {
    "GongkaiError",
    "InvalidInput",
    "InvalidState",
    "NotFound",
    "Forbidden",
    "Unauthenticated",
    "ConcurrencyConflict",
    "IdempotencyKeyReused",
    "AccessRevoked",
    "Unavailable",
}


# --- the scan ---------------------------------------------------------------------------------


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _texts(node: ast.expr) -> list[str]:
    """The literal text of a message: string constants, f-strings' literal parts, and
    strings joined with `+`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _texts(node.left) + _texts(node.right)
    return []


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """The GongkaiError family, with the subclasses services define (WrongCode, FileRefused…)."""
    names = set(BASE_ERRORS)
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in names
                    and any(_name(b) in names for b in node.bases)
                ):
                    names.add(node.name)
                    grew = True
    return names


def _messages(tree: ast.Module, errors: set[str]) -> Iterator[tuple[int, ast.expr]]:
    """Each message a person may read: an error's first argument, a role check's reason, the
    label `uow.get` names a missing record by, and what a module's constants and a helper's
    callers hand in when the message is a name."""
    constants = {
        t.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    helpers: dict[str, int] = {}  # helper function → position of the parameter it passes on
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = [a.arg for a in function.args.args]
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            called = _name(node.func)
            message: ast.expr | None = None
            if called in errors and node.args:
                message = node.args[0]
            elif called in ("require", "Refused") and len(node.args) >= 2:
                message = node.args[1]  # the console's Refused(status, message) too
            elif called == "get" and _name(getattr(node.func, "value", node.func)) == "uow":
                message = node.args[2] if len(node.args) >= 3 else None
            if message is None:
                continue
            if isinstance(message, ast.Name) and message.id in constants:
                message = constants[message.id]
            elif isinstance(message, ast.Name) and message.id in params:
                helpers[function.name] = params.index(message.id)
                continue
            elif isinstance(message, ast.JoinedStr):
                for value in message.values:  # f"{why}；…": the helper's callers say the rest
                    named = getattr(value, "value", None)
                    if isinstance(named, ast.Name) and named.id in params:
                        helpers[function.name] = params.index(named.id)
            yield node.lineno, message
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in helpers:
            at = helpers[str(_name(node.func))]
            if len(node.args) > at:
                yield node.lineno, node.args[at]


def english_refusals(source: str | ast.Module, errors: set[str] | None = None) -> list[str]:
    """`line: text` of each message in `source` with literal text and no CJK character."""
    tree = ast.parse(source) if isinstance(source, str) else source
    found = []
    for line, message in _messages(tree, errors or BASE_ERRORS):
        texts = _texts(message)
        if texts and not any(CJK.search(t) for t in texts):
            found.append(f"{line}: {' '.join(texts)}")
    return found


def test_no_refusal_in_services_or_shared_is_written_in_english() -> None:
    files = sorted((ROOT / "services").rglob("*.py")) + sorted((ROOT / "shared").rglob("*.py"))
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in files}
    errors = _error_classes(trees)
    assert {"WrongCode", "TooManyAttempts", "FileRefused", "RowRefused"} <= errors
    english = [
        f"{path.relative_to(ROOT)}:{finding}"
        for path in files
        for finding in english_refusals(trees[path], errors)
    ]
    assert english == [], "refusals a person reads are written in Chinese:\n" + "\n".join(english)


@pytest.mark.parametrize(
    "source",
    [
        'raise InvalidInput("the window closes before it opens", field="closes_on")',
        'raise NotFound(f"round {round_id} not found")',
        'raise InvalidState("pledge is " + status)',
        'require(allowed, "only the county\'s administrator")',
        'raise Refused(403, "only the office prints invitations")',
        'WHY = "not yours"\ndef f(who):\n    require(who, WHY)',
        'def _office(who, what):\n    require(who, f"only the office {what}")\n'
        '_office(who, "closes a check")',
        'async def f(uow):\n    return await uow.get(Round, "round-1", "round")',
    ],
)
def test_the_scan_finds_an_english_refusal(source: str) -> None:
    wrapped = source if source.startswith(("WHY", "def", "async")) else f"def f():\n    {source}"
    assert english_refusals(wrapped) != []
    chinese = re.sub(r"\"[^\"]*[a-z][^\"]*\"", '"没有找到该评议：请核对后再试。"', wrapped)
    assert english_refusals(chinese) == []


# --- the problem and the console --------------------------------------------------------------


class Draft(BaseModel):
    title: Line
    due_on: date


def _backwards() -> RoundOpened:
    return RoundOpened(
        round_id="r-1",
        township_id="t-1",
        organiser_kind="township",
        organiser_id="t-1",
        title="上半年群众评议",
        year=2027,
        half=1,
        content=("five_good",),
        subjects=(
            Subject(
                subject_kind=SubjectKind.BRANCH,
                subject_id="b-1",
                subject_name="一支部",
                branch_id="b-1",
            ),
        ),
        scale=tally.PUBLIC_SATISFACTION,
        opens_on=date(2027, 5, 1),
        closes_on=date(2027, 4, 30),
    )


@pytest.fixture
async def service() -> Any:
    """A service's exception handlers (shared/http.py) answering real domain refusals."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/rounds")
    async def open_round() -> None:
        Round.open(_backwards())  # the aggregate refuses: it closes before it opens

    @app.post("/drafts")
    async def draft(body: Draft) -> None:  # pydantic refuses the body
        return None

    @app.post("/committee")
    async def committee() -> None:
        raise Forbidden("表彰由乡镇党委发布：请切换到乡镇党委身份。")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


def _page(refused: Refused, field: str) -> str:
    """The top of a re-rendered form and its field, as the console's templates show them."""
    form = TEMPLATES.from_string(
        '{% from "macros.html" import field %}'
        '{% if refused and refused.message %}<div class="alert">{{ refused.message }}</div>'
        "{% endif %}{{ field(refused, {}, name, '日期') }}"
    )
    return form.render(refused=refused, name=field)


async def test_a_domain_refusal_reads_in_chinese_at_the_top_and_beside_its_field(
    service: httpx.AsyncClient,
) -> None:
    answer = await service.post("/rounds")
    problem = answer.json()
    assert answer.status_code == 422
    assert problem["type"] == "urn:gongkai:problem:invalid-input"  # machine-stable
    assert problem["title"] == "The request is not valid"
    assert problem["detail"] == (
        "结束日期 2027年4月30日 早于开始日期 2027年5月1日：请把结束日期改到开始日期当天或之后。"
    )
    assert problem["errors"] == [{"field": "closes_on", "reason": problem["detail"]}]

    refused = Refused.of(answer)
    # not only the general sentence: what is wrong and what to do, and beside the field
    assert refused.message == "填写的内容有误，请按提示修改后再提交。" + problem["detail"]
    assert refused.fields == {"closes_on": problem["detail"]}
    page = _page(refused, "closes_on")
    assert f'<div class="alert">{refused.message}</div>' in page
    assert f'<p class="field-error" id="err-closes_on">{problem["detail"]}</p>' in page
    assert 'aria-invalid="true"' in page


async def test_a_refusal_without_a_field_is_the_message_page(service: httpx.AsyncClient) -> None:
    answer = await service.post("/committee")
    assert answer.json()["type"] == "urn:gongkai:problem:forbidden"
    refused = Refused.of(answer)
    assert (refused.status, refused.fields) == (403, {})
    assert refused.message == "表彰由乡镇党委发布：请切换到乡镇党委身份。"
    page = TEMPLATES.get_template("message.html").render(title="未能完成", message=refused.message)
    assert "<p>表彰由乡镇党委发布：请切换到乡镇党委身份。</p>" in page


async def test_a_validation_problem_names_each_field_in_chinese(
    service: httpx.AsyncClient,
) -> None:
    answer = await service.post("/drafts", json={"title": "两行\n标题", "due_on": "明天"})
    problem = answer.json()
    assert answer.status_code == 422
    reasons = {e["field"]: (e["code"], e["reason"]) for e in problem["errors"]}
    assert reasons == {
        "title": ("value_error", "此项只写一行：请删去换行"),  # the validator's own words
        "due_on": ("date_from_datetime_parsing", "日期格式不对，例如 2027-03-15。"),
    }
    assert problem["detail"].startswith("请按提示修改后再提交：")
    assert "title：此项只写一行" in problem["detail"]
    refused = Refused.of(answer)
    # the page says what it is in general; each field says what to fix
    assert refused.message == "填写的内容有误，请按提示修改后再提交。"
    assert refused.fields == {"title": "此项只写一行：请删去换行", "due_on": reasons["due_on"][1]}
    missing = Refused.of(await service.post("/drafts", json={"due_on": "2027-03-15"}))
    assert missing.fields == {"title": "请填写此项。"}


def test_an_english_detail_of_an_older_service_falls_back_to_the_sentence_by_kind() -> None:
    answer = httpx.Response(
        409,
        json={
            "type": "urn:gongkai:problem:invalid-state",
            "detail": "the round is closed",
            "errors": [{"field": "closes_on", "reason": "too late"}],
        },
    )
    refused = Refused.of(answer)
    assert refused.message == "该操作与当前状态不符，请刷新页面后再试。"
    assert refused.fields == {"closes_on": "填写的内容不符合要求。"}
    assert refused.detail == "the round is closed"


async def test_a_field_left_empty_is_asked_for_not_called_malformed(
    service: httpx.AsyncClient,
) -> None:
    """A select not chosen posts "", which a service's id pattern refuses as "格式不对": the
    person left it empty, so the console asks for it; the validator's own words still win."""
    sent = {"title": "一行", "due_on": ""}
    answer = await service.post("/drafts", json=sent)
    assert {e["field"]: e["reason"] for e in answer.json()["errors"]} == {
        "due_on": "日期格式不对，例如 2027-03-15。"
    }
    assert Refused.of(answer, sent).fields == {"due_on": "请填写或选择此项。"}
    assert Refused.of(answer).fields == {"due_on": "日期格式不对，例如 2027-03-15。"}
    typed = {"title": "一行", "due_on": "明天"}
    assert Refused.of(await service.post("/drafts", json=typed), typed).fields == {
        "due_on": "日期格式不对，例如 2027-03-15。"
    }
