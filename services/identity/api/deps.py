"""What the identity routes share: the provider and the credential policies (made at start,
services/identity/app.py), the page templates, CSRF tokens and the carried request."""

from __future__ import annotations

import secrets as random
from importlib import resources
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from services.identity.handlers import Secrets
from services.identity.oidc.provider import Provider
from shared.errors import Forbidden

templates = Jinja2Templates(
    directory=str(resources.files("services.identity").joinpath("templates"))
)
SESSION_COOKIE = "gk_session"
CSRF_COOKIE = "gk_csrf"
ROLE_NAMES = {
    "county_admin": "县级管理员",
    "township_committee": "乡镇党委",
    "township_office": "乡镇办公室",
    "branch_secretary": "支部书记",
    "member": "党员",
    "auditor": "审计",
}
templates.env.globals["role_names"] = ROLE_NAMES


def provider_of(request: Request) -> Provider:
    provider: Provider = request.app.state.runtime.components["provider"]
    return provider


def public_base(request: Request) -> str:
    """This service's address as browsers reach it: its issuer, when that is an address (behind
    a reverse proxy the request came from the console to an internal one, or as plain HTTP
    from a proxy that ended TLS), else the address the request came to."""
    issuer = provider_of(request).issuer
    return issuer.rstrip("/") if issuer.startswith("http") else str(request.base_url).rstrip("/")


async def keys_loaded(request: Request) -> None:
    """The provider's signing keys read (and read again when a few minutes old)."""
    await provider_of(request).ensure_keys()


def secrets_of(request: Request) -> Secrets:
    found: Secrets = request.app.state.runtime.components["secrets"]
    return found


def csrf_token(request: Request, response_cookies: dict[str, str]) -> str:
    """The form's CSRF token: the MAC of a random cookie (double submit, signed)."""
    value = request.cookies.get(CSRF_COOKIE) or response_cookies.setdefault(
        CSRF_COOKIE, random.token_urlsafe(16)
    )
    return provider_of(request).sign(value)


def check_csrf(request: Request, token: str) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or provider_of(request).unsign(token) != cookie:
        raise Forbidden("表单已过期或来源不明：请刷新页面后重新提交。")


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A server-rendered page with a CSRF token for its forms (and its cookie, if new)."""
    cookies: dict[str, str] = {}
    token = csrf_token(request, cookies)
    response = templates.TemplateResponse(
        request, name, {"csrf": token, **context}, status_code=status
    )
    secure = provider_of(request).settings.identity_cookie_secure
    for key, value in cookies.items():
        response.set_cookie(key, value, httponly=True, samesite="lax", secure=secure)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self' *;"
        " frame-ancestors 'none'"
    )
    return response


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
