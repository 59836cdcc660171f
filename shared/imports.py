"""Imports from workbooks (issue 19), the mechanism every owning service shares: the
`imports` table beside the log (shared/migrations/0006_imports.sql), one row per uploaded
file, importer and target, holding the checked rows' errors and the preview of what the
file will do until it is confirmed.

The owning service decides what a file means (its handlers plan the events); this module
only keeps the record: found again by the file's SHA-256 (the same file twice is the same
import), moved from `ready` to `committed` in the commit's own transaction, and its progress
written on a connection of its own so that a poller sees it while the commit runs."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from shared.envelope import EventEnvelope
from shared.errors import Forbidden, GongkaiError, InvalidInput, InvalidState, NotFound
from shared.unit_of_work import UnitOfWork, new_id
from shared.workbook import Row, RowError, RowRefused, Sheet, file_sha256, read_upload

log = structlog.get_logger()

COLUMNS = (
    "import_id, kind, scope_id, importer, file_sha256, file_name, state, rows_total,"
    " rows_done, preview, errors, basis, appended, created_at, committed_at"
)


@dataclass(frozen=True)
class ImportRecord:
    import_id: str
    kind: str
    scope_id: str
    importer: str
    file_sha256: str
    file_name: str
    state: str
    rows_total: int
    rows_done: int
    preview: dict[str, Any]
    errors: list[dict[str, Any]]
    basis: str
    appended: int | None
    created_at: datetime
    committed_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> ImportRecord:
        values = dict(row)
        values["preview"] = json.loads(values["preview"])
        values["errors"] = json.loads(values["errors"])
        return cls(**values)

    def view(self) -> dict[str, Any]:
        """What the API answers (the file's bytes never)."""
        return {
            "import_id": self.import_id,
            "kind": self.kind,
            "scope_id": self.scope_id,
            "importer": self.importer,
            "file_sha256": self.file_sha256,
            "file_name": self.file_name,
            "state": self.state,
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "preview": self.preview,
            "errors": self.errors,
            "appended": self.appended,
            "created_at": self.created_at.isoformat(),
            "committed_at": self.committed_at.isoformat() if self.committed_at else None,
        }


async def find(
    conn: asyncpg.Connection, kind: str, scope_id: str, importer: str, file_sha256: str
) -> ImportRecord | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM imports WHERE kind = $1 AND scope_id = $2 AND importer = $3"
        " AND file_sha256 = $4",
        kind,
        scope_id,
        importer,
        file_sha256,
    )
    return ImportRecord.of(row) if row else None


async def get(conn: asyncpg.Connection, import_id: str) -> ImportRecord:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM imports WHERE import_id = $1", import_id)
    if row is None:
        raise NotFound("没有找到该导入：请重新上传文件。", import_id=import_id)
    return ImportRecord.of(row)


async def file_of(conn: asyncpg.Connection, import_id: str) -> bytes:
    data: bytes | None = await conn.fetchval(
        "SELECT file FROM imports WHERE import_id = $1", import_id
    )
    if data is None:
        raise InvalidState("上传的文件已不再保存：请重新上传。", import_id=import_id)
    return data


async def create(
    conn: asyncpg.Connection,
    *,
    import_id: str,
    kind: str,
    scope_id: str,
    importer: str,
    file_sha256: str,
    file_name: str,
    file: bytes,
    rows_total: int,
    preview: dict[str, Any],
    errors: list[dict[str, Any]],
    basis: str,
    now: datetime,
) -> ImportRecord:
    """A checked upload: `invalid` when any row is wrong (it can never be confirmed),
    else `ready`. The same file from the same importer for the same target is found, not
    made again (ON CONFLICT: two uploads at once make one)."""
    state = "invalid" if errors else "ready"
    await conn.execute(
        "INSERT INTO imports (import_id, kind, scope_id, importer, file_sha256, file_name,"
        " file, state, rows_total, preview, errors, basis, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " ON CONFLICT (kind, scope_id, importer, file_sha256) DO NOTHING",
        import_id,
        kind,
        scope_id,
        importer,
        file_sha256,
        file_name,
        file,
        state,
        rows_total,
        json.dumps(preview, ensure_ascii=False),
        json.dumps(errors, ensure_ascii=False),
        basis,
        now,
    )
    found = await find(conn, kind, scope_id, importer, file_sha256)
    assert found is not None
    return found


async def replan(
    conn: asyncpg.Connection,
    import_id: str,
    *,
    preview: dict[str, Any],
    errors: list[dict[str, Any]],
    basis: str,
) -> None:
    """A ready import whose preview no longer matched the state: planned again."""
    await conn.execute(
        "UPDATE imports SET preview = $2, errors = $3, basis = $4,"
        " state = CASE WHEN $3::jsonb = '[]'::jsonb THEN 'ready' ELSE 'invalid' END"
        " WHERE import_id = $1 AND state IN ('ready', 'committing', 'failed')",
        import_id,
        json.dumps(preview, ensure_ascii=False),
        json.dumps(errors, ensure_ascii=False),
        basis,
    )


async def locked(conn: asyncpg.Connection, import_id: str) -> ImportRecord:
    """The import, read after taking its lock for the transaction: one confirm at a time
    (an advisory lock, not the row's: progress is written to the row meanwhile)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('import:' || $1))", import_id)
    return await get(conn, import_id)


async def begin_commit(pool: asyncpg.Pool, import_id: str) -> None:
    """Mark a ready import as committing: a poller sees it, and its progress, from now."""
    await pool.execute(
        "UPDATE imports SET state = 'committing', rows_done = 0"
        " WHERE import_id = $1 AND state IN ('ready', 'failed')",
        import_id,
    )


async def progress(pool: asyncpg.Pool, import_id: str, done: int) -> None:
    """Written outside the commit's transaction, so a poller sees it while it runs."""
    await pool.execute("UPDATE imports SET rows_done = $2 WHERE import_id = $1", import_id, done)


async def committed(conn: asyncpg.Connection, import_id: str, appended: int, now: datetime) -> None:
    """In the commit's transaction: the import and its events commit together."""
    await conn.execute(
        "UPDATE imports SET state = 'committed', appended = $2, committed_at = $3,"
        " rows_done = rows_total WHERE import_id = $1",
        import_id,
        appended,
        now,
    )


async def failed(pool: asyncpg.Pool, import_id: str) -> None:
    """The commit rolled back: nothing was appended; it may be confirmed again."""
    await pool.execute(
        "UPDATE imports SET state = 'failed' WHERE import_id = $1 AND state = 'committing'",
        import_id,
    )


async def listed(
    conn: asyncpg.Connection, kind: str, scope_id: str, limit: int = 100
) -> list[ImportRecord]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM imports WHERE kind = $1 AND scope_id = $2"
        " ORDER BY created_at DESC, import_id LIMIT $3",
        kind,
        scope_id,
        limit,
    )
    return [ImportRecord.of(r) for r in rows]


def row_error(kept: dict[str, Any]) -> RowError:
    return RowError(kept["sheet"], kept["row"], kept["column"], kept["reason"])


_RUNNING: set[asyncio.Task[Any]] = set()


def in_background(work: Coroutine[Any, Any, Any]) -> None:
    """A large import's commit, after the answer (its outcome is the import's state)."""
    task = asyncio.create_task(work)
    _RUNNING.add(task)

    def done(finished: asyncio.Task[Any]) -> None:
        _RUNNING.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("import_failed", error=type(finished.exception()).__name__)

    task.add_done_callback(done)


# --- the flow an import of commands follows ------------------------------------------------
# For imports that are a list of the owning service's commands (raters, ballots, ratings):
# the preview is the commands run in a savepoint that is rolled back (the events they would
# append, and any refusal), the confirm runs them again for real, all in one transaction.

Rows = dict[str, list[Row]]
Check = Callable[[Rows], tuple[list[Any], list[RowError]]]  # rows -> (commands' parts, errors)
Execute = Callable[[UnitOfWork, list[Any]], Awaitable[None]]
Describe = Callable[[list[EventEnvelope]], list[dict[str, Any]]]


class _RollBack(Exception):
    pass


async def dry_run(uow: UnitOfWork, work: Callable[[UnitOfWork], Awaitable[Any]]) -> list[Any]:
    """The events `work` would append, in a savepoint rolled back: nothing stays (a refusal
    is raised as it would be)."""
    mark = len(uow.appended)
    try:
        async with uow.conn.transaction():
            await work(uow)
            raise _RollBack
    except _RollBack:
        pass
    finally:
        would = uow.appended[mark:]
        del uow.appended[mark:]
    return would


async def upload_commands(
    uow: UnitOfWork,
    *,
    kind: str,
    scope_id: str,
    data: bytes,
    file_name: str,
    importer: str,
    sheets: Sequence[Sheet],
    check: Check,
    execute: Execute,
    describe: Describe,
    counted: Callable[[list[Any]], dict[str, int]] | None = None,
) -> dict[str, Any]:
    """Read and check every row, run the commands in a rolled-back savepoint for the
    preview (a refusal there is the file's error), keep the record. `counted`: what the
    preview counts from the parts themselves (events appended under another context, such
    as anonymous ballots)."""
    sha = file_sha256(data)
    found = await find(uow.conn, kind, scope_id, importer, sha)
    if found is not None:
        return found.view()
    rows = await asyncio.to_thread(read_upload, data, sheets)
    parts, errors = check(rows)
    events: list[EventEnvelope] = []
    if not errors:
        try:
            events = await dry_run(uow, lambda u: execute(u, parts))
        except RowRefused as refused:
            errors = [refused.error]
        except GongkaiError as refused:
            errors = [RowError(sheets[0].name, 0, "文件", refused.detail)]
    preview = {
        "summary": dict(Counter(e.type for e in events)) | (counted(parts) if counted else {}),
        "events": len(events),
        "changes": describe(events)[:1000],
        "more": max(0, len(events) - 1000),
    }
    record = await create(
        uow.conn,
        import_id=new_id("imp"),
        kind=kind,
        scope_id=scope_id,
        importer=importer,
        file_sha256=sha,
        file_name=file_name,
        file=data,
        rows_total=sum(len(r) for r in rows.values()),
        preview=preview,
        errors=[e.as_dict() for e in errors],
        basis="",
        now=uow.store.clock.now(),
    )
    return record.view()


async def confirm_commands(
    uow: UnitOfWork,
    import_id: str,
    importer: str,
    *,
    kinds: Sequence[str],
    sheets: Sequence[Sheet],
    check: Check,
    execute: Execute,
    personal: bool = False,
) -> dict[str, Any]:
    """Run the import's commands for real, all in this transaction; a committed import
    confirmed again appends nothing. `personal`: the file holds personal data (A7), kept
    only sealed in the log: its bytes are dropped once committed."""
    record = await locked(uow.conn, import_id)
    if record.kind not in kinds:
        raise InvalidInput(
            f"这不是{'、'.join(kinds)}的导入：请回到相应页面重新上传。", field="import_id"
        )
    if record.importer != importer:
        raise Forbidden("只有导入人可以确认这次导入。")
    if record.state == "committed":
        return record.view()
    if record.state == "invalid":
        raise InvalidState("文件中有出错的行，整份文件都没有导入：请改正出错的行后重新上传。")
    rows = await asyncio.to_thread(read_upload, await file_of(uow.conn, import_id), sheets)
    parts, errors = check(rows)
    if errors:
        raise InvalidState("文件中有出错的行，整份文件都没有导入：请改正出错的行后重新上传。")
    before = len(uow.appended)
    await execute(uow, parts)
    await committed(uow.conn, import_id, len(uow.appended) - before, uow.store.clock.now())
    if personal:
        await uow.conn.execute("UPDATE imports SET file = NULL WHERE import_id = $1", import_id)
    return (await get(uow.conn, import_id)).view()


def mask(name: str | None) -> str:
    """A person's name as a preview shows it: the family name and asterisks."""
    if not name:
        return "（未填姓名）"
    return name[0] + "*" * (len(name) - 1)


async def listed_by(
    conn: asyncpg.Connection, importer: str, limit: int = 100
) -> list[ImportRecord]:
    """The importer's own imports, newest first (what they can browse afterwards)."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM imports WHERE importer = $1"
        " ORDER BY created_at DESC, import_id LIMIT $2",
        importer,
        limit,
    )
    return [ImportRecord.of(r) for r in rows]
