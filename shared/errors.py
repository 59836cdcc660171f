"""One error hierarchy for every service, mapped once to RFC 9457 problem responses."""

from __future__ import annotations

from typing import Any, ClassVar


class GongkaiError(Exception):
    """Base error. `kind` becomes the problem `type`; `status` its HTTP status."""

    kind: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(GongkaiError):
    kind = "invalid-input"
    status = 422
    title = "The request is not valid"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        errors = extra.pop("errors", None) or (
            [{"field": field, "reason": detail}] if field else []
        )
        super().__init__(detail, errors=errors, **extra)


class NotFound(GongkaiError):
    kind = "not-found"
    status = 404
    title = "Not found"


class InvalidState(GongkaiError):
    """The command is well-formed but not allowed in the aggregate's current state."""

    kind = "invalid-state"
    status = 409
    title = "Not allowed in the current state"


class ConcurrencyConflict(GongkaiError):
    """The stream moved on since the caller read it (optimistic concurrency)."""

    kind = "concurrency-conflict"
    status = 409
    title = "The record was changed by someone else; reload and retry"


class IdempotencyKeyReused(GongkaiError):
    kind = "idempotency-key-reused"
    status = 422
    title = "Idempotency key already used for a different request"


class Unauthenticated(GongkaiError):
    kind = "unauthenticated"
    status = 401
    title = "Authentication required"


class Forbidden(GongkaiError):
    kind = "forbidden"
    status = 403
    title = "Not allowed for your role and place"


class AccessRevoked(Unauthenticated):
    """The token is genuine, but its post ended or its person was locked after it was issued."""

    kind = "access-revoked"
    title = "访问权限已被撤销"


class Unavailable(GongkaiError):
    """Something the request depends on (e.g. the identity provider's keys) does not answer
    now: worth retrying, and not the caller's fault."""

    kind = "unavailable"
    status = 503
    title = "Temporarily unavailable"
