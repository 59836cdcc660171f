"""Command handlers: load, check, decide, save. One function per command; the unit of work is
their only dependency, and they read through its ports (`queries.reads`, the credential table
`store.credentials`), never its connection: tests/unit/test_identity_handlers.py runs them
in memory.

Sign-in is a command too: a failure is counted (and may lock the account, an event) in the
same transaction that answers it, so `sign_in` returns an outcome rather than raising."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import pyotp

from services.identity import access, queries
from services.identity import commands as c
from services.identity.aggregates import LockoutPolicy, PasswordPolicy, Person, needs_second_factor
from services.identity.aggregates.person import stream_of
from services.identity.events import CredentialKind, PostSource
from services.identity.oidc import passwords
from services.identity.oidc.passwords import Hasher
from services.identity.oidc.provider import SYSTEM
from services.identity.oidc.store import Credential, credentials
from shared.auth import Principal, Role, require
from shared.errors import InvalidInput, InvalidState, NotFound
from shared.phone import mobile
from shared.unit_of_work import UnitOfWork, accepted, new_id


@dataclass(frozen=True)
class Secrets:
    """How credentials are checked: the hasher and the policies (configurable)."""

    hasher: Hasher
    passwords: PasswordPolicy = field(default_factory=PasswordPolicy)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    activation_days: int = 14


def now(uow: UnitOfWork) -> datetime:
    return uow.store.clock.now()


async def person_of(uow: UnitOfWork, person_id: str) -> Person:
    return await uow.get(Person, stream_of(person_id), "该人员")


# --- people and posts -----------------------------------------------------------------


async def register_person(uow: UnitOfWork, cmd: c.RegisterPerson, who: Principal) -> dict[str, Any]:
    reads = uow.port(queries.reads)
    require(
        access.may_register(who, cmd.county_id, await reads.place(who.org or "")),
        "人员由县管理员或乡镇党委、创先办登记：请切换到相应身份。",
    )
    person = Person.register(new_id("p"), cmd.name, cmd.county_id, PostSource.GRANT, who.subject)
    await uow.save(person)
    return accepted(person.person_id, uow)


async def grant_post(
    uow: UnitOfWork, person_id: str, cmd: c.GrantPost, who: Principal
) -> dict[str, Any]:
    person = await person_of(uow, person_id)
    place = await uow.port(queries.reads).place(cmd.org)
    require(
        access.may_grant(who, cmd.role, place, person.county_id),
        "县级岗位由县管理员授予；乡镇创先办的工作人员由乡镇党委授予。请切换到相应身份。",
    )
    person.start_post(cmd.role, cmd.org, PostSource.GRANT, now(uow), who.subject, cmd.reason)
    await uow.save(person)
    return accepted(person_id, uow)


async def revoke_post(
    uow: UnitOfWork, person_id: str, cmd: c.RevokePost, who: Principal
) -> dict[str, Any]:
    person = await person_of(uow, person_id)
    place = await uow.port(queries.reads).place(cmd.org)
    require(
        access.may_grant(who, cmd.role, place, person.county_id),
        "只有可以授予该岗位的人才能收回它。",
    )
    person.end_post(cmd.role, cmd.org, now(uow), who.subject, cmd.reason, source=PostSource.GRANT)
    await uow.save(person)
    return accepted(person_id, uow)


async def lock_person(
    uow: UnitOfWork, person_id: str, cmd: c.LockPerson, who: Principal
) -> dict[str, Any]:
    person = await person_of(uow, person_id)
    require(access.may_lock(who, person.county_id), "账号由县管理员锁定：请联系县管理员。")
    person.lock(now(uow), who.subject, cmd.reason)
    await uow.save(person)
    return accepted(person_id, uow)


async def unlock_person(uow: UnitOfWork, person_id: str, who: Principal) -> dict[str, Any]:
    person = await person_of(uow, person_id)
    require(access.may_lock(who, person.county_id), "账号由县管理员解锁：请联系县管理员。")
    person.unlock(now(uow), who.subject)
    await uow.save(person)
    store = uow.port(credentials)
    held = await store.of(person_id)
    if held is not None:  # a fresh start: no failures, no brute-force lock pending
        await store.save(held.but(failures=0, locked_until=None, locks=0))
    return accepted(person_id, uow)


# --- credentials ----------------------------------------------------------------------


async def issue_activation(
    uow: UnitOfWork, person_id: str, cmd: c.IssueActivation, who: Principal, secrets: Secrets
) -> dict[str, Any]:
    """The login name and a one-time activation code (answered once, never kept readable):
    a first sign-in, or a reset by the office (the old password stops working at once)."""
    person = await person_of(uow, person_id)
    townships = await uow.port(queries.reads).townships_of(person_id)
    require(
        access.may_issue_activation(who, person.county_id, townships),
        "激活码由该人员任职乡镇的创先办发放：请联系该乡镇创先办。",
    )
    store = uow.port(credentials)
    login = passwords.login_hash(await store.pepper(), cmd.login_name)
    other = await store.by_login(login)
    if other is not None and other.person_id != person_id:
        raise InvalidInput("这个登录名已被他人使用：请换一个登录名。", field="login_name")
    code = passwords.activation_code()
    at = now(uow)
    held = await store.of(person_id) or Credential(person_id)
    await store.save(
        held.but(
            login_hash=login,
            password_hash=None,
            activation_hash=await secrets.hasher.hash(passwords.normal_code(code)),
            activation_expires=at + timedelta(days=secrets.activation_days),
            failures=0,
            locked_until=None,
        )
    )
    if held.login_hash != login:
        person.credential_set(CredentialKind.LOGIN_NAME, at, who.subject)
    person.credential_set(CredentialKind.ACTIVATION_CODE, at, who.subject)
    await uow.save(person)
    expires = at + timedelta(days=secrets.activation_days)
    return accepted(
        person_id,
        uow,
        name=person.name,
        login_name=cmd.login_name,
        activation_code=code,
        expires_at=expires.isoformat(),
    )


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"  # wrong name, password or code, or locked: one answer for all
    ADDRESS_LIMITED = "address_limited"  # this address failed too often: wait
    NEEDS_SECOND_FACTOR = "needs_second_factor"
    ENROL_SECOND_FACTOR = "enrol_second_factor"
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 (an outcome, not a password)


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    person_id: str | None = None
    lockout: bool = False  # this attempt locked the account


async def _address_limited(uow: UnitOfWork, address: str, secrets: Secrets) -> bool:
    policy = secrets.lockout
    if policy.address_failures <= 0:
        return False
    since = now(uow) - timedelta(minutes=policy.address_window_minutes)
    return await uow.port(credentials).address_failures(address, since) >= policy.address_failures


async def _failed(
    uow: UnitOfWork, held: Credential | None, address: str, secrets: Secrets
) -> SignIn:
    """Count a failure against the address and the account; lock it after too many."""
    store, at = uow.port(credentials), now(uow)
    await store.address_failed(address, at)
    if held is None:
        return SignIn(Outcome.REFUSED)
    failures = held.failures + 1
    if not secrets.lockout.locks(failures):
        await store.save(held.but(failures=failures))
        return SignIn(Outcome.REFUSED)
    until = at + secrets.lockout.lock_for(held.locks)
    await store.save(held.but(failures=0, locked_until=until, locks=held.locks + 1))
    person = await person_of(uow, held.person_id)
    if not person.locked:
        person.lock(at, SYSTEM, "连续登录失败", until=until)
        await uow.save(person)
    return SignIn(Outcome.REFUSED, lockout=True)


async def _usable(uow: UnitOfWork, held: Credential) -> tuple[bool, Person]:
    """Whether the account may sign in now: not locked by an administrator, and past any
    brute-force lock (which ends by itself: its end is recorded as an unlock)."""
    person = await person_of(uow, held.person_id)
    at = now(uow)
    if held.locked_until is not None and at < held.locked_until:
        return False, person
    if person.locked:
        if person.lock_until is None or at < person.lock_until:
            return False, person  # locked by an administrator (or not yet over)
        person.unlock(at, SYSTEM)
        await uow.save(person)
    return True, person


async def _second_factor(uow: UnitOfWork, held: Credential) -> SignIn:
    """After a password (or the county's provider): the one-time code of those who enrolled
    one, an enrolment for county administrators and auditors who have none, or signed in."""
    if held.totp_secret is not None:
        return SignIn(Outcome.NEEDS_SECOND_FACTOR, held.person_id)
    roles = await uow.port(queries.reads).roles_of(held.person_id)
    if needs_second_factor({Role(r) for r in roles}):
        return SignIn(Outcome.ENROL_SECOND_FACTOR, held.person_id)
    return SignIn(Outcome.SIGNED_IN, held.person_id)


async def sign_in(
    uow: UnitOfWork,
    login_name: str,
    password: str,
    address: str,
    secrets: Secrets,
) -> SignIn:
    """Check a login name and password; then what else the person must do: a second factor
    (required of county administrators and auditors), or a new password once it expired."""
    if await _address_limited(uow, address, secrets):
        return SignIn(Outcome.ADDRESS_LIMITED)
    store = uow.port(credentials)
    held = await store.by_login(passwords.login_hash(await store.pepper(), login_name))
    good = await secrets.hasher.verify(held.password_hash if held else None, password)
    if held is None or not good:
        return await _failed(uow, held, address, secrets)
    usable, person = await _usable(uow, held)
    if not usable:
        return await _failed(uow, held, address, secrets)
    await store.save(held.but(failures=0, locks=0, locked_until=None))
    if held.password_set_at and secrets.passwords.expired(held.password_set_at, now(uow)):
        return SignIn(Outcome.PASSWORD_EXPIRED, person.person_id)
    return await _second_factor(uow, held)


def upstream_login_names(phone: str | None, id_number: str | None) -> list[tuple[str, str]]:
    """The login names a county's provider vouches for: a mainland mobile number (without
    +86), an ID number; each with the attribute it came from."""
    names = []
    if phone:
        names.append(("phone", mobile(phone) or phone))
    if id_number:
        names.append(("id_number", id_number.strip()))
    return names


async def sign_in_upstream(
    uow: UnitOfWork,
    issuer: str,
    subject: str,
    phone: str | None,
    id_number: str | None,
    address: str,
    secrets: Secrets,
) -> SignIn:
    """A person the county's own provider signed in and vouches for: matched to the person
    whose login name is the phone number or ID number it verified (the office issued it), the
    link recorded the first time. Locks hold; a second factor is still asked of those who
    need one. Nobody matched: refused, as a wrong password is."""
    if await _address_limited(uow, address, secrets):
        return SignIn(Outcome.ADDRESS_LIMITED)
    store = uow.port(credentials)
    pepper = await store.pepper()
    for attribute, login_name in upstream_login_names(phone, id_number):
        held = await store.by_login(passwords.login_hash(pepper, login_name))
        if held is None:
            continue
        usable, person = await _usable(uow, held)
        if not usable:
            return SignIn(Outcome.REFUSED)
        person.link_upstream(issuer, passwords.token_hash(subject), attribute, now(uow))
        await uow.save(person)
        return await _second_factor(uow, held)
    await store.address_failed(address, now(uow))
    return SignIn(Outcome.REFUSED)


async def check_second_factor(
    uow: UnitOfWork, person_id: str, code: str, address: str, secrets: Secrets
) -> SignIn:
    """The one-time code of a person who gave the right password; failures count alike."""
    store = uow.port(credentials)
    held = await store.of(person_id)
    if held is None or held.totp_secret is None:
        raise InvalidState("还没有设置第二重验证，无需取消。")
    if not pyotp.TOTP(held.totp_secret).verify(code.strip(), for_time=now(uow), valid_window=1):
        return await _failed(uow, held, address, secrets)
    await store.save(held.but(failures=0))
    return SignIn(Outcome.SIGNED_IN, person_id)


async def enrol_second_factor(
    uow: UnitOfWork, person_id: str, secret: str, code: str, address: str, secrets: Secrets
) -> SignIn:
    """Keep a new TOTP secret once the person shows a code from it."""
    store = uow.port(credentials)
    held = await store.of(person_id)
    if held is None:
        raise NotFound("没有找到该登录凭据：请重新设置。", person_id=person_id)
    if not pyotp.TOTP(secret).verify(code.strip(), for_time=now(uow), valid_window=1):
        return await _failed(uow, held, address, secrets)
    await store.save(held.but(totp_secret=secret, failures=0))
    person = await person_of(uow, person_id)
    person.credential_set(CredentialKind.TOTP, now(uow), person_id)
    await uow.save(person)
    return SignIn(Outcome.SIGNED_IN, person_id)


async def _set_password(
    uow: UnitOfWork, held: Credential, password: str, login_name: str | None, secrets: Secrets
) -> None:
    secrets.passwords.check(password, login_name)
    for earlier in (held.password_hash, *held.previous_hashes):
        if earlier is not None and await secrets.hasher.verify(earlier, password):
            raise InvalidInput(
                f"不得重复使用最近 {secrets.passwords.history} 次用过的密码", field="password"
            )
    hashed = await secrets.hasher.hash(password)
    kept = (held.password_hash, *held.previous_hashes) if held.password_hash else ()
    history = tuple(kept)[: max(secrets.passwords.history - 1, 0)]
    at = now(uow)
    await uow.port(credentials).save(
        held.but(
            password_hash=hashed,
            password_set_at=at,
            previous_hashes=history,
            activation_hash=None,
            activation_expires=None,
            failures=0,
        )
    )
    person = await person_of(uow, held.person_id)
    person.credential_set(CredentialKind.PASSWORD, at, held.person_id)
    await uow.save(person)


async def activate(
    uow: UnitOfWork,
    login_name: str,
    code: str,
    password: str,
    address: str,
    secrets: Secrets,
) -> SignIn:
    """A first sign-in (or one after a reset): the activation code, then a new password."""
    if await _address_limited(uow, address, secrets):
        return SignIn(Outcome.ADDRESS_LIMITED)
    store = uow.port(credentials)
    held = await store.by_login(passwords.login_hash(await store.pepper(), login_name))
    hashed = held.activation_hash if held else None
    good = await secrets.hasher.verify(hashed, passwords.normal_code(code))
    expired = held is None or held.activation_expires is None
    expired = expired or now(uow) >= held.activation_expires  # type: ignore[union-attr, operator]
    if held is None or not good or expired:
        return await _failed(uow, held, address, secrets)
    usable, _ = await _usable(uow, held)
    if not usable:
        return await _failed(uow, held, address, secrets)
    await _set_password(uow, held, password, login_name, secrets)
    return await _second_factor(uow, held)


async def change_password(
    uow: UnitOfWork, person_id: str, password: str, secrets: Secrets
) -> dict[str, Any]:
    """A new password for a person already signed in (an expired one, or by choice)."""
    held = await uow.port(credentials).of(person_id)
    if held is None:
        raise NotFound("没有找到该登录凭据：请重新设置。", person_id=person_id)
    await _set_password(uow, held, password, None, secrets)
    return accepted(person_id, uow)
