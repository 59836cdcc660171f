"""The console as `gongkai bench console` runs it: the console's own app, unchanged, in its
own process (`python -m gongkai.bench.console_app`, configured as `gongkai up` configures
the console), which also says in each answer's `Server-Timing` header which service calls the
page made and how long each took (`pledge;dur=4.1;desc="GET /v1/pledges?year=2027"`), so the
bench can set a page beside the raw API calls behind it and count a page's calls (N+1)."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.console.app import create_app
from services.console.calls import Services
from services.console.settings import ConsoleSettings

# the calls of the request being answered: (service, "METHOD path?query", milliseconds)
CALLS: ContextVar[list[tuple[str, str, float]] | None] = ContextVar("calls", default=None)


def timed(services: Services) -> None:
    """Every call the console makes to a service is recorded into the request's CALLS."""
    call = services.call

    async def recorded(service: str, method: str, path: str, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await call(service, method, path, **kwargs)
        finally:
            calls = CALLS.get()
            if calls is not None:
                params = {k: v for k, v in (kwargs.get("params") or {}).items() if v is not None}
                query = f"?{urlencode(params)}" if params else ""
                calls.append((service, f"{method} {path}{query}", ms_since(start)))

    services.call = recorded  # type: ignore[method-assign]


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def server_timing(calls: list[tuple[str, str, float]]) -> str:
    """The calls as a Server-Timing header (W3C): name, duration, the call as its description."""
    return ", ".join(
        f'{service};dur={ms:.1f};desc="{call.replace(chr(34), "")}"' for service, call, ms in calls
    )


def parse_server_timing(header: str) -> list[tuple[str, str, float]]:
    """The calls back from a Server-Timing header (as `server_timing` writes it)."""
    calls = []
    for entry in filter(None, (e.strip() for e in header.split('", '))):
        name, rest = entry.split(";dur=", 1)
        duration, desc = rest.split(';desc="', 1)
        calls.append((name, desc.rstrip('"'), float(duration)))
    return calls


class ServerTiming:
    """ASGI middleware: each HTTP answer carries the service calls made while it was made."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        calls: list[tuple[str, str, float]] = []
        token = CALLS.set(calls)

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start" and calls:
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", server_timing(calls).encode("ascii", "replace")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            CALLS.reset(token)


def main() -> None:
    settings = ConsoleSettings()
    app = create_app(settings)
    timed(app.state.console.services)
    uvicorn.run(ServerTiming(app), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
