"""Command handlers of voting from a phone (issue 17): issue and reissue invitations, open a
ballot with a code, vote with it, and the urn's batches.

A web ballot is not appended beside its participation: the participation is appended at once
(so one ballot per rater per subject holds across web and paper) and the ballot goes into the
urn, a table beside the log, in the same transaction. Once k ballots wait, they are appended
together in an order drawn from the operating system's random source, through the unit of
work that names no one (services/evaluation/handlers.py, `anonymous`); at close whatever
remains. See docs/ballot-secrecy.md.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from services.evaluation.checks.aggregates import CheckBallots, SatisfactionCheck
from services.evaluation.handlers import anonymous
from services.evaluation.rounds.aggregates import BallotBox, Round, check_grades
from services.evaluation.rounds.aggregates.round import RoundStatus
from services.evaluation.rounds.events import Channel
from services.evaluation.voting import access
from services.evaluation.voting import commands as c
from services.evaluation.voting import queries as q
from services.evaluation.voting.aggregates import (
    Invitations,
    batch_due,
    code_hash,
    masked_name,
    new_code,
    normalise,
    shuffled,
    wait_after,
)
from services.evaluation.voting.aggregates.urn import SERVICE_FREE_FAILURES, SERVICE_MAX_WAIT
from services.evaluation.voting.events import Scope
from shared.auth import Principal, require
from shared.errors import (
    GongkaiError,
    InvalidInput,
    InvalidState,
    NotFound,
)
from shared.sms import SmsGateway
from shared.unit_of_work import StateCache, UnitOfWork

Target = Round | SatisfactionCheck


class WrongCode(InvalidInput):
    """No invitation has this code: a typing mistake or a guess (counted against guessing)."""


class TooManyAttempts(GongkaiError):
    kind = "too-many-requests"
    status = 429
    title = "Too many wrong codes"


# the rounds and checks the page last read, at their version: a ballot reads only what was
# appended since (a round of 500 raters is 1,000 events by its end)
STATES = StateCache(64)
# what an invitation is for, as a refusal names it
SCOPES = {"round": "评议", "check": "满意度测评"}
# a reissue repeated with its form's key (a double click): its code was in the first answer only
REISSUED = "这份邀请刚刚已补发，请查看上一页显示的邀请码；如需再次补发，请刷新页面后再试。"


async def _target(
    uow: UnitOfWork, scope: Scope, scope_id: str, cache: StateCache | None = None
) -> Target:
    found: Target | None
    if scope is Scope.ROUND:
        found = await uow.load(Round, f"round-{scope_id}", cache)
    else:
        found = await uow.load(SatisfactionCheck, f"satisfaction_check-{scope_id}", cache)
    if found is None:
        raise NotFound(
            f"没有找到该{SCOPES.get(scope.value, scope.value)}：请核对后再试。", scope_id=scope_id
        )
    return found


def _is_open(target: Target) -> bool:
    if isinstance(target, Round):
        return target.status is RoundStatus.OPEN
    return not target.closed


def _registered(target: Target) -> set[str]:
    return set(target.raters)


async def _invitations(uow: UnitOfWork, scope_id: str, township_id: str) -> Invitations:
    stream = f"invitations-{scope_id}"
    return await uow.load(Invitations, stream) or Invitations.for_scope(scope_id, township_id)


def _slip(rater: dict[str, Any], code: str) -> dict[str, Any]:
    """What the organiser gets once: the code, and the masked name of a named rater."""
    return {
        "rater_id": rater["rater_id"],
        "code": code,
        "name": masked_name(rater.get("name")),
        "phone": rater.get("phone"),  # for the SMS only; the route never answers it
    }


# --- invitations -----------------------------------------------------------------------------


async def issue_invitations(
    uow: UnitOfWork,
    scope: Scope,
    scope_id: str,
    cmd: c.IssueInvitations,
    who: Principal,
    sms: bool = False,
) -> dict[str, Any]:
    """One invitation per rater not invited yet; each code in the answer only (its hash is
    kept). `sms`: the county has an SMS channel (the route sends after the commit)."""
    target = await _target(uow, scope, scope_id)
    require(access.invites(who, target), "只有登记评议人的组织者可以发放邀请码。")
    port = uow.port(q.voting)
    raters = {r["rater_id"]: r for r in await port.raters(scope.value, scope_id)}
    registered = _registered(target)
    wanted = cmd.rater_ids or sorted(registered)
    by_sms = {r for r in wanted if sms and cmd.by_sms and (raters.get(r) or {}).get("phone")}
    invitations = await _invitations(uow, scope_id, target.township_id)
    new = invitations.issue(scope, scope_id, wanted, registered, _is_open(target), by_sms)
    slips = []
    for rater_id in new:
        code = new_code()
        await port.add_invitation(code_hash(code), scope.value, scope_id, rater_id)
        slip = _slip(raters.get(rater_id) or {"rater_id": rater_id}, code)
        slip["by_sms"] = rater_id in by_sms
        slips.append(slip)
    await uow.save(invitations)
    return {
        "id": scope_id,
        "events": [e.type for e in uow.appended],
        "invitations": slips,
        "view": await port.scope_view(scope.value, scope_id),
    }


async def reissue_invitation(
    uow: UnitOfWork,
    scope: Scope,
    scope_id: str,
    rater_id: str,
    cmd: c.ReissueInvitation,
    who: Principal,
    sms: bool = False,
) -> dict[str, Any]:
    """A new code for a rater who lost theirs; the old one no longer votes. Its route keeps
    the form's idempotency key without the answer (the code is never kept): a repeat appends
    and sends nothing and is refused (`REISSUED`)."""
    target = await _target(uow, scope, scope_id)
    require(access.invites(who, target), "只有登记评议人的组织者可以发放邀请码。")
    port = uow.port(q.voting)
    raters = {r["rater_id"]: r for r in await port.raters(scope.value, scope_id)}
    rater = raters.get(rater_id) or {"rater_id": rater_id}
    by_sms = bool(sms and cmd.by_sms and rater.get("phone"))
    invitations = await _invitations(uow, scope_id, target.township_id)
    invitations.reissue(scope, scope_id, rater_id, _is_open(target), by_sms)
    await port.replace_invitations(scope_id, rater_id)
    code = new_code()
    await port.add_invitation(code_hash(code), scope.value, scope_id, rater_id)
    await uow.save(invitations)
    slip = {**_slip(rater, code), "by_sms": by_sms}
    return {
        "id": scope_id,
        "events": [e.type for e in uow.appended],
        "invitations": [slip],
        "view": await port.scope_view(scope.value, scope_id),
    }


async def record_refused_texts(
    uow: UnitOfWork, scope: Scope, scope_id: str, refused: dict[str, str], who: Principal
) -> dict[str, Any]:
    """After the texts were tried (the invitations committed before): those the provider
    refused, rater id -> its error code, so turnout counts only texts it accepted."""
    target = await _target(uow, scope, scope_id)
    require(access.invites(who, target), "只有登记评议人的组织者可以发放邀请码。")
    invitations = await _invitations(uow, scope_id, target.township_id)
    for rater_id, reason in refused.items():
        invitations.text_refused(scope, scope_id, rater_id, reason)
    await uow.save(invitations)
    return {"id": scope_id, "events": [e.type for e in uow.appended]}


# --- a code, checked ---------------------------------------------------------------------------


def address_key(address: str) -> str:
    """How a client address is kept against guessing: hashed, never in the clear."""
    return "address:" + hashlib.sha256(f"gongkai-vote:{address}".encode()).hexdigest()[:32]


def service_key(uow: UnitOfWork) -> str:
    """Everyone's wrong codes within the hour: a guesser with many addresses waits too."""
    return "service:" + uow.store.clock.now().strftime("%Y%m%d%H")


async def _not_blocked(uow: UnitOfWork, address: str) -> None:
    port, now = uow.port(q.voting), uow.store.clock.now()
    for key in (address_key(address), service_key(uow)):
        until = await port.blocked_until(key)
        if until is not None and until > now:
            seconds = max(1, int((until - now).total_seconds() + 0.999))
            raise TooManyAttempts(
                f"输错邀请码的次数太多，请 {seconds} 秒后再试", retry_after=seconds
            )


async def record_wrong_code(uow: UnitOfWork, address: str) -> dict[str, Any]:
    """Count a wrong code against the address and the service, in a transaction of its own
    (the refused command's rolled back): each wrong code past the first few doubles the wait."""
    port, now = uow.port(q.voting), uow.store.clock.now()
    address_failures = await port.failures(address_key(address)) + 1
    wait = wait_after(address_failures)
    await port.record_failure(address_key(address), now, now + timedelta(seconds=wait))
    service_failures = await port.failures(service_key(uow)) + 1
    wait = wait_after(service_failures, SERVICE_FREE_FAILURES, SERVICE_MAX_WAIT)
    await port.record_failure(service_key(uow), now, now + timedelta(seconds=wait))
    return {}


async def _invitation(
    uow: UnitOfWork, typed: str, address: str, scope_id: str | None = None
) -> dict[str, Any]:
    """The live invitation of a typed code, or a clear answer in Chinese and nothing done."""
    await _not_blocked(uow, address)
    code = normalise(typed)
    found = None if code is None else await uow.port(q.voting).invitation(code_hash(code))
    if found is None:
        raise WrongCode("邀请码不对，请核对后重新输入（共16位字母和数字）", field="code")
    if found["state"] == "replaced":
        raise InvalidState("这个邀请码已作废（已补发新的邀请码），请使用新的邀请码")
    if found["state"] == "expired":
        raise InvalidState("本次评议已经结束，不能再投票了")
    if scope_id is not None and found["scope_id"] != scope_id:
        raise InvalidState("这个邀请码不是本次评议的，请使用本次评议的邀请码")
    return found


async def open_ballot(uow: UnitOfWork, cmd: c.OpenBallot, address: str) -> dict[str, Any]:
    """What the page shows a code's holder: the round or check, its scale, and the subjects
    this rater has not voted on yet. Appends nothing."""
    found = await _invitation(uow, cmd.code, address)
    scope = Scope(found["scope"])
    target = await _target(uow, scope, found["scope_id"], STATES)
    if not _is_open(target):
        raise InvalidState("本次评议已经结束，不能再投票了")
    view = await uow.port(q.voting).scope_view(scope.value, found["scope_id"])
    if isinstance(target, Round):
        rater = target.raters.get(found["rater_id"])
        done = rater.voted_on if rater else set()
        view["subjects"] = [s for s in view["subjects"] if s["subject_id"] not in done]
    elif found["rater_id"] in target.voted:
        view["subjects"] = []
    if not view["subjects"]:
        raise InvalidState("这个邀请码已经投过票了，每人只能投一次")
    return {**view, "code": normalise(cmd.code)}


# --- the vote and the urn ----------------------------------------------------------------------


async def vote(uow: UnitOfWork, cmd: c.VoteWithCode, address: str, batch: int) -> dict[str, Any]:
    """Participation appended now; the ballot into the urn (appended in a shuffled batch).
    The answer is the same for everyone: no receipt that could prove a choice."""
    found = await _invitation(uow, cmd.code, address, cmd.scope_id)
    scope, rater_id = Scope(found["scope"]), found["rater_id"]
    await uow.port(q.voting).lock(cmd.scope_id)
    target = await _target(uow, scope, cmd.scope_id, STATES)
    if not _is_open(target):
        raise InvalidState("本次评议已经结束，不能再投票了")
    try:
        if isinstance(target, Round):
            check_grades(target.the_scale, cmd.grades, set(target.subjects), "grades")
            target.participate(rater_id, list(cmd.grades), Channel.WEB, uow.today())
            grades = dict(cmd.grades)
        else:
            if set(cmd.grades) != {"item"}:
                raise InvalidInput(
                    "满意度测评只评该承诺事项：请只对该事项选择等次。", field="grades"
                )
            target.participate(rater_id, cmd.grades["item"], Channel.WEB, uow.today(), None)
            grades = {"item": cmd.grades["item"]}
    except InvalidState as refused:
        if "投过票" in refused.detail:  # the aggregates' "already voted" (one ballot a code)
            raise InvalidState("这个邀请码已经投过票了，每人只能投一次") from refused
        raise
    await uow.save(target)
    await into_urn(uow, target, grades, batch)
    return {"id": cmd.scope_id, "status": "已提交"}


async def into_urn(uow: UnitOfWork, target: Target, grades: dict[str, str], batch: int) -> None:
    """A web ballot into the urn, in the participation's transaction; a batch out if due."""
    scope = Scope.ROUND if isinstance(target, Round) else Scope.CHECK
    scope_id = target.round_id if isinstance(target, Round) else target.check_id
    await uow.port(q.voting).put_in_urn(scope.value, scope_id, grades)
    await _append_due(uow, target, batch, closing=False)


async def empty_urn(uow: UnitOfWork, target: Target) -> BallotBox | CheckBallots | None:
    """At close: whatever the urn holds is appended (shuffled), and the invitations expire.
    The ballot box as it is then, for the close to count (None: no ballot at all)."""
    scope_id = target.round_id if isinstance(target, Round) else target.check_id
    box = await _append_due(uow, target, 0, closing=True)
    await uow.port(q.voting).expire_invitations(scope_id)
    return box


async def _append_due(
    uow: UnitOfWork, target: Target, batch: int, closing: bool
) -> BallotBox | CheckBallots | None:
    port = uow.port(q.voting)
    scope_id = target.round_id if isinstance(target, Round) else target.check_id
    if isinstance(target, Round) and target.urn_batch:
        batch = target.urn_batch  # the round's own k
    due = batch_due(await port.urn_size(scope_id), batch, closing)
    if not due and not closing:
        return None  # the ballot box is read only when a batch goes in, or to close
    box: BallotBox | CheckBallots | None
    if isinstance(target, Round):
        box = await uow.load(BallotBox, f"ballot_box-{scope_id}", STATES)
    else:
        box = await uow.load(CheckBallots, f"satisfaction_ballots-{scope_id}", STATES)
    if not due:
        return box
    ballots = shuffled(await port.take_from_urn(scope_id))
    if isinstance(target, Round):
        rounds_box = box if isinstance(box, BallotBox) else BallotBox.for_round(target)
        for grades in ballots:
            rounds_box.cast(target, secrets.token_urlsafe(24), grades)  # the token is not kept
        box = rounds_box
    else:
        check_box = box if isinstance(box, CheckBallots) else CheckBallots.for_check(target)
        for grades in ballots:
            check_box.cast(scope_id, secrets.token_urlsafe(24), grades["item"])
        box = check_box
    await anonymous(uow).save(box)
    return box


# --- SMS ------------------------------------------------------------------------------------


async def send_invitation(
    gateway: SmsGateway, phone: str, view: dict[str, Any], base_url: str, code: str
) -> None:
    """The invitation's link by SMS (template `vote_invitation`), after the codes' commit."""
    link = f"{base_url.rstrip('/')}/vote#{code}"
    params = {"township": str(view["township"]), "title": str(view["title"]), "link": link}
    await gateway.send(phone, "vote_invitation", params)
