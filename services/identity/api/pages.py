"""The sign-in pages (server-rendered, simplified Chinese, phone-first, no outside assets),
and the authorization endpoint they serve: sign in (login name, password and, for some, a
one-time code), a first sign-in with an activation code, a new password once one expires,
and the choice of post ("hat") a token is for. Every form carries a CSRF token.

The OAuth request being answered travels through the forms signed (`request`), so no page
needs a session before sign-in; a redirect URI is used only when it is registered."""

from __future__ import annotations

import base64
import io
import json
from typing import Annotated, Any
from urllib.parse import urlencode

import pyotp
import segno
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.identity import handlers as h
from services.identity import queries as q
from services.identity.api.deps import (
    SESSION_COOKIE,
    check_csrf,
    client_address,
    keys_loaded,
    page,
    provider_of,
    secrets_of,
)
from services.identity.oidc.metrics import LOCKOUTS, SIGN_INS
from services.identity.oidc.provider import Hat, as_system
from shared.errors import InvalidInput

router = APIRouter(dependencies=[Depends(keys_loaded)], tags=["sign-in"], include_in_schema=False)
Field = Annotated[str, Form(max_length=4096)]
REFUSED = "登录名或密码不正确, 或尝试次数过多已暂时锁定。请稍后再试, 或联系乡镇办公室。"
LIMITED = "此网络地址尝试次数过多, 请稍后再试。"


def _carry(request: Request, params: dict[str, str]) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(params, sort_keys=True).encode()).decode()
    return provider_of(request).sign(raw)


def _carried(request: Request, signed: str) -> dict[str, str] | None:
    raw = provider_of(request).unsign(signed) if signed else None
    return None if raw is None else dict(json.loads(base64.urlsafe_b64decode(raw)))


def _back(params: dict[str, str], **answer: str) -> RedirectResponse:
    """To the client's registered redirect URI, with the answer and its state."""
    state = {"state": params["state"]} if params.get("state") else {}
    query = urlencode({**answer, **state})
    return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)


async def _execute(request: Request, work: Any) -> Any:
    return await as_system(request.app.state.runtime.executor, work)


@router.get("/authorize", response_class=HTMLResponse)
async def authorize(
    request: Request,
    client_id: Annotated[str, Query(max_length=200)] = "",
    redirect_uri: Annotated[str, Query(max_length=2000)] = "",
    response_type: Annotated[str, Query(max_length=50)] = "",
    code_challenge: Annotated[str, Query(max_length=200)] = "",
    code_challenge_method: Annotated[str, Query(max_length=20)] = "",
    state: Annotated[str, Query(max_length=500)] = "",
    nonce: Annotated[str, Query(max_length=500)] = "",
    scope: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    provider = provider_of(request)
    if not provider.registered_redirect(client_id, redirect_uri):
        return page(request, "error.html", {"message": "未登记的应用或回调地址。"}, 400)
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "state": state}
    if response_type != "code":
        return _back(params, error="unsupported_response_type")
    if code_challenge_method != "S256" or not 43 <= len(code_challenge) <= 128:
        return _back(params, error="invalid_request", error_description="PKCE S256 is required")
    params |= {"code_challenge": code_challenge, "nonce": nonce}
    return await _next_step(request, _carry(request, params))


async def _next_step(
    request: Request, carried: str, message: str | None = None, sid: str | None = None
) -> Response:
    """The page the person's session is at: sign in, a code, a new password, or a hat."""
    provider = provider_of(request)
    session = await provider.session(sid or request.cookies.get(SESSION_COOKIE))
    context = {"request_token": carried, "message": message}
    if session is None:
        upstream = bool(provider.settings.identity_upstream_issuer)
        return page(request, "signin.html", {**context, "upstream": upstream})
    if session.stage == "second_factor":
        return page(request, "code.html", context)
    if session.stage == "enrol":
        return page(request, "code.html", {**context, **_enrolment(session.pending or "")})
    if session.stage == "password":
        return page(request, "password.html", context)
    return await _hats(request, carried, session.person_id)


def _enrolment(secret: str) -> dict[str, str]:
    uri = pyotp.TOTP(secret).provisioning_uri(name="gongkai", issuer_name="公开承诺")
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", scale=4, xmldecl=False, svgns=True)
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()
    return {"secret": secret, "qr": qr}


async def _hats(request: Request, carried: str, person_id: str) -> Response:
    pool = request.app.state.runtime.pool
    async with pool.acquire() as conn:
        posts = await q.current_posts(conn, person_id)
    if not posts:
        return page(
            request, "error.html", {"message": "您目前没有可用的职务, 请联系乡镇办公室。"}, 403
        )
    params = _carried(request, carried)
    if params is None:  # signed in here, not for an application: a way on to the console
        console = provider_of(request).settings.console_url
        return page(request, "done.html", {"posts": posts, "console": console})
    if len(posts) == 1:
        return await _issue(request, params, person_id, posts[0]["role"], posts[0]["org"])
    return page(request, "hats.html", {"request_token": carried, "posts": posts})


async def _issue(
    request: Request, params: dict[str, str], person_id: str, role: str, org: str
) -> Response:
    code = await provider_of(request).issue_code(
        Hat(person_id, role, org),
        params["client_id"],
        params["redirect_uri"],
        params["code_challenge"],
        params.get("nonce") or None,
    )
    return _back(params, code=code)


def _with_session(response: Response, request: Request, sid: str) -> Response:
    secure = provider_of(request).settings.identity_cookie_secure
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=secure)
    return response


async def after_sign_in(request: Request, carried: str, outcome: h.SignIn) -> Response:
    """Where a sign-in step leads: the next step, or the same form with one answer for every
    refusal (no account enumeration)."""
    SIGN_INS.labels(outcome.outcome.value).inc()
    if outcome.lockout:
        LOCKOUTS.inc()
    if outcome.outcome is h.Outcome.REFUSED:
        return page(request, "signin.html", {"request_token": carried, "message": REFUSED}, 401)
    if outcome.outcome is h.Outcome.ADDRESS_LIMITED:
        return page(request, "signin.html", {"request_token": carried, "message": LIMITED}, 429)
    assert outcome.person_id is not None
    provider = provider_of(request)
    stage, pending = {
        h.Outcome.SIGNED_IN: ("signed_in", None),
        h.Outcome.NEEDS_SECOND_FACTOR: ("second_factor", None),
        h.Outcome.ENROL_SECOND_FACTOR: ("enrol", pyotp.random_base32()),
        h.Outcome.PASSWORD_EXPIRED: ("password", None),
    }[outcome.outcome]
    await provider.end_session(request.cookies.get(SESSION_COOKIE))
    sid = await provider.start_session(outcome.person_id, stage, pending)
    return _with_session(await _next_step(request, carried, sid=sid), request, sid)


@router.post("/signin", response_class=HTMLResponse)
async def sign_in(
    request: Request, csrf: Field, login_name: Field, password: Field, request_token: Field = ""
) -> Response:
    check_csrf(request, csrf)
    secrets, address = secrets_of(request), client_address(request)
    outcome = await _execute(
        request, lambda uow: h.sign_in(uow, login_name.strip(), password, address, secrets)
    )
    return await after_sign_in(request, request_token, outcome)


@router.post("/signin/code", response_class=HTMLResponse)
async def second_factor(
    request: Request, csrf: Field, code: Field, request_token: Field = ""
) -> Response:
    check_csrf(request, csrf)
    provider, secrets = provider_of(request), secrets_of(request)
    sid = request.cookies.get(SESSION_COOKIE)
    session = await provider.session(sid)
    if sid is None or session is None or session.stage not in ("second_factor", "enrol"):
        return await _next_step(request, request_token, "会话已过期, 请重新登录。")
    address = client_address(request)
    if session.stage == "enrol":
        secret = session.pending or ""
        outcome = await _execute(
            request,
            lambda uow: h.enrol_second_factor(
                uow, session.person_id, secret, code, address, secrets
            ),
        )
    else:
        outcome = await _execute(
            request,
            lambda uow: h.check_second_factor(uow, session.person_id, code, address, secrets),
        )
    if outcome.outcome is h.Outcome.REFUSED:
        await provider.end_session(sid)
    return await after_sign_in(request, request_token, outcome)


@router.post("/signin/password", response_class=HTMLResponse)
async def new_password(
    request: Request, csrf: Field, password: Field, password2: Field, request_token: Field = ""
) -> Response:
    check_csrf(request, csrf)
    provider, secrets = provider_of(request), secrets_of(request)
    sid = request.cookies.get(SESSION_COOKIE)
    session = await provider.session(sid)
    if sid is None or session is None or session.stage != "password":
        return await _next_step(request, request_token, "会话已过期, 请重新登录。")
    if password != password2:
        return page(
            request,
            "password.html",
            {"request_token": request_token, "message": "两次输入的密码不一致。"},
            400,
        )
    try:
        await _execute(
            request, lambda uow: h.change_password(uow, session.person_id, password, secrets)
        )
    except InvalidInput as refused:  # the policy's reason, on the form again
        context = {"request_token": request_token, "message": refused.detail}
        return page(request, "password.html", context, 422)
    await provider.advance_session(sid, "signed_in")
    return await _next_step(request, request_token)


@router.get("/activate", response_class=HTMLResponse)
async def activation_form(
    request: Request, request_token: Annotated[str, Query(max_length=4096)] = ""
) -> Response:
    """The activation form; from an application's sign-in (`request_token`, the signed
    request), activating goes on to that application as signing in does."""
    carried = request_token if _carried(request, request_token) is not None else ""
    return page(request, "activate.html", {"request_token": carried})


@router.post("/activate", response_class=HTMLResponse)
async def activate(
    request: Request,
    csrf: Field,
    login_name: Field,
    code: Field,
    password: Field,
    password2: Field,
    request_token: Field = "",
) -> Response:
    """A first sign-in: the activation code the township office gave, and a new password."""
    check_csrf(request, csrf)
    context = {"request_token": request_token}
    if password != password2:
        return page(request, "activate.html", {**context, "message": "两次输入的密码不一致。"}, 400)
    secrets, address = secrets_of(request), client_address(request)
    try:
        outcome = await _execute(
            request,
            lambda uow: h.activate(uow, login_name.strip(), code, password, address, secrets),
        )
    except InvalidInput as refused:  # the password policy's reason; the code still unused
        return page(request, "activate.html", {**context, "message": refused.detail}, 422)
    if outcome.outcome is h.Outcome.REFUSED:
        SIGN_INS.labels(outcome.outcome.value).inc()
        message = "登录名或激活码不正确, 或已过期。请联系乡镇办公室。"
        return page(request, "activate.html", {**context, "message": message}, 401)
    return await after_sign_in(request, request_token, outcome)


@router.post("/authorize/hat", response_class=HTMLResponse)
async def choose_hat(
    request: Request, csrf: Field, role: Field, org: Field, request_token: Field
) -> Response:
    """The post the token is for, among those the person holds now."""
    check_csrf(request, csrf)
    session = await provider_of(request).session(request.cookies.get(SESSION_COOKIE))
    params = _carried(request, request_token)
    if session is None or session.stage != "signed_in" or params is None:
        return await _next_step(request, request_token, "会话已过期, 请重新登录。")
    async with request.app.state.runtime.pool.acquire() as conn:
        posts = await q.current_posts(conn, session.person_id)
    if not any(p["role"] == role and p["org"] == org for p in posts):
        return page(request, "error.html", {"message": "您不担任该职务。"}, 403)
    return await _issue(request, params, session.person_id, role, org)


@router.post("/signout", response_class=HTMLResponse)
async def sign_out(request: Request, csrf: Field) -> Response:
    check_csrf(request, csrf)
    await provider_of(request).end_session(request.cookies.get(SESSION_COOKIE))
    response = page(request, "signin.html", {"request_token": "", "message": "已退出登录。"})
    response.delete_cookie(SESSION_COOKIE)
    return response
