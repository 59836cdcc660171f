"""Calls to the services' HTTP APIs with the signed-in person's own token.

The console decides nothing: each service authorises and validates, and its RFC 9457 problem
comes back as `Refused`: the service's own Chinese `detail` (what is wrong and what to do) for
the top of the page, or a sentence by the problem's kind when it has none, and per field the
service's Chinese reason, or what to fix by the validation error's `code`.
Every write carries the idempotency key its form was rendered with, so a double click or a
resubmitted form appends once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.console.settings import ConsoleSettings
from shared import zh

KEEPALIVE_SECONDS = 4.0  # under uvicorn's timeout_keep_alive (5 s)
# what a person reads for a problem's kind (the end of its `type`)
KINDS = {
    "unauthenticated": "登录已失效，请重新登录。",
    "forbidden": "您当前的身份无权进行此操作。",
    "not-found": "没有找到该记录，或您无权查看。",
    "invalid-input": "填写的内容有误，请按提示修改后再提交。",
    "conflict": "该操作与当前状态不符，请刷新页面后再试。",
    "idempotency-key-reused": "该表单已提交过，请刷新页面后再填写。",
    "rate-limited": "操作过于频繁，请稍后再试。",
    "body-too-large": "文件或内容太大：请拆分后分批提交。",
    "internal-error": "服务出错，请稍后再试；如仍有问题请联系县管理员。",
}
# what to fix in a field, by the validation error's code (pydantic's error types)
CODES = zh.FIXES
# a `.` or `..` segment (plain or %-encoded) in a service path the console builds
DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$|\?)", re.IGNORECASE)


@dataclass
class Refused(Exception):
    """A service's refusal, as a person reads it."""

    status: int
    message: str
    detail: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, answer: httpx.Response, sent: Any = None) -> Refused:
        """The refusal of `answer`; `sent` is the JSON body the request carried: a field the
        service could not read and the person left empty (a select not chosen, a box not
        filled) is asked for, not called malformed."""
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        kind = str(body.get("type", "")).rsplit(":", 1)[-1]
        detail = str(body.get("detail", ""))
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        fields: dict[str, str] = {}
        for error in errors:
            if error.get("field"):
                reason = str(error.get("reason", ""))
                name = _field_name(str(error["field"]))
                general_reason = not zh.chinese(reason) or reason in GENERAL
                if general_reason and _left_empty(sent, name):
                    fields[name] = EMPTY  # not "格式不对" for a select left unchosen
                elif zh.chinese(reason):
                    fields[name] = reason
                else:
                    fields[name] = zh.fix(str(error.get("code", "")))
        general = KINDS.get(kind) or KINDS.get(
            {401: "unauthenticated", 403: "forbidden", 404: "not-found", 409: "conflict"}.get(
                answer.status_code, "internal-error" if answer.status_code >= 500 else ""
            ),
            "操作未能完成，请检查后再试。",
        )
        if not zh.chinese(detail) or any(e.get("code") for e in errors):
            # an older service's English, or a validation problem's list of the fields (each
            # said beside its field): the general sentence
            message = general
        elif fields:  # look at the fields, and what is wrong
            message = KINDS["invalid-input"] + detail
        else:
            message = detail  # the service's own sentence: what is wrong and what to do
        return cls(answer.status_code, message, detail, fields)


EMPTY = "请填写或选择此项。"
GENERAL = frozenset(zh.FIXES.values())  # a reason by the error's code, not the validator's words


def _left_empty(sent: Any, name: str) -> bool:
    """Whether the body's value at a field's path (`items.0.title`) was left empty."""
    value = sent
    for part in name.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return value is None or (isinstance(value, str) and not value.strip())


def _field_name(path: str) -> str:
    """`body.items.0.title` → `items.0.title`: the form's own field names."""
    return path.removeprefix("body.").removeprefix("query.")


class Services:
    """One HTTP client for all four services (connection pooling), created with the app."""

    def __init__(
        self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.urls = {
            "identity": settings.identity_url,  # people, posts, activation codes
            "pledge": settings.pledge_url,
            "review": settings.review_url,
            "evaluation": settings.evaluation_url,
            "notification": settings.notification_url,
        }
        # a kept connection is dropped before the services' uvicorn closes it (5 s idle): a
        # request sent on a connection the server is closing fails (seen in the console bench)
        limits = httpx.Limits(max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_SECONDS)
        self.http = httpx.AsyncClient(timeout=20.0, transport=transport, limits=limits)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        raw: bool = False,
        content: bytes | None = None,
        content_type: str | None = None,
        wait_seconds: float | None = None,  # the request's own limit (else the client's 20 s)
    ) -> Any:
        """The JSON answer (or bytes, or with `raw` the response itself); a problem raises
        `Refused`."""
        if DOT_SEGMENT.search(path):  # a form's value put in a path may not climb out of it
            raise Refused(404, KINDS["not-found"])
        headers = {"Authorization": f"Bearer {token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if content_type:
            headers["Content-Type"] = content_type
        try:
            answer = await self.http.request(
                method,
                self.urls[service].rstrip("/") + path,
                json=body,
                content=content,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=headers,
                timeout=httpx.Timeout(wait_seconds) if wait_seconds else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as e:
            raise Refused(503, "服务暂时无法访问，请稍后再试。", str(type(e).__name__)) from e
        if answer.status_code >= 400:
            raise Refused.of(answer, body)
        if raw:
            return answer
        if answer.headers.get("content-type", "").startswith("application/json"):
            return answer.json()
        return answer.content

    async def upload(
        self, service: str, *, token: str, name: str, content: bytes, media_type: str
    ) -> dict[str, Any]:
        """An evidence file to the owning service (`POST /v1/files`): its hash, to attach."""
        try:
            answer = await self.http.post(
                self.urls[service].rstrip("/") + "/v1/files",
                files={"file": (name, content, media_type or "application/octet-stream")},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as e:
            raise Refused(503, "服务暂时无法访问，请稍后再试。", str(type(e).__name__)) from e
        if answer.status_code >= 400:
            refused = Refused.of(answer)
            refused.fields.setdefault("photo", "照片未能上传：请选择清晰的 JPG、PNG 或 PDF 文件。")
            raise refused
        stored: dict[str, Any] = answer.json()
        return stored

    async def stream(
        self, service: str, path: str, *, token: str, params: dict[str, Any], wait_seconds: float
    ) -> httpx.Response:
        """A large download (a log's export), its body not yet read: the caller passes it on
        chunk by chunk and closes it; a problem raises `Refused`."""
        request = self.http.build_request(
            "GET",
            self.urls[service].rstrip("/") + path,
            params={k: v for k, v in params.items() if v is not None},
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(wait_seconds),
        )
        try:
            answer = await self.http.send(request, stream=True)
        except httpx.HTTPError as e:
            raise Refused(503, "服务暂时无法访问，请稍后再试。", str(type(e).__name__)) from e
        if answer.status_code >= 400:
            await answer.aread()
            await answer.aclose()
            raise Refused.of(answer)
        return answer

    async def get(self, service: str, path: str, *, token: str, **params: Any) -> Any:
        return await self.call(service, "GET", path, token=token, params=params)

    async def post(
        self, service: str, path: str, *, token: str, body: dict[str, Any], key: str
    ) -> Any:
        return await self.call(service, "POST", path, token=token, body=body, idempotency_key=key)
