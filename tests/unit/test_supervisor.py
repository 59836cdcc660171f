"""The supervisor of `gongkai up` on stand-in processes (`sleep`): back-off that doubles up to
its cap, a part given up after its limit while the others run on, services that wait for a
server being restarted, PostgreSQL given up as the end of the stack, and the status file.
tests/faults/test_supervised_up.py does the same to a real `gongkai up`."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from gongkai.develop.supervisor import Part, RestartPolicy, Supervisor, how_it_ended


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "60"])


def part(name: str, *, server: bool = False) -> Part:
    return Part(name, server, sleeper, lambda: True, sleeper())


def kill(p: Part) -> None:
    assert p.process is not None
    p.process.kill()
    p.process.wait()


def tick_until(supervisor: Supervisor, done: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline
        supervisor.tick()
        time.sleep(0.005)


def stop(supervisor: Supervisor) -> None:
    for p in supervisor.parts.values():
        if p.process is not None and p.process.poll() is None:
            kill(p)


def test_back_off_doubles_up_to_its_cap() -> None:
    policy = RestartPolicy(first_delay=1, max_delay=30)
    assert [policy.delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert RestartPolicy().limit == 5
    assert RestartPolicy().window == 300
    assert how_it_ended(-signal.SIGKILL) == "killed by SIGKILL (signal 9)"
    assert how_it_ended(3) == "exit code 3"


def test_a_dead_part_is_restarted_then_given_up_while_the_others_run(tmp_path: Path) -> None:
    lines: list[str] = []
    pledge, review = part("pledge"), part("review")
    policy = RestartPolicy(first_delay=0.05, limit=2, window=60)
    supervisor = Supervisor([pledge, review], policy, tmp_path / "status.json", lines.append)
    try:
        first = pledge.process
        kill(pledge)
        supervisor.tick()
        assert pledge.state == "restarting"
        assert "pledge died (killed by SIGKILL (signal 9)); restarting in 0.05s" in lines[-1]
        tick_until(supervisor, lambda: pledge.state == "running")
        assert pledge.process is not first
        assert pledge.restarts == 1
        assert lines[-1].endswith(f"pledge is serving again (pid {pledge.process.pid})")
        kill(pledge)
        supervisor.tick()
        assert "restarting in 0.1s" in lines[-1]  # doubled
        tick_until(supervisor, lambda: pledge.state == "running")
        kill(pledge)
        supervisor.tick()
        assert pledge.state == "given up"
        assert (
            "after 2 restarts within 60s: given up, not restarted; the others keep serving"
            in (lines[-1])
        )
        time.sleep(0.2)
        supervisor.tick()
        assert pledge.state == "given up"  # and stays so
        assert pledge.restarts == 2
        assert review.state == "running"
        assert review.process is not None
        assert review.process.poll() is None
        assert not supervisor.fatal
        status = json.loads((tmp_path / "status.json").read_text(encoding="utf-8"))
        states = {p["name"]: (p["state"], p["restarts"], p["pid"]) for p in status["parts"]}
        assert states == {
            "pledge": ("given up", 2, None),
            "review": ("running", 0, review.process.pid),
        }
    finally:
        stop(supervisor)


def test_services_wait_for_a_server_being_restarted_and_postgres_given_up_is_fatal(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    launched: list[str] = []

    def failing_server() -> subprocess.Popen[bytes]:
        launched.append("postgres")
        raise RuntimeError("would not listen")

    postgres, pledge = part("postgres", server=True), part("pledge")
    postgres.launch = failing_server
    policy = RestartPolicy(first_delay=0.01, limit=1, window=60)
    supervisor = Supervisor([postgres, pledge], policy, tmp_path / "status.json", lines.append)
    try:
        kill(postgres)
        kill(pledge)
        supervisor.tick()
        assert postgres.state == "restarting"
        assert pledge.state == "restarting"
        time.sleep(0.05)
        supervisor.tick()  # postgres tried once more, failed: given up
        assert launched == ["postgres"]
        assert postgres.state == "given up"
        assert supervisor.fatal.startswith("PostgreSQL could not be kept up")
        assert lines[-1].endswith(
            "postgres died (did not start: RuntimeError) after 1 restarts within 60s: "
            "given up, not restarted; stopping everything"
        )
    finally:
        stop(supervisor)


def test_a_service_waits_while_its_server_restarts(tmp_path: Path) -> None:
    nats, pledge = part("nats", server=True), part("pledge")
    policy = RestartPolicy(first_delay=0.01, limit=5, window=60)
    supervisor = Supervisor([nats, pledge], policy, tmp_path / "status.json", lambda _: None)
    try:
        nats.state, nats.due = "restarting", time.monotonic() + 60  # not due for a minute
        assert nats.process is not None
        kill(nats)
        kill(pledge)
        supervisor.tick()
        time.sleep(0.05)
        supervisor.tick()
        assert pledge.state == "restarting"  # held back while nats is down
        nats.due = 0
        tick_until(supervisor, lambda: pledge.state == "running")
        assert nats.state == "running"
    finally:
        stop(supervisor)
