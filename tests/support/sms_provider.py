"""A local SMS provider for the tests: Alibaba Cloud's and Tencent Cloud's `SendSms`, served
on 127.0.0.1 by a real HTTP server, that verifies each request's signature as the provider
does and records the messages it accepts.

Its checks are written here from the providers' documentation, independently of
shared/sms.py (a shared mistake would otherwise pass both): the signature recomputed with
the shared secret, the timestamp within the provider's window (Alibaba 15 minutes, Tencent
5), a nonce never seen before (Alibaba's SignatureNonce; Tencent's TC3 has none, so a
signature seen before is refused), the sign name, the template and its parameters, the
number. Answers are the providers' documented JSON, errors included; `fail_next` makes it
answer the next requests with given error codes.

    provider = SmsProvider()
    async with provider.running() as url: ...   # GONGKAI_SMS_ENDPOINT=url
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gongkai.develop.serving import serving
from shared.embedded import free_port

KEY_ID = "LTAI-test-key"
SECRET = "test-secret-Gu5t9xGARNpq86"
APP_ID = "1400000001"
SIGN_NAME = "民勤县委组织部"
# template id -> the names of its parameters (Tencent's are numbered, in this order)
TEMPLATES = {
    "SMS_2001": ("title", "due_on"),
    "SMS_2002": ("title", "due_on"),
    "SMS_3001": ("township", "title", "link"),  # an invitation to vote (issue 17)
    "1001": ("a",),
}
MAINLAND = re.compile(r"^(\+?86|0086)?1[3-9]\d{9}$")


@dataclass
class Accepted:
    provider: str
    phone: str
    sign_name: str
    template: str
    params: dict[str, str] | list[str]


@dataclass
class SmsProvider:
    key_id: str = KEY_ID
    secret: str = SECRET
    app_id: str = APP_ID
    sign_names: tuple[str, ...] = (SIGN_NAME,)
    skew: float = 0.0  # seconds the provider's clock is ahead of ours
    fail_next: list[str] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the error codes answered
    nonces: set[str] = field(default_factory=set)
    # well-formed mainland numbers the provider still calls illegal (none in service)
    out_of_service: set[str] = field(default_factory=set)

    def legal(self, phone: str) -> bool:
        return bool(MAINLAND.match(phone)) and phone[-11:] not in self.out_of_service

    def now(self) -> float:
        return time.time() + self.skew

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/")
        async def send(request: Request) -> JSONResponse:
            body = await request.body()
            if request.headers.get("authorization", "").startswith("TC3-HMAC-SHA256"):
                return self._tencent(request, body)
            return self._aliyun(dict(parse_qsl(body.decode(), keep_blank_values=True)))

        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        port = free_port()
        async with serving(self.app(), port):
            yield f"http://127.0.0.1:{port}/"

    @asynccontextmanager
    async def configured(
        self, monkeypatch: pytest.MonkeyPatch, templates: dict[str, str]
    ) -> AsyncIterator[SmsProvider]:
        """Running, with the services' SMS settings (`GONGKAI_SMS_*`) pointing at it as the
        county's Alibaba Cloud account with these approved `templates` (kind: id)."""
        async with self.running() as url:
            for name, value in {
                "PROVIDER": "aliyun",
                "ENDPOINT": url,
                "ACCESS_KEY_ID": KEY_ID,
                "ACCESS_KEY_SECRET": SECRET,
                "SIGN_NAME": SIGN_NAME,
                "TEMPLATES": json.dumps(templates),
            }.items():
                monkeypatch.setenv(f"GONGKAI_SMS_{name}", value)
            yield self

    # --- Alibaba Cloud (RPC, SignatureVersion 1.0) ------------------------------------

    def _aliyun(self, form: dict[str, str]) -> JSONResponse:
        def error(code: str, status: int = 400) -> JSONResponse:
            self.refused.append(code)
            answer = {"Code": code, "Message": code, "RequestId": str(uuid.uuid4())}
            return JSONResponse(answer, status_code=status)

        required = ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "Action")
        if any(name not in form for name in required):
            return error("MissingParameter")
        if form["AccessKeyId"] != self.key_id:
            return error("InvalidAccessKeyId.NotFound", 404)
        if (form.get("SignatureMethod"), form.get("SignatureVersion")) != ("HMAC-SHA1", "1.0"):
            return error("InvalidParameter.SignatureMethod")
        try:
            stamp = datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return error("InvalidTimeStamp.Format")
        if abs(stamp.timestamp() - self.now()) > 15 * 60:
            return error("InvalidTimeStamp.Expired")
        signed = {k: v for k, v in form.items() if k != "Signature"}

        def encode(text: str) -> str:
            return quote(text.encode(), safe="").replace("%7E", "~")

        pairs = "&".join(encode(k) + "=" + encode(signed[k]) for k in sorted(signed))
        to_sign = "POST&%2F&" + encode(pairs)
        expected = base64.b64encode(
            hmac.new((self.secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(expected, form["Signature"]):
            return error("SignatureDoesNotMatch")
        if form["SignatureNonce"] in self.nonces:
            return error("SignatureNonceUsed")
        self.nonces.add(form["SignatureNonce"])
        if (form["Action"], form.get("Version")) != ("SendSms", "2017-05-25"):
            return error("InvalidAction.NotFound", 404)
        if self.fail_next:
            return error(self.fail_next.pop(0), 200)
        if form.get("SignName") not in self.sign_names:
            return error("isv.SMS_SIGNATURE_ILLEGAL", 200)
        names = TEMPLATES.get(form.get("TemplateCode", ""))
        if names is None:
            return error("isv.SMS_TEMPLATE_ILLEGAL", 200)
        params = json.loads(form.get("TemplateParam") or "{}")
        if not isinstance(params, dict) or set(params) != set(names):
            return error("isv.TEMPLATE_MISSING_PARAMETERS", 200)
        phone = form.get("PhoneNumbers", "")
        if not self.legal(phone):
            return error("isv.MOBILE_NUMBER_ILLEGAL", 200)
        self.accepted.append(
            Accepted("aliyun", phone, form["SignName"], form["TemplateCode"], params)
        )
        return JSONResponse(
            {"Code": "OK", "Message": "OK", "BizId": uuid.uuid4().hex, "RequestId": "r"}
        )

    # --- Tencent Cloud (TC3-HMAC-SHA256) ------------------------------------------------

    def _tencent(self, request: Request, body: bytes) -> JSONResponse:
        def error(code: str) -> JSONResponse:  # Tencent answers 200 with an Error
            self.refused.append(code)
            answer = {"Error": {"Code": code, "Message": code}, "RequestId": str(uuid.uuid4())}
            return JSONResponse({"Response": answer})

        found = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request,"
            r"\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})",
            request.headers["authorization"],
        )
        if found is None:
            return error("AuthFailure.InvalidAuthorization")
        secret_id, day, service, signed_headers, signature = found.groups()
        if secret_id != self.key_id:
            return error("AuthFailure.SecretIdNotFound")
        try:
            stamp = int(request.headers["x-tc-timestamp"])
        except (KeyError, ValueError):
            return error("MissingParameter")
        if abs(stamp - self.now()) > 5 * 60:
            return error("AuthFailure.SignatureExpire")
        if day != time.strftime("%Y-%m-%d", time.gmtime(stamp)) or service != "sms":
            return error("AuthFailure.SignatureFailure")
        names = signed_headers.split(";")
        if "content-type" not in names or "host" not in names:
            return error("AuthFailure.SignatureFailure")
        # each signed header "name:value", both in lower case and trimmed, one a line
        canonical_headers = "".join(
            f"{n}:{request.headers.get(n, '').strip().lower()}\n" for n in names
        )
        canonical = "\n".join(
            [
                request.method,
                "/",
                "",
                canonical_headers,
                signed_headers,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                str(stamp),
                f"{day}/{service}/tc3_request",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = ("TC3" + self.secret).encode()
        for part in (day, service, "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return error("AuthFailure.SignatureFailure")
        if signature in self.nonces:  # TC3 carries no nonce: the same signature twice
            return error("AuthFailure.SignatureFailure")
        self.nonces.add(signature)
        if (request.headers.get("x-tc-action"), request.headers.get("x-tc-version")) != (
            "SendSms",
            "2021-01-11",
        ):
            return error("InvalidAction")
        if self.fail_next:
            return error(self.fail_next.pop(0))
        payload: dict[str, Any] = json.loads(body)
        if payload.get("SmsSdkAppId") != self.app_id:
            return error("InvalidParameterValue.SdkAppIdNotExist")
        if payload.get("SignName") not in self.sign_names:
            return error("FailedOperation.SignatureIncorrectOrUnapproved")
        template = TEMPLATES.get(payload.get("TemplateId", ""))
        if template is None:
            return error("FailedOperation.TemplateIncorrectOrUnapproved")
        params = payload.get("TemplateParamSet", [])
        if len(params) != len(template):
            return error("InvalidParameterValue.TemplateParameterFormatError")
        statuses = []
        for phone in payload.get("PhoneNumberSet", []):
            good = phone.startswith("+86") and self.legal(phone)
            statuses.append(
                {
                    "SerialNo": uuid.uuid4().hex,
                    "PhoneNumber": phone,
                    "Fee": 1 if good else 0,
                    "SessionContext": payload.get("SessionContext", ""),
                    "Code": "Ok" if good else "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": "send success" if good else "incorrect phone number",
                    "IsoCode": "CN",
                }
            )
            if good:
                self.accepted.append(
                    Accepted("tencent", phone, payload["SignName"], payload["TemplateId"], params)
                )
            else:
                self.refused.append("InvalidParameterValue.IncorrectPhoneNumber")
        return JSONResponse({"Response": {"SendStatusSet": statuses, "RequestId": "r"}})
