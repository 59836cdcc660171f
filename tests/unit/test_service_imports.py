"""A service process imports its own code and shared/, nothing of the other services and
nothing of the developer's tools or the bench (issue 15.4): through `gongkai serve <service>`,
the image's entrypoint, and through `python -m services.<service>.app`. Each is looked at in
a fresh interpreter, stopped just before the service would start serving. And the command
line runs without the `bench` extra, saying how to install it when the bench is asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from gongkai.operator.services import FRONTS, SERVICES

ROOT = Path(__file__).parents[2]
ENV = os.environ | {"PYTHONPATH": str(ROOT)}
TOOLS = ("gongkai.bench", "gongkai.develop")

# `gongkai serve <service>` as the console script runs it, but the service's main() is
# replaced by a report of the modules loaded by then (and of the module it would run).
SERVE = """
import json, sys
import gongkai.operator.commands as commands

def report(module):
    print(json.dumps({"module": module.__name__, "loaded": sorted(sys.modules)}))

commands.run_service = report
from gongkai.main import app
app(["serve", sys.argv[1]], prog_name="gongkai")
"""

# what `python -m services.<service>.app` imports before it calls main()
AS_MODULE = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({"module": module.__name__, "loaded": sorted(sys.modules)}))
"""

WITHOUT_BENCH = """
import sys
for name in ("eventsourcing", "psycopg", "psutil", "pyinstrument"):
    sys.modules[name] = None  # as if the bench extra were not installed
from gongkai.main import app
app(sys.argv[1:], prog_name="gongkai")
"""


def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def loaded(code: str, *args: str) -> tuple[str, list[str]]:
    done = python(code, *args)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["module"], report["loaded"]


def foreign(modules: list[str], service: str) -> list[str]:
    """Modules of other services, of the developer's tools or the bench, or of the tests."""
    others = [f"services.{name}" for name in SERVICES if name != service]
    return [
        m
        for m in modules
        if any(m == p or m.startswith(p + ".") for p in (*others, *TOOLS, "tests"))
    ]


@pytest.mark.parametrize("service", list(SERVICES))
def test_gongkai_serve_imports_only_its_own_service(service: str) -> None:
    module, modules = loaded(SERVE, service)
    assert module == SERVICES[service][0]
    assert module in modules
    assert foreign(modules, service) == []


@pytest.mark.parametrize("service", list(SERVICES))
def test_a_service_module_imports_only_itself_and_shared(service: str) -> None:
    module, modules = loaded(AS_MODULE, SERVICES[service][0])
    assert module == SERVICES[service][0]
    assert foreign(modules, service) == []
    assert [m for m in modules if m == "gongkai" or m.startswith("gongkai.")] == []


def test_the_checker_sees_a_foreign_module() -> None:
    """The checks above would catch a service that imported another, or the tools."""
    code = AS_MODULE.replace(
        "module = ", "import services.review.app, gongkai.develop.stack\nmodule = "
    )
    _, modules = loaded(code, "services.pledge.app")
    found = foreign(modules, "pledge")
    assert "services.review.app" in found
    assert "gongkai.develop.stack" in found


def test_the_table_of_services_matches_their_definitions() -> None:
    """SERVICES names each service's module and port without importing them; here they are
    imported, and each definition declares the name and port the table gives."""
    for name, (module, port) in SERVICES.items():
        definition = import_module(module).DEFINITION
        assert (definition.name, definition.default_port) == (name, port)
    found = sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py"))
    assert found == sorted([*SERVICES, *FRONTS])


def test_without_the_bench_extra_the_command_line_runs_and_says_what_to_install() -> None:
    listing = python(WITHOUT_BENCH, "--help")
    assert listing.returncode == 0, listing.stderr
    assert "serve" in listing.stdout
    assert "pip install 'gongkai[bench]'" in listing.stdout

    serve = python(WITHOUT_BENCH, "serve", "--help")
    assert serve.returncode == 0, serve.stderr
    assert "GONGKAI_" in serve.stdout

    bench = python(WITHOUT_BENCH, "bench", "store", "--events", "10")
    assert bench.returncode == 1
    assert "pip install 'gongkai[bench]'" in bench.stderr
    assert "eventsourcing" in bench.stderr


def test_with_the_bench_extra_the_bench_is_there() -> None:
    listing = python(
        WITHOUT_BENCH.replace('"eventsourcing", "psycopg", "psutil", "pyinstrument"', ""),
        "bench",
        "--help",
    )
    assert listing.returncode == 0, listing.stderr
    assert "--events" in listing.stdout


def test_every_folder_of_the_command_line_is_a_package_the_install_takes() -> None:
    """A folder without __init__.py imports from the source tree but is left out of the
    installed package (`gongkai serve` in the image would not find it)."""
    from setuptools import find_packages

    packages = set(find_packages(str(ROOT), include=["gongkai*"]))
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "gongkai").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert folders <= packages, folders - packages


def test_the_image_holds_the_command_line_without_the_bench_extra() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY gongkai ./gongkai" in dockerfile
    install = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert install
    assert all("bench" not in line and "[" not in line for line in install)
