"""Signing in at a county's own OpenID Connect provider (issue 16.4), where one is linked
(`GONGKAI_IDENTITY_UPSTREAM_*`): `/upstream/begin` sends the browser there, `/upstream/callback`
takes the person it vouches for (services/identity/upstream.py verifies it), matches them by
the phone or ID number it verified, and carries on as a sign-in with a password would."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.identity import handlers as h
from services.identity.api.deps import (
    client_address,
    keys_loaded,
    page,
    provider_of,
    public_base,
    secrets_of,
)
from services.identity.api.pages import after_sign_in
from services.identity.oidc.provider import as_system

router = APIRouter(dependencies=[Depends(keys_loaded)], tags=["sign-in"], include_in_schema=False)
PENDING_COOKIE = "gk_upstream"
NOT_LINKED = "本县未接入统一身份认证, 请使用手机号或身份证号登录。"


def _upstream(request: Request) -> object | None:
    """The client of the county's provider, when one is configured (made once)."""
    runtime = request.app.state.runtime
    if "upstream" not in runtime.components:
        settings = provider_of(request).settings
        client = None
        if settings.identity_upstream_issuer and settings.identity_upstream_client_id:
            from services.identity.upstream import Upstream, UpstreamSettings

            client = Upstream(
                UpstreamSettings(
                    issuer=settings.identity_upstream_issuer,
                    client_id=settings.identity_upstream_client_id,
                    client_secret=settings.identity_upstream_client_secret,
                    scopes=settings.identity_upstream_scopes,
                    id_number_claim=settings.identity_upstream_id_number_claim,
                )
            )
        runtime.components["upstream"] = client
    found: object | None = runtime.components["upstream"]
    return found


def _callback(request: Request) -> str:
    """The address the county's provider sends the browser back to: this service's public one
    (registered there), whatever address the request came to."""
    return public_base(request) + str(request.app.url_path_for("upstream_callback"))


@router.get("/upstream/begin", response_class=HTMLResponse)
async def upstream_begin(
    request: Request, request_token: Annotated[str, Query(max_length=4096)] = ""
) -> Response:
    upstream = _upstream(request)
    if upstream is None:
        return page(request, "error.html", {"message": NOT_LINKED}, 404)
    url, blob = await upstream.begin(_callback(request))  # type: ignore[attr-defined]
    pending = await provider_of(request).keep_pending(blob, request_token)
    response = RedirectResponse(url, status_code=303)
    secure = provider_of(request).settings.identity_cookie_secure
    response.set_cookie(PENDING_COOKIE, pending, httponly=True, samesite="lax", secure=secure)
    return response


@router.get("/upstream/callback", response_class=HTMLResponse, name="upstream_callback")
async def upstream_callback(request: Request) -> Response:
    upstream = _upstream(request)
    if upstream is None:
        return page(request, "error.html", {"message": NOT_LINKED}, 404)
    from services.identity.upstream import UpstreamRefused

    taken = await provider_of(request).take_pending(request.cookies.get(PENDING_COOKIE))
    if taken is None:
        return page(request, "error.html", {"message": "登录已过期, 请重新开始。"}, 400)
    blob, carried = taken
    try:
        person = await upstream.finish(dict(request.query_params), blob)  # type: ignore[attr-defined]
    except UpstreamRefused:
        return page(request, "error.html", {"message": "县统一身份认证未能确认您的身份。"}, 401)
    secrets, address = secrets_of(request), client_address(request)
    outcome = await as_system(
        request.app.state.runtime.executor,
        lambda uow: h.sign_in_upstream(
            uow, person.issuer, person.subject, person.phone, person.id_number, address, secrets
        ),
    )
    response = await after_sign_in(request, carried, outcome)
    response.delete_cookie(PENDING_COOKIE)
    return response
