"""HTTP mechanism: RFC 9457 problems, request context, auth dependencies, health and metrics."""

from __future__ import annotations

import re
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import fastapi.routing
import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator, BeforeValidator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import zh
from shared.auth import PUBLIC, Principal, Role
from shared.errors import Forbidden, GongkaiError, Unauthenticated, Unavailable
from shared.events import ID_PATTERN
from shared.eventstore.base import CommandContext
from shared.guards import (
    BodyTooLarge,
    TokenBuckets,
    duplicated_key,
    json_too_deep,
    read_body,
    replaying,
    retry_after,
)
from shared.metrics import HTTP_LATENCY
from shared.unit_of_work import Idempotency, Work

log = structlog.get_logger()

PROBLEM_TYPE = "urn:gongkai:problem:"


def problem(
    status: int, kind: str, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if status == 401
        else {"Retry-After": "5"}
        if status == 503
        else None
    )
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def invalid_body(reason: str, instance: str, field: str = "body") -> JSONResponse:
    """422: the body as a whole is not valid (not JSON, not UTF-8, nested too deep, ...), or
    the one `field` named."""
    return problem(
        422,
        "invalid-input",
        "The request is not valid",
        reason if field == "body" else f"{field}：{reason}",
        instance,
        errors=[{"field": field, "reason": reason}],
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GongkaiError)
    async def domain_error(request: Request, error: GongkaiError) -> JSONResponse:
        _failed(request, error.status, error)
        return problem(
            error.status, error.kind, error.title, error.detail, request.url.path, **error.extra
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # `code` (pydantic's error type) lets a front say what to fix in the reader's language
        errors = [
            {"field": _field(e), "reason": zh.fix(e["type"], e["msg"]), "code": e["type"]}
            for e in error.errors()
        ]
        listed = "；".join(f"{e['field']}：{e['reason'].rstrip('。')}" for e in errors)
        detail = f"请按提示修改后再提交：{listed}。"
        return problem(
            422,
            "invalid-input",
            "The request is not valid",
            detail,
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        _failed(request, error.status_code, error)
        if error.status_code == 400:  # e.g. a body that is not UTF-8: the body is invalid
            return invalid_body("请求内容无法读取：请检查后重新提交。", request.url.path)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        detail = {404: "没有这个地址：请核对链接。", 405: "此地址不接受这种请求方法。"}
        return problem(
            error.status_code,
            kind,
            str(error.detail),
            detail.get(error.status_code, "请求未能完成：请稍后再试。"),
            request.url.path,
        )

    @app.exception_handler(asyncpg.CharacterNotInRepertoireError)
    async def unstorable_text(request: Request, error: Exception) -> JSONResponse:
        # a safety net: NUL characters are refused earlier, with the field named
        field = next((k for k, v in request.query_params.multi_items() if "\x00" in k + v), "body")
        return invalid_body(
            "文字中不能含有空字符（NUL）：请删去后再提交。", request.url.path, field
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # RequestContextMiddleware answers and logs an unhandled error before this is reached;
        # this is for an app without it
        log.error("unhandled_error", route=route_of(request.scope), exc_info=error)
        return internal_error(request.url.path)


def internal_error(instance: str) -> JSONResponse:
    return problem(
        500,
        "internal-error",
        "Internal error",
        "服务出错，已记录：请稍后再试；如仍有问题请联系县管理员。",
        instance,
    )


def _failed(request: Request, status: int, error: Exception) -> None:
    """A 5xx answered by an exception handler: the request's log line carries its traceback."""
    if status >= 500:
        request.scope.setdefault("state", {})["error"] = error


def _field(error: Any) -> str:
    """The field a validation error is about; the whole body when the JSON does not parse."""
    if error["type"] == "json_invalid":
        return "body"
    location, *path = error["loc"]  # ("body" | "path" | "query" | "header", field, ...)
    return ".".join(str(p) for p in path) or str(location)


class RequestContextMiddleware:
    """Correlation id per request, one log line per request, latency metric, and the guards
    (shared.guards) that refuse a request before the app parses it: body size, JSON depth,
    the public rate limit. The body is read ahead (at most max_body_bytes) so chunked
    uploads are cut off too.

    The line (`request`) holds the method, the route's template (never the path as sent: a
    path or query may hold a name), the status, the duration, the correlation id (also in
    the response's `X-Correlation-Id`), the actor (the subject of a valid bearer token) and
    the client's address; never a body, a query string, a header or a token. An error the
    app did not handle is answered 500 and logged here once, on that line, with its
    traceback. Probes and scrapes (`OPS_PATHS`) are logged only when they fail."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_body_bytes: int,
        max_json_depth: int = 32,
        public_limit: TokenBuckets | None = None,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        # a multipart upload (a file: shared/files.py) may be larger, and binary
        self.max_upload_bytes = max_upload_bytes or max_body_bytes
        self.max_json_depth = max_json_depth
        self.public_limit = public_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        correlation_id = _correlation_id(headers.get("x-correlation-id"))
        state = scope.setdefault("state", {})
        state["correlation_id"] = correlation_id
        principal = _bearer(scope, headers.get("authorization"))
        actor = principal.subject if principal is not None else None
        status: int | None = None

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", correlation_id.encode()),
                ]
            await send(message)

        failure: Exception | None = None
        refused = False
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id, actor=actor):
            try:
                try:
                    refusal, receive = await self._guard(scope, headers, receive, principal)
                except BodyTooLarge:
                    refusal = self._too_large(scope)
                if refusal is not None:
                    refused = True
                    await refusal(scope, receive, send_with_context)
                else:
                    await self.app(scope, receive, send_with_context)
            except ClientDisconnect:  # gone before its body arrived: no one to answer
                pass
            except Exception as error:  # logged once, below, with its traceback
                failure = error
                if status is None:
                    await internal_error(scope["path"])(scope, receive, send_with_context)
                status = 500
            finally:
                elapsed = time.perf_counter() - started
                route = route_of(scope)
                if not refused:
                    HTTP_LATENCY.labels(
                        self.service, scope["method"], route, str(status or 500)
                    ).observe(elapsed)
                self._log(scope, route, status, elapsed, failure)

    def _log(
        self,
        scope: Scope,
        route: str,
        status: int | None,
        elapsed: float,
        failure: Exception | None,
    ) -> None:
        # 499: the client went away before an answer (nginx's word for it)
        status = status or 499
        if scope["path"] in OPS_PATHS and status < 400:
            return
        error = failure or scope.get("state", {}).get("error")
        line = {
            "service": self.service,
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 1),
            "client": scope["client"][0] if scope.get("client") else None,
        }
        if status >= 500:
            log.error("request", **line, exc_info=error or False)
        else:
            log.info("request", **line)

    async def _guard(
        self,
        scope: Scope,
        headers: dict[str, str],
        receive: Receive,
        principal: Principal | None,
    ) -> tuple[JSONResponse | None, Receive]:
        length = headers.get("content-length")
        public = principal is None or principal.role in (Role.PUBLIC, Role.RATER)
        kind = headers.get("content-type", "").lower()
        # a multipart upload (a file: shared/files.py) may be larger, and binary; so may a
        # file sent as the body itself (a workbook to import: shared/workbook.py checks it
        # by its content), from an official; both are read by the route that takes them
        multipart = kind.startswith("multipart/form-data")
        upload = multipart or _is_file(kind)
        larger = multipart or (upload and not public)
        limit = self.max_upload_bytes if larger else self.max_body_bytes
        if length and length.isdigit() and int(length) > limit:
            return self._too_large(scope, limit), receive
        limited = scope["path"] not in OPS_PATHS  # probes and scrapers are not the public
        if self.public_limit and limited and public:
            client = scope["client"][0] if scope.get("client") else "unknown"
            wait = self.public_limit.take(client, time.monotonic())
            if wait:
                return _too_many(scope, wait), receive
        if not (length and length != "0") and "transfer-encoding" not in headers:
            return None, receive
        try:
            body = await read_body(receive, limit)
        except BodyTooLarge:
            return self._too_large(scope, limit), receive
        if upload:  # binary: the route checks what it takes (shared/files.py, workbook.py)
            return None, replaying(body, receive)
        if b"\x00" in body:  # UTF-16/32 JSON would hide its brackets from the depth scan
            return invalid_body(
                "请求内容须为 UTF-8 文字：请用 UTF-8 编码发送。", scope["path"]
            ), receive
        if json_too_deep(body, self.max_json_depth):
            reason = f"JSON 嵌套超过 {self.max_json_depth} 层：请减少嵌套层数。"
            return invalid_body(reason, scope["path"]), receive
        twice = duplicated_key(body)
        if twice is not None:
            reason = "同一对象中这个键出现了两次：请只保留一个。"
            return invalid_body(reason, scope["path"], twice), receive
        return None, replaying(body, receive)

    def _too_large(self, scope: Scope, limit: int | None = None) -> JSONResponse:
        return problem(
            413,
            "body-too-large",
            "Request body too large",
            f"请求内容过大：上限为 {limit or self.max_body_bytes} 字节，请拆分后分批提交。",
            scope["path"],
        )


OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# what an upload of a file is sent as (anything but JSON, form fields or text/plain)
FILE_TYPES = (
    "application/vnd.",
    "application/octet-stream",
    "text/csv",
    "image/",
    "application/pdf",
)


def _is_file(content_type: str) -> bool:
    """A file's bytes, not JSON (`application/vnd.api+json` is JSON, and checked as such)."""
    kind = content_type.strip().lower()
    return kind.startswith(FILE_TYPES) and "json" not in kind


# a correlation id a caller sends is kept only when it looks like one (a uuid, a trace id);
# anything else (a name, a sentence) would go into every event and log line of the request
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def _correlation_id(sent: str | None) -> str:
    if sent and _CORRELATION_ID.fullmatch(sent):
        return sent
    return str(uuid.uuid4())


def route_of(scope: Scope) -> str:
    """The template of the route the request is for (`/v1/pledges/{pledge_id}`), also when a
    guard refused it before routing; `unmatched` when no route takes its path."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    if "endpoint" in scope:  # routed, but not to a route with a template
        return "unmatched"
    path = scope["path"]
    return (
        next((t for pattern, t in _templates(scope.get("app")) if pattern.match(path)), None)
        or "unmatched"
    )


_TEMPLATES: weakref.WeakKeyDictionary[Any, list[tuple[re.Pattern[str], str]]] = (
    weakref.WeakKeyDictionary()
)


def _templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """The app's route templates as patterns (read once per app): to name the route of a
    request refused before the router saw it."""
    found = _TEMPLATES.get(app) if app is not None else []
    if found is None:
        routes = getattr(app, "routes", [])
        # FastAPI keeps an included router as one entry; its routes are listed by this
        contexts = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)
        paths = [getattr(route, "path", None) for route in contexts(routes)]
        # in the router's order: the first that matches is the one the router would take
        ordered = dict.fromkeys(p for p in paths if isinstance(p, str))
        found = [(compile_path(p)[0], p) for p in ordered]
        _TEMPLATES[app] = found
    return found


def _bearer(scope: Scope, authorization: str | None) -> Principal | None:
    """The principal of a valid bearer token the request carries; None without one. The
    routes verify the token again (current_principal), cheaply: the verifier remembers it."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    verifier = getattr(runtime, "verifier", None)
    if verifier is None:  # not started
        return None
    try:
        principal: Principal = verifier.verify(token.strip())
    except (Unauthenticated, Unavailable):  # the route answers 401 or 503
        return None
    return principal


def _too_many(scope: Scope, wait: float) -> JSONResponse:
    response = problem(
        429,
        "too-many-requests",
        "Too many requests",
        "此地址的请求过于频繁：请稍后再试。",
        scope["path"],
    )
    response.headers["Retry-After"] = retry_after(wait)
    return response


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    if not authorization:
        return PUBLIC
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("请使用“Authorization: Bearer 登录凭证”登录后再访问。")
    runtime = request.app.state.runtime
    principal: Principal = runtime.verifier.verify(token.strip())
    if principal.role is Role.BRANCH_SECRETARY:
        await _holds_the_post(runtime, principal)
    return principal


async def _holds_the_post(runtime: Any, principal: Principal) -> None:
    """A secretary's token names a person; it speaks for the branch only while the directory
    says that person holds the post: one replaced, moved or retired loses it at once, not
    when the token expires."""
    holder = await runtime.pool.fetchval(
        f"SELECT secretary_id FROM {runtime.definition.branches_table}"
        " WHERE branch_id = $1 AND active",
        principal.org,
    )
    if holder is None or holder != principal.subject:
        raise Forbidden(f"您不是支部 {principal.org} 的书记：请切换到支部书记身份。")


async def signed_in(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.role == Role.PUBLIC:
        raise Unauthenticated("此请求需要登录：请先登录。")
    return principal


async def idempotency(
    request: Request,
    principal: Annotated[Principal, Depends(signed_in)],
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Idempotency | None:
    if key is None:
        return None
    body = await request.body()
    return Idempotency(
        principal.subject, key, Idempotency.hash_request(request.method, request.url.path, body)
    )


async def run(
    request: Request,
    who: Principal,
    idem: Idempotency | None,
    work: Work,
    *,
    withheld: Exception | None = None,
) -> Any:
    """Hand a command's work to the service's executor, as `who`, once per idempotency key
    (`withheld`: what a repeat gets when the result holds a secret, see `execute`)."""
    executor = request.app.state.runtime.executor
    return await executor.execute(
        work, context=command_context(request, who), idempotency=idem, withheld=withheld
    )


# the years anything the services keep can be dated (a pledge year, a moment read `as_of`)
FIRST_YEAR, LAST_YEAR = 2000, 2100
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso(value: Any) -> Any:
    """A date or a date and time as ISO 8601 writes them; not a number (pydantic would read
    `-1` as a Unix time, and nobody means one)."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("日期或时间格式不对：请按 ISO 8601 填写，例如 2027-03-31T16:00Z")


def _within_years(moment: datetime) -> datetime:
    """Within the years anything is dated (PostgreSQL cannot take the year 10000 that
    9999-12-31T23:59:59-23:59 is in UTC, or the year 0 of 0001-01-01 read east of UTC)."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"请填写 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间的时间")
    return moment


AsOf = Annotated[datetime, BeforeValidator(_iso), AfterValidator(_within_years)]


async def read_connection(
    request: Request,
    as_of: Annotated[
        AsOf | None,
        Query(description="Read the state as it stood at this time (A3), e.g. 2027-03-31T16:00Z"),
    ] = None,
) -> AsyncIterator[asyncpg.Connection]:
    runtime = request.app.state.runtime
    if as_of is not None and as_of.tzinfo is None:  # a local time (a bare date: its start)
        as_of = as_of.replace(tzinfo=runtime.settings.local_timezone)
    if as_of is not None and as_of > runtime.clock.now():
        as_of = None  # the future looks like now: no as-of view to build (a replay each time)
    if as_of is None:
        async with runtime.pool.acquire() as conn:
            yield conn
    else:
        async with runtime.definition.read_models.as_of(runtime.pool, as_of) as conn:
            yield conn


def command_context(request: Request, principal: Principal) -> CommandContext:
    return CommandContext(
        actor=principal.subject,
        role=str(principal.role),
        correlation_id=request.scope["state"]["correlation_id"],
    )


PathId = Annotated[str, Path(pattern=ID_PATTERN)]
QueryId = Annotated[str, Query(pattern=ID_PATTERN)]  # an id in the query is an id, as in a path
# a pledge year, in the path or the query (PostgreSQL's int and Python's date bound it anyway)
PathYear = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]
# PostgreSQL's bigint bounds every number that reaches a query: past it, invalid input (not 500)
BIGINT_MAX = 2**63 - 1
QueryOffset = Annotated[int, Query(ge=0, le=BIGINT_MAX)]
QueryYear = Annotated[int, Query(ge=FIRST_YEAR, le=LAST_YEAR)]
Reader = Annotated[asyncpg.Connection, Depends(read_connection)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
SignedIn = Annotated[Principal, Depends(signed_in)]
IdempotencyDep = Annotated[Idempotency | None, Depends(idempotency)]


def ops_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", operation_id="healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", operation_id="readyz")
    async def readyz(request: Request) -> JSONResponse:
        ready, report = await request.app.state.runtime.readiness_report()
        return JSONResponse(report, status_code=200 if ready else 503)

    @router.get("/metrics", operation_id="metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return router
