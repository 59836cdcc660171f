"""The OpenID Connect endpoints a client calls: discovery, the JWKS, the token endpoint
(authorization code with PKCE, refresh token, client credentials), revocation, and the
registration of integration clients by the county administrator. Errors are the ones the
OAuth specification names (`{"error": ..., "error_description": ...}`)."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse

from services.identity import commands as c
from services.identity.api.deps import keys_loaded, provider_of, public_base
from services.identity.oidc.metrics import TOKENS
from services.identity.oidc.provider import (
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedGrantTypeError,
)
from services.identity.schemas import ClientRegistered
from shared.auth import county_admin, require
from shared.http import SignedIn

router = APIRouter(dependencies=[Depends(keys_loaded)], tags=["openid-connect"])
Param = Annotated[str, Form(max_length=4096)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/.well-known/openid-configuration", operation_id="openidConfiguration")
async def discovery(request: Request) -> dict[str, Any]:
    base = public_base(request)
    return {
        "issuer": provider_of(request).issuer,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "revocation_endpoint": f"{base}/revoke",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
        ],
        "scopes_supported": ["openid", "profile"],
        "claims_supported": ["sub", "name", "role", "org"],
    }


@router.get("/.well-known/jwks.json", operation_id="jwks")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(provider_of(request).jwks(), headers={"Cache-Control": "max-age=60"})


GRANTS = ("authorization_code", "refresh_token", "client_credentials")


def _oauth_error(error: OAuth2Error, grant: str) -> JSONResponse:
    TOKENS.labels(grant if grant in GRANTS else "other", error.error or "error").inc()
    body = {"error": error.error, "error_description": error.get_error_description() or ""}
    headers, status = dict(NO_STORE), error.status_code
    if isinstance(error, InvalidClientError):  # RFC 6749 5.2: 401, with the scheme to use
        headers["WWW-Authenticate"] = 'Basic realm="gongkai"'
        status = 401
    return JSONResponse(body, status_code=status, headers=headers)


def _basic(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return unquote(user), unquote(secret)


@router.post("/token", operation_id="token")
async def token(
    request: Request,
    grant_type: Param,
    code: Param = "",
    redirect_uri: Param = "",
    code_verifier: Param = "",
    refresh_token: Param = "",
    client_id: Param = "",
    client_secret: Param = "",
) -> JSONResponse:
    """The token endpoint (RFC 6749 section 3.2); an integration client authenticates with
    HTTP Basic (`client_secret_basic`) or in the form (`client_secret_post`)."""
    provider = provider_of(request)
    authorization = request.headers.get("authorization")
    try:
        if grant_type == "authorization_code":
            if not code or not client_id or not redirect_uri or not code_verifier:
                raise InvalidRequestError(
                    description="code, client_id, redirect_uri and code_verifier are required"
                )
            answer = await provider.exchange_code(code, client_id, redirect_uri, code_verifier)
        elif grant_type == "refresh_token":
            if not refresh_token or not client_id:
                raise InvalidRequestError(description="refresh_token and client_id are required")
            answer = await provider.refresh(refresh_token, client_id)
        elif grant_type == "client_credentials":
            given = _basic(authorization) or (client_id, client_secret)
            if not all(given):
                raise InvalidClientError(description="client authentication is required")
            answer = await provider.client_credentials(*given)
        else:
            raise UnsupportedGrantTypeError(grant_type[:100])
    except OAuth2Error as error:
        return _oauth_error(error, grant_type)
    TOKENS.labels(grant_type, "issued").inc()
    return JSONResponse(answer, headers=NO_STORE)


@router.post("/revoke", operation_id="revokeToken")
async def revoke(request: Request, token: Param) -> JSONResponse:
    """RFC 7009: always 200; a refresh token ends with its whole family."""
    await provider_of(request).revoke(token)
    return JSONResponse({}, headers=NO_STORE)


@router.post(
    "/v1/clients", status_code=201, response_model=ClientRegistered, operation_id="registerClient"
)
async def register_client(cmd: c.RegisterClient, request: Request, who: SignedIn) -> Any:
    """An integration client (another government system) of the county: client credentials,
    role `integration`, place the county. The secret is answered once."""
    require(county_admin(who, cmd.county_id), "接入系统由县管理员登记：请切换到县管理员身份。")
    client_id, secret = await provider_of(request).register_client(cmd.name, cmd.county_id)
    return {"client_id": client_id, "client_secret": secret}
