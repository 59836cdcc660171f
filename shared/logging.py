"""structlog: JSON lines in production, readable in a terminal; correlation ids bound per
request and per message through contextvars.

What a line may hold is decided where it is logged (shared/http.py logs one line per request
without bodies, query strings or headers; the relay and the subscriptions name events by id,
type, partition and sequence, never their payload). `scrub` is the safety net behind that:
values under keys that name secrets or personal data are replaced, bearer tokens are cut out
of any text, and the values that pydantic and asyncpg quote in their error messages (an input
that failed validation may be a name or a phone number) are left out of errors and
tracebacks, and so is whatever looks like an e-mail address, a mobile or an ID number."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
# keys whose values never reach a line, whoever logs them
SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "body",
        "code",
        "cookie",
        "data",
        "grade",
        "grades",
        "id_number",
        "name",
        "password",
        "payload",
        "personal",
        "phone",
        "query",
        "query_string",
        "secret",
        "token",
    }
)
# text cut out of any string value: (pattern, replacement)
_SCRUBS = [
    # a bearer token, or anything shaped like a JWT
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer " + REDACTED),
    (re.compile(r"\beyJ[\w-]*\.[\w-]*\.[\w-]*"), REDACTED),
    # pydantic quotes the input that failed: `input_value='王小明', input_type=str`
    (re.compile(r"input_value=.*?(?=, input_type=)", re.S), "input_value=" + REDACTED),
    # asyncpg quotes a query argument it could not encode: `query argument $2: '王小明' (...)`
    (re.compile(r"(query argument \$\d+: ).*?(?= \(|$)", re.M), r"\1" + REDACTED),
    # what looks like a person's contact or number in any text (an error a mail server or a
    # database wrote): an e-mail address, a mainland mobile number, a resident ID number
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), REDACTED),
    (re.compile(r"(?<![\w-])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![\w-])"), REDACTED),
    (re.compile(r"(?<![\w-])\d{17}[\dXx](?![\w-])"), REDACTED),
    # PostgreSQL's detail of a violated constraint: `Key (phone)=(13812345678)`
    (re.compile(r"(Key \(.*?\)=)\(.*?\)(?= |$)", re.M), r"\1(" + REDACTED + ")"),
]


def scrub_text(text: str) -> str:
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in SENSITIVE_KEYS else _scrubbed(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


def scrub(_: Any, __: str, event_dict: structlog.typing.EventDict) -> structlog.typing.EventDict:
    """A processor: what must never be logged is taken out of every line (nested too)."""
    scrubbed: structlog.typing.EventDict = _scrubbed(event_dict)
    return scrubbed


def configure_logging(*, json: bool, level: str = "INFO", file: TextIO | None = None) -> None:
    """Lines to standard error (or `file`): JSON objects one a line when `json`, otherwise
    readable key=value lines. Loggers are not cached, so configuring again (a test capturing
    the lines) takes effect for every module's logger."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=file is None and sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=file or sys.stderr),
        cache_logger_on_first_use=False,
    )
