"""Keeping `gongkai up` serving: each part (the embedded PostgreSQL and nats-server, each
service) restarted when it dies, with back-off and a limit, while the others keep serving;
and the status file `gongkai status` reads.

A part that dies is started again after a delay that doubles with each recent restart (1 s,
2 s, 4 s, ... up to 30 s). One that has already been restarted `limit` times within `window`
seconds is given up instead and said so; the others keep serving. Only PostgreSQL given up
stops the stack: nothing serves without it. A service whose restart falls due while a server
is being restarted waits for it (it could not start without it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

State = Literal["starting", "running", "restarting", "given up", "stopped"]
STATUS_FILE = "status.json"


@dataclass(frozen=True)
class RestartPolicy:
    """How soon, and how often, a dead part is started again."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    limit: int = 5  # restarts ...
    window: float = 300.0  # ... within this many seconds, then given up
    start_timeout: float = 90.0  # a restarted service not ready by then counts as dead

    def delay(self, recent: int) -> float:
        return min(self.max_delay, self.first_delay * 2.0 ** min(recent, 32))


@dataclass
class Part:
    """One supervised process: `launch` starts it (a server waits until it listens; a
    service does not wait), `ready` says whether it serves."""

    name: str
    server: bool
    launch: Callable[[], subprocess.Popen[bytes]]
    ready: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    log: Path | None = None  # where it writes, for the line that gives it up
    state: State = "running"
    since: float = field(default_factory=time.time)  # wall clock: when it (re)started
    launched: float = field(default_factory=time.monotonic)
    restarts: int = 0
    recent: list[float] = field(default_factory=list)  # monotonic times of restarts
    due: float = 0.0  # when a restarting part is started again
    last_exit: str = ""


def how_it_ended(returncode: int) -> str:
    """`exit code 1`, or `killed by SIGKILL (signal 9)`."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "a signal"
        return f"killed by {name} (signal {-returncode})"
    return f"exit code {returncode}"


def _clock(monotonic: float) -> str:
    """A monotonic instant as the local wall-clock time it is (or will be)."""
    wall = time.time() + (monotonic - time.monotonic())
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S")


class Supervisor:
    """Watches the parts on each `tick`; says what happens through `say`; writes the status
    file after each change. `fatal` is set when PostgreSQL is given up."""

    def __init__(
        self, parts: list[Part], policy: RestartPolicy, status: Path, say: Callable[[str], None]
    ) -> None:
        self.parts = {part.name: part for part in parts}
        self.policy = policy
        self.status = status
        self.say = say
        self.fatal = ""
        self.write_status()

    def tick(self) -> None:
        changed = False
        for part in self.parts.values():
            changed |= self._watch(part)
        if changed:
            self.write_status()

    def _watch(self, part: Part) -> bool:
        now = time.monotonic()
        if part.state in ("running", "starting"):
            assert part.process is not None
            code = part.process.poll()
            if code is not None:
                self._died(part, how_it_ended(code), now)
                return True
            if part.state == "starting":
                if part.ready():
                    part.state = "running"
                    pid = part.process.pid
                    self.say(f"{_clock(now)} {part.name} is serving again (pid {pid})")
                    return True
                if now - part.launched > self.policy.start_timeout:
                    part.process.kill()
                    part.process.wait()
                    self._died(part, f"not ready after {self.policy.start_timeout:g}s", now)
                    return True
            return False
        if part.state == "restarting" and now >= part.due:
            if not part.server and any(
                p.server and p.state in ("restarting", "starting") for p in self.parts.values()
            ):
                return False  # a service cannot start without its servers: wait for them
            self._restart(part, now)
            return True
        return False

    def _died(self, part: Part, how: str, now: float) -> None:
        part.last_exit = how
        part.recent = [t for t in part.recent if now - t < self.policy.window]
        if len(part.recent) >= self.policy.limit:
            part.state = "given up"
            part.process = None
            others = "stopping everything" if part.name == "postgres" else "the others keep serving"
            if part.log is not None:
                others += f"; see {part.log}"
            self.say(
                f"{_clock(now)} {part.name} died ({how}) after {len(part.recent)} restarts "
                f"within {self.policy.window:g}s: given up, not restarted; {others}"
            )
            if part.name == "postgres":
                self.fatal = f"PostgreSQL could not be kept up ({how})"
            return
        delay = self.policy.delay(len(part.recent))
        part.state = "restarting"
        part.due = now + delay
        self.say(
            f"{_clock(now)} {part.name} died ({how}); restarting in {delay:g}s, "
            f"at {_clock(part.due)} (restart {len(part.recent) + 1} of at most "
            f"{self.policy.limit} within {self.policy.window:g}s)"
        )

    def _restart(self, part: Part, now: float) -> None:
        part.recent.append(now)
        part.restarts += 1
        part.launched, part.since = now, time.time()
        try:
            part.process = part.launch()
        except Exception as error:  # a server that would not listen: as if it died
            self._died(part, f"did not start: {type(error).__name__}", time.monotonic())
            return
        part.state = "starting"
        if part.server:  # launched servers listen already
            part.state = "running"
            self.say(f"{_clock(time.monotonic())} {part.name} is back (pid {part.process.pid})")

    def write_status(self, *, stopped: bool = False) -> None:
        parts = []
        for part in self.parts.values():
            running = part.process is not None and part.state in ("running", "starting")
            parts.append(
                {
                    "name": part.name,
                    "state": "stopped" if stopped else part.state,
                    "pid": part.process.pid if running and part.process else None,
                    "since": datetime.fromtimestamp(part.since, UTC).isoformat(),
                    "restarts": part.restarts,
                    "last_exit": part.last_exit,
                    "url": part.url,
                }
            )
        document = {
            "pid": os.getpid(),
            "written_at": datetime.now(UTC).isoformat(),
            "parts": parts,
        }
        write_status(self.status, document)


def write_status(path: Path, document: dict[str, Any]) -> None:
    """Whole or not at all: a reader never sees half a file."""
    draft = path.with_name(f".{path.name}.tmp")
    draft.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    draft.replace(path)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return document


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(url: str) -> bool:
    """Whether the service at `url` says it is ready."""
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
