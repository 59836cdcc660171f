"""A county's own identity provider, linked as an upstream OpenID Connect provider (issue 16,
item 4): a person signs in there and comes back with claims the county's provider verified
(a phone number, an ID number), by which identity matches them to a directory person.

A client on authlib's OpenID pieces (PKCE's S256, the ID token's claims) over plain httpx
(authlib's httpx integration is deprecated in favour of an httpx2 the project does not use),
with no state of its own between the two halves of a sign-in:

* `await Upstream(settings).begin(redirect_uri)` discovers the provider
  (`<issuer>/.well-known/openid-configuration`) and gives the authorization URL to send the
  browser to (authorization code with PKCE S256, a fresh `state` and `nonce`) and a
  `state_blob` the caller keeps until the browser comes back. The blob holds the PKCE
  verifier: keep it on the server (identity's session) or in a cookie only sealed and
  HttpOnly; never in a URL, an event or a log line.
* `await upstream.finish(callback_params, state_blob)` checks `state` (and `iss`, RFC 9207,
  when the provider sends it), redeems the code with the verifier, verifies the ID token
  (signature by the provider's JWKS, `iss`, `aud` = our client id, `azp`, `exp`/`iat`,
  `nonce`, `at_hash`), reads the claims (from the ID token, or from `userinfo` where the
  provider keeps them there, its `sub` the ID token's) and gives a `VerifiedPerson`: the
  issuer, the subject there, and the phone number (only when `phone_number_verified` is
  true) and/or the ID number (only the claim the county names as verified by its provider).

Anything wrong (an OAuth error from the provider, a state or nonce that does not match, a
code used twice, a token signed by another key, no verified attribute) raises
`UpstreamRefused` with the reason, for the identity service's page to show; nothing is
granted.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from pydantic import BaseModel, ConfigDict

BLOB_SECONDS = 600  # how long a sign-in at the county's provider may take
LEEWAY_SECONDS = 60  # clock difference allowed with the county's provider


class UpstreamRefused(Exception):
    """The county's provider did not vouch for anyone (the reason says why)."""


class UpstreamSettings(BaseModel):
    """How one county's provider is linked (identity's settings give these values)."""

    model_config = ConfigDict(frozen=True)

    issuer: str  # exactly as the provider names itself; discovery is under it
    client_id: str
    client_secret: str | None = None  # None: a public client (PKCE alone)
    scopes: str = "openid phone"
    # the claim carrying a verified ID number, when the county's provider vouches for one
    id_number_claim: str | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class VerifiedPerson:
    issuer: str
    subject: str  # the person's id at the county's provider
    phone: str | None = None  # verified by the provider
    id_number: str | None = None
    name: str | None = None


class Upstream:
    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Any] | None = None

    def _client_auth(self) -> tuple[dict[str, str], httpx.Auth]:
        """How this client authenticates at the token endpoint: `client_secret_basic` with a
        secret, else a public client naming itself in the form (PKCE alone)."""
        s = self.settings
        if s.client_secret is None:
            return {"client_id": s.client_id}, httpx.Auth()  # no header
        return {}, httpx.BasicAuth(s.client_id, s.client_secret)

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once), checked to name our issuer."""
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer") != self.settings.issuer:
                raise UpstreamRefused(
                    f"the provider at {url} names itself {document.get('issuer')!r}"
                )
            for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(needed), str):
                    raise UpstreamRefused(f"the provider's discovery document has no {needed}")
            self._metadata = document
        return self._metadata

    async def _get_json(self, url: str, **options: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds) as http:
                response = await http.get(url, **options)
                response.raise_for_status()
                answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise UpstreamRefused(f"the county's provider did not answer {url}: {error}") from error
        if not isinstance(answer, dict):
            raise UpstreamRefused(f"{url} did not answer a JSON object")
        return answer

    async def _key_set(self, *, again: bool = False) -> KeySet:
        if self._keys is None or again:
            self._keys = await self._get_json((await self.metadata())["jwks_uri"])
        return KeySet.import_key_set(self._keys)  # type: ignore[arg-type]

    async def begin(self, redirect_uri: str) -> tuple[str, str]:
        """Where to send the browser, and what to keep until it comes back."""
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        query = httpx.QueryParams(
            response_type="code",
            client_id=self.settings.client_id,
            redirect_uri=redirect_uri,
            scope=self.settings.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        url = str(httpx.URL(metadata["authorization_endpoint"]).copy_merge_params(query))
        blob = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri,
            "issuer": self.settings.issuer,
            "until": time.time() + BLOB_SECONDS,
        }
        return url, json.dumps(blob)

    async def finish(self, callback_params: Mapping[str, str], state_blob: str) -> VerifiedPerson:
        """The person the provider vouches for, from the parameters the browser came back
        with and the blob `begin` gave."""
        try:
            kept = json.loads(state_blob)
            state, nonce, verifier = kept["state"], kept["nonce"], kept["verifier"]
            redirect_uri, until = kept["redirect_uri"], float(kept["until"])
        except (ValueError, KeyError, TypeError) as error:
            raise UpstreamRefused("the sign-in's state was lost; start again") from error
        if kept.get("issuer") != self.settings.issuer:
            raise UpstreamRefused("the sign-in was begun with another provider")
        if time.time() > until:
            raise UpstreamRefused("the sign-in took too long; start again")
        if not secrets.compare_digest(str(callback_params.get("state", "")), state):
            raise UpstreamRefused("the state does not match this sign-in")
        if "iss" in callback_params and callback_params["iss"] != self.settings.issuer:
            raise UpstreamRefused("the answer came from another provider (iss)")  # RFC 9207
        if "error" in callback_params:
            described = callback_params.get("error_description", "")
            raise UpstreamRefused(f"the provider refused: {callback_params['error']} {described}")
        code = callback_params.get("code")
        if not code:
            raise UpstreamRefused("the provider sent no authorization code")
        metadata = await self.metadata()
        form, auth = self._client_auth()
        form |= {"grant_type": "authorization_code", "code": code}
        form |= {"code_verifier": verifier, "redirect_uri": redirect_uri}
        async with httpx.AsyncClient(timeout=self.settings.timeout_seconds) as http:
            token = await self._token(http, metadata["token_endpoint"], form, auth)
            claims = await self._verified_id_token(token, nonce)
            if self._lacks_attributes(claims) and metadata.get("userinfo_endpoint"):
                userinfo = await self._userinfo(http, metadata, token, claims["sub"])
                claims = {**claims, **userinfo}
        return self._person(claims)

    async def _verified_id_token(self, token: Mapping[str, Any], nonce: str) -> dict[str, Any]:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise UpstreamRefused("the provider sent no ID token")
        metadata = await self.metadata()
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in algorithms if a != "none"]
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), registry=registry)
            except JoseError:  # perhaps a key rotated in since: fetch the keys once more
                decoded = jwt.decode(id_token, await self._key_set(again=True), registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.settings.issuer},
                    "aud": {"essential": True, "value": self.settings.client_id},
                    "sub": {"essential": True},
                    "nonce": {"essential": True, "value": nonce},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as error:
            raise UpstreamRefused(f"the ID token is not valid: {error}") from error
        return dict(claims)

    @staticmethod
    async def _token(
        http: httpx.AsyncClient, url: str, form: dict[str, str], auth: httpx.Auth
    ) -> dict[str, Any]:
        """Redeem the code (RFC 6749 4.1.3); the provider's OAuth error, if any, as the reason."""
        try:
            response = await http.post(
                url, data=form, auth=auth, headers={"Accept": "application/json"}
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise UpstreamRefused(f"the code was not accepted: {error}") from error
        if not isinstance(answer, dict):
            raise UpstreamRefused("the code was not accepted: the answer is no JSON object")
        if response.status_code != 200 or "error" in answer:
            described = answer.get("error_description", "")
            named = answer.get("error", response.status_code)
            raise UpstreamRefused(f"the code was not accepted: {named} {described}")
        return answer

    async def _userinfo(
        self,
        http: httpx.AsyncClient,
        metadata: Mapping[str, Any],
        token: Mapping[str, Any],
        subject: str,
    ) -> dict[str, Any]:
        bearer = {"Authorization": f"Bearer {token.get('access_token', '')}"}
        try:
            response = await http.get(metadata["userinfo_endpoint"], headers=bearer)
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise UpstreamRefused(f"the provider's userinfo did not answer: {error}") from error
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise UpstreamRefused("the provider's userinfo is about someone else")
        return info

    def _lacks_attributes(self, claims: Mapping[str, Any]) -> bool:
        named = self.settings.id_number_claim
        return "phone_number" not in claims and (named is None or named not in claims)

    def _person(self, claims: Mapping[str, Any]) -> VerifiedPerson:
        phone = claims.get("phone_number")
        if not (isinstance(phone, str) and claims.get("phone_number_verified") is True):
            phone = None  # a number the provider did not verify matches no one
        named = self.settings.id_number_claim
        id_number = claims.get(named) if named else None
        if not isinstance(id_number, str) or not id_number:
            id_number = None
        if phone is None and id_number is None:
            raise UpstreamRefused(
                "the county's provider vouched for neither a phone number nor an ID number"
            )
        name = claims.get("name")
        return VerifiedPerson(
            issuer=self.settings.issuer,
            subject=str(claims["sub"]),
            phone=phone,
            id_number=id_number.upper() if id_number else None,
            name=name if isinstance(name, str) else None,
        )
