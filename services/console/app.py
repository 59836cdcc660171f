"""The console's composition root: `create_app()`, served by `main()` (`gongkai serve
console`, or `python -m services.console.app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

import httpx
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from services.console.calls import Refused, Services
from services.console.pages import (
    accounts,
    audit,
    branch_journals,
    bulletins,
    channels,
    checks,
    directory,
    followups,
    home,
    imports,
    journals,
    leaders,
    mine,
    picker,
    pledges,
    ratings,
    reviews,
    rounds,
    selections,
    setup,
    signin,
    township,
)
from services.console.session import SESSION_COOKIE, Sealer, load_key
from services.console.settings import ConsoleSettings
from services.console.signin import Identity
from services.console.web import SESSION_SCOPE, Console, Desk, NotSignedIn, public_page
from shared.logging import configure_logging

DEFAULT_PORT = 8100
log = structlog.get_logger()
# every asset is the console's own (county intranets often have no internet); no framing
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders(BaseHTTPMiddleware):
    """Every answer: the security headers (a page that sets its own CSP keeps it), and the
    signed-in person's session sealed again (a refreshed token's rotated refresh token must
    reach the browser with downloads and error pages too, or its next use would be a reuse
    that ends the whole token family)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        session = request.scope.get("state", {}).get(SESSION_SCOPE)
        sealed = any(
            h.startswith(f"{SESSION_COOKIE}=") for h in response.headers.getlist("set-cookie")
        )
        if session is not None and not sealed:
            console: Console = request.app.state.console
            console.cookie(response, session)
        return response


def message_page(request: Request, status: int, title: str, message: str) -> Response:
    """A refusal or an error, in the layout of the person signed in (their menu, their
    as-of day), or the public layout when nobody is."""
    session = request.scope.get("state", {}).get(SESSION_SCOPE)
    if session is None:
        return public_page("message.html", status, title=title, message=message)
    desk = Desk(request.app.state.console, session, request)
    return desk.page("message.html", status, title=title, message=message)


def create_app(
    settings: ConsoleSettings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    settings = settings or ConsoleSettings()
    console = Console(
        settings=settings,
        identity=Identity(settings),
        services=Services(settings, transport),
        sealer=Sealer(load_key(settings.session_key_file)),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await console.services.close()

    app = FastAPI(title="Gongkai console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.console = console
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(files("services.console") / "static")))
    for module in (
        signin,
        home,
        pledges,
        journals,
        township,
        rounds,
        imports,
        reviews,
        selections,
        audit,
        mine,
        directory,
        followups,
        branch_journals,
        accounts,
        setup,
        channels,
        bulletins,
        checks,
        ratings,
        leaders,
        picker,
    ):
        app.include_router(module.router)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if request.method == "GET" and request.url.path == "/":
            return public_page("welcome.html")
        if request.method == "GET":
            return RedirectResponse("/signin", status_code=303)
        return public_page(
            "message.html", 401, title="请重新登录", message="登录已超时，请重新登录后再提交。"
        )

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        if error.status == 401:
            return RedirectResponse("/signin", status_code=303)
        return message_page(request, error.status, "未能完成", error.message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.error("console_error", path=request.url.path, exc_info=error)
        return message_page(request, 500, "出错了", "页面出错，已记录；请稍后再试。")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ready"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> HTMLResponse:
        return HTMLResponse("", status_code=204)

    return app


def main() -> None:
    settings = ConsoleSettings()
    configure_logging(json=settings.environment == "production", level="INFO")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
