"""Signing in and out: to the identity service and back (authorization code + PKCE)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.calls import Refused
from services.console.session import (
    ROUTE_COOKIE,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    SIGNIN_SECONDS,
)
from services.console.signin import SignInFailed
from services.console.web import SESSION_SCOPE, Console, NotSignedIn, public_page, signed_in

router = APIRouter()


@router.get("/signin")
async def sign_in(request: Request, switch: bool = False) -> Response:
    """To the identity service's sign-in page; `switch` asks it to let the person choose
    another of their posts (another hat)."""
    console: Console = request.app.state.console
    try:
        url, pending = await console.identity.begin(prompt="select_account" if switch else None)
    except SignInFailed as e:
        return public_page("message.html", 503, title="暂时无法登录", message=str(e))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        SIGNIN_COOKIE,
        console.sealer.seal(pending),
        max_age=SIGNIN_SECONDS,
        httponly=True,
        samesite="lax",
        secure=console.settings.secure_cookies,
        path="/callback",
    )
    return response


@router.get("/callback")
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    console: Console = request.app.state.console
    pending = console.sealer.open(request.cookies.get(SIGNIN_COOKIE), SIGNIN_SECONDS)
    if error or not code or pending is None:
        return public_page(
            "message.html",
            400,
            title="登录未完成",
            message="登录未完成或已超时，请重新登录。",
        )
    try:
        session = await console.identity.finish(code, state, pending)
    except SignInFailed as e:
        return public_page("message.html", 400, title="登录未完成", message=str(e))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SIGNIN_COOKIE, path="/callback")
    console.cookie(response, session)
    if ROUTE_COOKIE not in request.cookies:  # the browser's replica, from now on
        response.set_cookie(
            ROUTE_COOKIE,
            secrets.token_urlsafe(12),
            httponly=True,
            samesite="lax",
            secure=console.settings.secure_cookies,
            path="/",
        )
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """退出: the refresh token revoked (which ends the sign-in at the identity service too),
    the cookie cleared. A form without this session's CSRF token (a stale page, or another
    site's) signs no one out: the person is asked again."""
    console: Console = request.app.state.console
    try:
        desk = await signed_in(request)
    except NotSignedIn:
        desk = None
    if desk is not None:
        try:
            await desk.form()
        except Refused:
            return desk.page("signout.html")
        await console.identity.sign_out(desk.session)
    request.scope.get("state", {}).pop(SESSION_SCOPE, None)
    response = RedirectResponse("/signed-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/signed-out", response_class=HTMLResponse)
async def signed_out() -> HTMLResponse:
    return public_page("message.html", title="已退出", message="您已安全退出。")
