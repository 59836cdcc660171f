"""The identity service's rules, handlers and directory policy, with no server: the real
handlers on the real unit of work over an in-memory store, the ports in memory
(tests/support/identity.py). Who may grant what, how the directory's events become posts,
and how credentials, lockout and the second factor behave; the e2e test keeps HTTP,
PostgreSQL and the OpenID Connect flow."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest

from services.identity import commands as c
from services.identity import handlers as h
from services.identity.aggregates import LockoutPolicy, PasswordPolicy
from shared.auth import Principal, Role
from shared.errors import Forbidden, InvalidInput, InvalidState
from tests.support.identity import IdentityWorld, identity_world

ADMIN = Principal(subject="admin-1", role=Role.COUNTY_ADMIN, org="c1")
OFFICE = Principal(subject="clerk-1", role=Role.TOWNSHIP_OFFICE, org="t1")
HEAD = Principal(subject="h1", role=Role.TOWNSHIP_COMMITTEE, org="t1")
ADDRESS = "203.0.113.7"
GOOD = "Minqin-2027"


async def county() -> IdentityWorld:
    """County c1: townships t1 (head h1) and t2; branch b1 in t1 with members m1 (its
    secretary) and m2; branch b2 in t2."""
    w = identity_world()
    d = w.reads.directory
    d.township("t1")
    d.township("t2")
    d.branch("b1", "t1")
    d.branch("b2", "t2")
    await w.directory("TownshipHeadAppointed", township_id="t1", person_id="h1", name="王书记")
    for member in ("m1", "m2"):
        await w.directory(
            "MemberEnrolled",
            member_id=member,
            branch_id="b1",
            township_id="t1",
            name=f"{member}同志",
            post="党员",
            duties="",
            leadership_team=False,
        )
    await w.directory("BranchSecretaryAppointed", branch_id="b1", member_id="m1")
    return w


async def posts(w: IdentityWorld, person: str) -> set[tuple[str, str]]:
    return {(r, o) for p, r, o in w.reads.current() if p == person}


# --- the directory's events become posts ------------------------------------------------


async def test_the_directory_names_members_secretaries_and_heads() -> None:
    w = await county()
    assert await posts(w, "m1") == {("member", "b1"), ("branch_secretary", "b1")}
    assert await posts(w, "m2") == {("member", "b1")}
    assert await posts(w, "h1") == {("township_committee", "t1")}
    started = [e for e in w.memory.events if e.type == "PostStarted"]
    assert all(e.data["by"] == "directory:pledge" for e in started)
    assert {e.partition for e in w.memory.events} == {"c1"}


async def test_a_new_secretary_or_head_ends_the_one_before() -> None:
    w = await county()
    await w.directory("BranchSecretaryAppointed", branch_id="b1", member_id="m2")
    assert await posts(w, "m1") == {("member", "b1")}
    assert ("branch_secretary", "b1") in await posts(w, "m2")
    await w.directory("TownshipHeadAppointed", township_id="t1", person_id="h2", name="李书记")
    assert await posts(w, "h1") == set()
    assert await posts(w, "h2") == {("township_committee", "t1")}
    ended = [e.data for e in w.memory.events if e.type == "PostEnded"]
    assert {(e["person_id"], e["role"]) for e in ended} == {
        ("m1", "branch_secretary"),
        ("h1", "township_committee"),
    }


async def test_a_transfer_moves_the_member_and_ends_the_posts_left_behind() -> None:
    w = await county()
    await w.directory(
        "MemberTransferred",
        member_id="m1",
        from_branch_id="b1",
        to_branch_id="b2",
        to_township_id="t2",
    )
    assert await posts(w, "m1") == {("member", "b2")}


async def test_retirements_end_every_directory_post() -> None:
    w = await county()
    await w.directory("MemberRetired", member_id="m1", reason="去世")
    assert await posts(w, "m1") == set()
    await w.directory("BranchRetired", branch_id="b1", reason="撤并")
    assert await posts(w, "m2") == set()


# --- posts granted here -----------------------------------------------------------------


async def register(w: IdentityWorld, who: Principal = ADMIN, name: str = "赵文书") -> str:
    answer = await h.register_person(
        w.memory.as_(who), c.RegisterPerson(name=name, county_id="c1"), who
    )
    return str(answer["id"])


async def test_the_county_admin_grants_county_and_township_posts() -> None:
    w = await county()
    person = await register(w)
    for role, org in ((Role.AUDITOR, "c1"), (Role.TOWNSHIP_OFFICE, "t1")):
        await h.grant_post(w.memory.as_(ADMIN), person, c.GrantPost(role=role, org=org), ADMIN)
    assert await posts(w, person) == {("auditor", "c1"), ("township_office", "t1")}
    granted = [
        e.data for e in w.memory.events if e.type == "PostStarted" and e.data["person_id"] == person
    ]
    assert {e["by"] for e in granted} == {"admin-1"}
    with pytest.raises(Forbidden):  # a county post is held at the county
        await h.grant_post(
            w.memory.as_(ADMIN), person, c.GrantPost(role=Role.AUDITOR, org="t1"), ADMIN
        )
    with pytest.raises(InvalidInput):  # the directory's posts are not granted here
        await h.grant_post(
            w.memory.as_(ADMIN), person, c.GrantPost(role=Role.MEMBER, org="b1"), ADMIN
        )


async def test_a_township_committee_grants_its_office_clerks_only() -> None:
    w = await county()
    clerk = await register(w, HEAD)
    office = c.GrantPost(role=Role.TOWNSHIP_OFFICE, org="t1")
    await h.grant_post(w.memory.as_(HEAD), clerk, office, HEAD)
    for refused in (
        c.GrantPost(role=Role.TOWNSHIP_OFFICE, org="t2"),
        c.GrantPost(role=Role.TOWNSHIP_COMMITTEE, org="t1"),
        c.GrantPost(role=Role.COUNTY_ADMIN, org="c1"),
    ):
        mark = len(w.memory.events)
        with pytest.raises(Forbidden):
            await h.grant_post(w.memory.as_(HEAD), clerk, refused, HEAD)
        assert len(w.memory.events) == mark
    await h.revoke_post(
        w.memory.as_(HEAD), clerk, c.RevokePost(role=Role.TOWNSHIP_OFFICE, org="t1"), HEAD
    )
    assert await posts(w, clerk) == set()


async def test_directory_posts_are_not_revoked_here() -> None:
    w = await county()
    with pytest.raises(InvalidState):
        await h.revoke_post(
            w.memory.as_(ADMIN),
            "h1",
            c.RevokePost(role=Role.TOWNSHIP_COMMITTEE, org="t1"),
            ADMIN,
        )


async def test_only_the_county_admin_locks_and_unlocks() -> None:
    w = await county()
    with pytest.raises(Forbidden):
        await h.lock_person(w.memory.as_(OFFICE), "m2", c.LockPerson(reason="离职"), OFFICE)
    await h.lock_person(w.memory.as_(ADMIN), "m2", c.LockPerson(reason="离职"), ADMIN)
    with pytest.raises(InvalidState):
        await h.lock_person(w.memory.as_(ADMIN), "m2", c.LockPerson(reason="again"), ADMIN)
    await h.unlock_person(w.memory.as_(ADMIN), "m2", ADMIN)
    assert w.memory.types()[-2:] == ["PersonLocked", "PersonUnlocked"]
    assert w.memory.events[-2].data["by"] == "admin-1"


# --- credentials ------------------------------------------------------------------------


def test_the_password_policy() -> None:
    policy = PasswordPolicy()
    policy.check(GOOD)
    for bad in ("Short1!", "alllowercase", "nodigitsORsymbols", "12345678abc"):
        with pytest.raises(InvalidInput):
            policy.check(bad)
    with pytest.raises(InvalidInput):
        policy.check("13800001111Ab", login_name="13800001111")


def test_locks_grow_with_repeats() -> None:
    policy = LockoutPolicy()
    assert [policy.lock_for(n) for n in range(3)] == [
        timedelta(minutes=30),
        timedelta(minutes=60),
        timedelta(minutes=120),
    ]
    assert policy.lock_for(20) == timedelta(days=1)
    assert not policy.locks(4)
    assert policy.locks(5)


async def activated(
    w: IdentityWorld,
    person: str = "m2",
    login: str = "13800001111",
    by: Principal = OFFICE,
    then: h.Outcome = h.Outcome.SIGNED_IN,
) -> str:
    issued = await h.issue_activation(
        w.memory.as_(by), person, c.IssueActivation(login_name=login), by, w.secrets
    )
    code = str(issued["activation_code"])
    outcome = await h.activate(w.memory.unit(), login, code, GOOD, ADDRESS, w.secrets)
    assert outcome == h.SignIn(then, person)
    return code


async def test_the_office_issues_activation_and_the_person_signs_in() -> None:
    w = await county()
    other = Principal(subject="clerk-2", role=Role.TOWNSHIP_OFFICE, org="t2")
    with pytest.raises(Forbidden):  # not a township of hers
        await h.issue_activation(
            w.memory.as_(other), "m2", c.IssueActivation(login_name="13800001111"), other, w.secrets
        )
    code = await activated(w)
    assert (await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)).outcome is (
        h.Outcome.SIGNED_IN
    )
    again = await h.activate(w.memory.unit(), "13800001111", code, GOOD + "x", ADDRESS, w.secrets)
    assert again.outcome is h.Outcome.REFUSED  # the code worked once
    changes = [(e.data["kind"], e.data["by"]) for e in w.memory.events if e.type == "CredentialSet"]
    assert changes == [
        ("login_name", "clerk-1"),
        ("activation_code", "clerk-1"),
        ("password", "m2"),
    ]
    logged = json.dumps([e.data for e in w.memory.events], ensure_ascii=False)
    assert code not in logged
    assert GOOD not in logged
    assert "13800001111" not in logged


async def test_a_wrong_name_and_a_wrong_password_get_the_same_answer() -> None:
    w = await county()
    await activated(w)
    wrong_password = await h.sign_in(
        w.memory.unit(), "13800001111", "Wrong-2027", ADDRESS, w.secrets
    )
    wrong_name = await h.sign_in(w.memory.unit(), "13900002222", GOOD, ADDRESS, w.secrets)
    assert wrong_password == wrong_name == h.SignIn(h.Outcome.REFUSED)


async def test_five_failures_lock_the_account_for_a_while_then_longer() -> None:
    w = await county()
    await activated(w)
    for attempt in range(5):
        outcome = await h.sign_in(
            w.memory.unit(), "13800001111", "Wrong-2027", f"a{attempt}", w.secrets
        )
    assert outcome.lockout
    assert w.memory.types()[-1] == "PersonLocked"
    assert w.memory.events[-1].data["by"] == "system:identity"
    right = await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)
    assert right.outcome is h.Outcome.REFUSED  # locked: the right password is refused alike
    w.memory.clock.advance(timedelta(minutes=31))
    right = await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)
    assert right.outcome is h.Outcome.SIGNED_IN
    assert w.memory.types()[-1] == "PersonUnlocked"


async def test_an_address_that_fails_too_often_is_refused_for_any_account() -> None:
    w = await county()
    await activated(w)
    for n in range(20):
        await h.sign_in(w.memory.unit(), f"1390000{n:04d}", "Wrong-2027", ADDRESS, w.secrets)
    limited = await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)
    assert limited.outcome is h.Outcome.ADDRESS_LIMITED
    elsewhere = await h.sign_in(w.memory.unit(), "13800001111", GOOD, "198.51.100.1", w.secrets)
    assert elsewhere.outcome is h.Outcome.SIGNED_IN


async def test_the_last_five_passwords_do_not_come_back() -> None:
    w = await county()
    await activated(w)
    with pytest.raises(InvalidInput):
        await h.change_password(w.memory.unit(), "m2", GOOD, w.secrets)
    await h.change_password(w.memory.unit(), "m2", "Another-2027", w.secrets)
    with pytest.raises(InvalidInput):
        await h.change_password(w.memory.unit(), "m2", GOOD, w.secrets)


async def test_an_expired_password_must_be_changed() -> None:
    w = await county()
    await activated(w)
    w.memory.clock.advance(timedelta(days=91))
    outcome = await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)
    assert outcome.outcome is h.Outcome.PASSWORD_EXPIRED


async def test_a_county_admin_enrols_and_then_needs_a_second_factor() -> None:
    w = await county()
    admin = await register(w)
    await h.grant_post(
        w.memory.as_(ADMIN), admin, c.GrantPost(role=Role.COUNTY_ADMIN, org="c1"), ADMIN
    )
    # the first sign-in with the activation code asks for the second factor too
    await activated(w, admin, "110101199003070011", ADMIN, h.Outcome.ENROL_SECOND_FACTOR)
    first = await h.sign_in(w.memory.unit(), "110101199003070011", GOOD, ADDRESS, w.secrets)
    assert first.outcome is h.Outcome.ENROL_SECOND_FACTOR
    secret = pyotp.random_base32()
    now = w.memory.clock.now()
    wrong = await h.enrol_second_factor(
        w.memory.unit(), admin, secret, "000000", ADDRESS, w.secrets
    )
    assert wrong.outcome is h.Outcome.REFUSED or pyotp.TOTP(secret).at(now) == "000000"
    code = pyotp.TOTP(secret).at(now)
    enrolled = await h.enrol_second_factor(w.memory.unit(), admin, secret, code, ADDRESS, w.secrets)
    assert enrolled.outcome is h.Outcome.SIGNED_IN
    second = await h.sign_in(w.memory.unit(), "110101199003070011", GOOD, ADDRESS, w.secrets)
    assert second.outcome is h.Outcome.NEEDS_SECOND_FACTOR
    checked = await h.check_second_factor(w.memory.unit(), admin, code, ADDRESS, w.secrets)
    assert checked.outcome is h.Outcome.SIGNED_IN
    assert secret not in json.dumps([e.data for e in w.memory.events])


async def test_an_administrators_lock_outlasts_a_brute_force_one() -> None:
    w = await county()
    await activated(w)
    for attempt in range(5):
        await h.sign_in(w.memory.unit(), "13800001111", "Wrong-2027", f"a{attempt}", w.secrets)
    await h.lock_person(w.memory.as_(ADMIN), "m2", c.LockPerson(reason="离职"), ADMIN)
    w.memory.clock.advance(timedelta(hours=2))
    still = await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)
    assert still.outcome is h.Outcome.REFUSED
    assert w.memory.types()[-1] == "PersonLocked"
    await h.unlock_person(w.memory.as_(ADMIN), "m2", ADMIN)
    again = await h.sign_in(w.memory.unit(), "13800001111", GOOD, ADDRESS, w.secrets)
    assert again.outcome is h.Outcome.SIGNED_IN


async def test_a_county_provider_signs_in_the_person_its_verified_phone_names() -> None:
    w = await county()
    await activated(w)
    issuer = "https://sso.example.gov.cn"
    first = await h.sign_in_upstream(
        w.memory.unit(), issuer, "u-1", "+8613800001111", None, ADDRESS, w.secrets
    )
    assert first == h.SignIn(h.Outcome.SIGNED_IN, "m2")
    again = await h.sign_in_upstream(
        w.memory.unit(), issuer, "u-1", "+8613800001111", None, ADDRESS, w.secrets
    )
    assert again.outcome is h.Outcome.SIGNED_IN
    links = [e.data for e in w.memory.events if e.type == "UpstreamLinked"]
    assert len(links) == 1  # linked once
    assert links[0]["attribute"] == "phone"
    assert "u-1" not in json.dumps(links)
    nobody = await h.sign_in_upstream(
        w.memory.unit(), issuer, "u-2", "+8613900009999", "110101199003070011", ADDRESS, w.secrets
    )
    assert nobody == h.SignIn(h.Outcome.REFUSED)
