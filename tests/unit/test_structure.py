"""One shape for every service (see CONTRIBUTING.md): a reader who knows one knows all.

Every service, and every area of a service with several (sub-packages, e.g. evaluation's
rounds, checks, ratings and selection), holds the same modules, each with one job:

    events.py      past-tense, frozen events and their registry
    commands.py    validated requests, named as orders (`ReportProgress`, not `ItemDraft`)
    aggregates/    the rules, one file per aggregate: aggregates decide, events record
    access.py      who may do what, by role and place
    handlers.py    load, check, decide, save: one function per command
    policies.py    reactions to other services' events: typed consumed events in, commands out
    contracts.py   the fields it reads of other services' events (tolerant of added fields)
    projections/   the read models' steps; `__init__.py` holds the one explicit table
    queries.py     reads of the read models
    schemas.py     response models

and the service itself has `app.py` (the composition root), `api/` (routes only: no SQL, no
rules) and `read_models.sql`. Beside them only `migrations/`, `templates/` and `documents/`
(printable pages and workbooks). A service imports only itself and `shared/`.

A front (the console) holds no domain data and owns no log: it has its own, smaller shape
(`app.py`, `settings.py`, `session.py`, `signin.py`, `calls.py`, `web.py`, `pages/` with routes
only, `templates/`, `static/`), runs no SQL and imports no service: it reaches them over HTTP.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SERVICES = ROOT / "services"
SET = {
    "events.py",
    "commands.py",
    "aggregates",
    "access.py",
    "handlers.py",
    "policies.py",
    "contracts.py",
    "projections",
    "queries.py",
    "schemas.py",
}
SERVICE_ONLY = {"app.py", "api", "read_models.sql"}
ALLOWED_BESIDE = {"__init__.py", "migrations", "templates", "documents", "__pycache__"}
# sending over SMTP, robots and webhooks, and the loops that do it: mechanism a service owns
ALLOWED_BESIDE |= {"delivery"}
# the identity service's credential table, signing keys and OpenID Connect protocol work,
# and its client of a county's own provider
ALLOWED_BESIDE |= {"oidc", "upstream.py"}
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s")
QUERIES = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table"}
NOUN_ENDINGS = ("Draft", "Body", "Input", "Request", "Form", "Data")


FRONTS = {"console"}
FRONT = {
    "app.py",
    "settings.py",
    "session.py",
    "signin.py",
    "calls.py",
    "web.py",
    "pages",
    "templates",
    "static",
}


def services() -> list[str]:
    return sorted(
        p.name for p in SERVICES.iterdir() if (p / "app.py").exists() and p.name not in FRONTS
    )


def front_shape_of(name: str) -> list[str]:
    """What is wrong with a front's shape, one line each."""
    front = SERVICES / name
    present = {p.name for p in front.iterdir()} - {"__init__.py", "__pycache__"}
    wrong = [f"{name}: no {m}" for m in sorted(FRONT - present)]
    wrong += [f"{name}: {p} is none of a front's modules" for p in sorted(present - FRONT)]
    for path in modules(front):
        relative = path.relative_to(SERVICES)
        used = imports(path)
        wrong += [
            f"{relative}: imports {m}"
            for m in sorted(used)
            if (m.startswith("services.") and not m.startswith(f"services.{name}"))
            or m == "asyncpg"
        ]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and SQL.search(text):
                wrong.append(f"{relative}:{node.lineno}: SQL in a front")
    return wrong


@pytest.mark.parametrize("name", sorted(FRONTS))
def test_every_front_has_its_shape(name: str) -> None:
    assert front_shape_of(name) == []


def areas(service: Path) -> list[Path]:
    return [p for p in service.iterdir() if p.is_dir() and (p / "events.py").exists()]


def modules(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.py"))


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def shape_of(name: str) -> list[str]:
    """What is wrong with the service's shape, one line each."""
    service = SERVICES / name
    wrong: list[str] = []
    units = [service, *areas(service)]
    for unit in units:
        present = {p.name for p in unit.iterdir()}
        where = unit.relative_to(SERVICES)
        wrong += [f"{where}: no {m}" for m in sorted(SET - present)]
        allowed = SET | ALLOWED_BESIDE | {a.name for a in areas(service)}
        if unit == service:
            wrong += [f"{where}: no {m}" for m in sorted(SERVICE_ONLY - present)]
            allowed |= SERVICE_ONLY
        wrong += [f"{where}: {p} is none of the shape's modules" for p in present - allowed]
        for package in ("aggregates", "projections"):
            if (unit / package).is_dir() and not (unit / package / "__init__.py").exists():
                wrong.append(f"{where}/{package}: not a package")
        table = unit / "projections" / "__init__.py"
        if table.exists() and "Projection(" not in table.read_text(encoding="utf-8"):
            wrong.append(f"{where}/projections: no table of projectors in __init__.py")
        commands = unit / "commands.py"
        if commands.exists():
            tree = ast.parse(commands.read_text(encoding="utf-8"))
            for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
                bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
                if "Command" in bases and cls.name.endswith(NOUN_ENDINGS):
                    wrong.append(f"{where}/commands.py: {cls.name} is not named as an order")
    for path in modules(service):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(SERVICES)
        if ".on(" in text and "@" in text and "projections" in path.parts:
            wrong += [f"{relative}: registers a projector by decorator, not in the table"]
        if "noqa: F401" in text:
            wrong.append(f"{relative}: an import kept only for its side effects")
        others = {
            m.split(".")[1]
            for m in imports(path)
            if m.startswith("services.") and m.split(".")[1] != name
        }
        wrong += [f"{relative}: imports services.{other}" for other in sorted(others)]
    for path in modules(service / "api"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(SERVICES)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if SQL.search(node.value):
                    wrong.append(f"{relative}:{node.lineno}: SQL in a route module")
            elif isinstance(node, ast.Attribute) and node.attr in QUERIES:
                wrong.append(f"{relative}:{node.lineno}: runs a query in a route module")
        if any(".aggregates" in m or m == "asyncpg" for m in imports(path)):
            wrong.append(f"{relative}: a route module uses the rules or the database itself")
    return wrong


@pytest.mark.parametrize("name", services())
def test_every_service_has_the_one_shape(name: str) -> None:
    assert shape_of(name) == []


def test_shared_imports_no_service() -> None:
    for path in modules(ROOT / "shared"):
        assert not {m for m in imports(path) if m.startswith("services")}, path


def test_the_checker_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The structure test itself can fail: a made-up service with each fault is caught."""
    global SERVICES
    made = tmp_path / "services" / "made"
    for entry in SET | SERVICE_ONLY:
        target = made / entry
        if entry.endswith((".py", ".sql")):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("", encoding="utf-8")
        else:
            target.mkdir(parents=True)
            (target / "__init__.py").write_text("", encoding="utf-8")
    (made / "projections" / "__init__.py").write_text("P = Projection('made')\n", "utf-8")
    saved, SERVICES = SERVICES, tmp_path / "services"
    try:
        assert shape_of("made") == []
        (made / "views.py").write_text("", encoding="utf-8")
        (made / "api" / "routes.py").write_text(
            "import services.other.app\nasync def f(conn):\n"
            "    return await conn.fetch('SELECT 1 FROM t')\n",
            encoding="utf-8",
        )
        (made / "commands.py").write_text("class ItemDraft(Command):\n    pass\n", "utf-8")
        (made / "queries.py").unlink()
        found = "\n".join(shape_of("made"))
        for fault in (
            "no queries.py",
            "views.py is none",
            "SQL in a route module",
            "runs a query in a route module",
            "imports services.other",
            "ItemDraft is not named as an order",
        ):
            assert fault in found, fault
    finally:
        SERVICES = saved
