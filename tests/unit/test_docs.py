"""The documentation is held to the code: every GONGKAI_ variable the code reads is in the
configuration table of docs/operations.md and the table names no other; every requirement id
the code and tests cite is explained in docs/requirements.md; the README starts with the two
set-up commands, and CI runs exactly the second; relative links in the docs lead somewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.settings import ServiceSettings

ROOT = Path(__file__).parents[2]
# where the code lives (the command line moves from services/cli to gongkai/)
CODE = [ROOT / "shared", ROOT / "services", ROOT / "gongkai"]
CONFIG_FILES = ["deploy/*", "docker-compose*.yml", "shared/*.conf"]
VARIABLE = re.compile(r"GONGKAI_[A-Z0-9_]+")
# P10, E3a, A7 ...; a letter names a clause (P10c: "(c)" in P10's line) unless listed (E3a)
REQUIREMENT = re.compile(r"(?<![\w\-./])([DPRESNAXU]\d{1,2})([a-z]?)(?!\w)")
CITING = {".py", ".sql", ".html", ".conf", ".yml", ".yaml", ".toml"}


def python_files() -> list[Path]:
    return sorted(p for tree in CODE if tree.exists() for p in tree.rglob("*.py"))


def settings_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """Classes whose model_config reads the GONGKAI_ environment (pydantic-settings)."""
    return [cls for cls, _ in prefixed_settings(tree)]


def prefixed_settings(tree: ast.Module) -> list[tuple[ast.ClassDef, str]]:
    """Settings classes with the prefix they read (GONGKAI_, or one under it, such as the
    console's GONGKAI_CONSOLE_)."""
    found = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for node in cls.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "model_config" for t in node.targets
            ):
                prefixes = [
                    k.value.value
                    for k in ast.walk(node.value)
                    if isinstance(k, ast.keyword) and k.arg == "env_prefix"
                    if isinstance(k.value, ast.Constant)
                ]
                if len(prefixes) == 1 and prefixes[0].startswith("GONGKAI_"):
                    found.append((cls, prefixes[0]))
    return found


def variables_in_code() -> dict[str, str]:
    """Every GONGKAI_ environment variable something reads, with where it was found."""
    found = {f"GONGKAI_{name.upper()}": "ServiceSettings" for name in ServiceSettings.model_fields}
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        for cls, prefix in prefixed_settings(tree):
            for node in cls.body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    found.setdefault(f"{prefix}{node.target.id.upper()}", f"{where} {cls.name}")
        # read directly: envvar="GONGKAI_…", os.environ["GONGKAI_…"], a table of names
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and VARIABLE.fullmatch(text) and not text.endswith("_"):
                found.setdefault(text, where)
    for pattern in CONFIG_FILES:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                for name in re.findall(r"\$\{?(GONGKAI_[A-Z0-9_]+)", path.read_text("utf-8")):
                    found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def configuration_table() -> list[str]:
    """The variables named in the first column of docs/operations.md's tables."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `GONGKAI_")]
    names = [VARIABLE.search(row.split("|")[1]) for row in rows]
    return [m.group(0) for m in names if m]


def test_every_variable_the_code_reads_is_in_the_configuration_table() -> None:
    table = configuration_table()
    assert len(table) == len(set(table)), "a variable is listed twice"
    missing = {name: where for name, where in variables_in_code().items() if name not in table}
    assert not missing, f"add to docs/operations.md, Configuration: {missing}"


def test_the_configuration_table_names_only_variables_that_exist() -> None:
    unknown = set(configuration_table()) - set(variables_in_code())
    assert not unknown, f"docs/operations.md names variables nothing reads: {unknown}"


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    tree = ast.parse(
        'class S(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix="GONGKAI_")\n'
        "    smtp_host: str = ''\n"
    )
    assert [c.name for c in settings_classes(tree)] == ["S"]
    assert {"GONGKAI_PORT", "GONGKAI_TRUSTED_PROXIES"} <= set(variables_in_code())
    assert "GONGKAI_SMTP_HOST" in variables_in_code()  # the notification service's own settings
    assert "GONGKAI_DATA_DIR" in variables_in_code()  # read by the command line directly
    assert "GONGKAI_NATS_ARCHIVE_PASSWORD" in variables_in_code()  # the broker's accounts file
    cited = dict(citations_in("see E3a and P10c; not xP1 nor rfc-A4 nor A4_key"))
    assert cited == {"E3a": "", "P10c": ""}


def requirement_lines() -> dict[str, str]:
    text = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^- \*\*([A-Z]\d+[a-z]?)\*\* (.+)$", text, flags=re.M))


def citations_in(text: str) -> list[tuple[str, str]]:
    return [(m.group(1) + m.group(2), "") for m in REQUIREMENT.finditer(text)]


def cited_ids() -> dict[str, str]:
    found: dict[str, str] = {}
    trees = [*CODE, ROOT / "tests", ROOT / "deploy"]
    for path in sorted(p for tree in trees if tree.exists() for p in tree.rglob("*")):
        if path.suffix in CITING and path.is_file() and "__pycache__" not in path.parts:
            for cited, _ in citations_in(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(cited, str(path.relative_to(ROOT)))
    return found


def test_every_requirement_cited_in_the_code_is_explained() -> None:
    listed = requirement_lines()
    assert len(listed) > 50
    assert all(len(meaning.split()) >= 4 for meaning in listed.values()), "one line each"

    def explained(cited: str) -> bool:
        if cited in listed:
            return True
        base, clause = cited[:-1], cited[-1]  # P10c: clause (c), named in P10's line
        return clause.islower() and f"({clause})" in listed.get(base, "")

    unexplained = {cited: where for cited, where in cited_ids().items() if not explained(cited)}
    assert not unexplained, f"cited but not in docs/requirements.md: {unexplained}"


def test_the_readme_starts_with_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, flags=re.S)
    assert first_block
    before = readme[: first_block.start()]
    assert "```" not in before
    assert len([line for line in before.splitlines() if line.strip()]) <= 3, "commands first"
    commands = first_block.group(1).strip().splitlines()
    assert len(commands) == 2
    assert commands[0].endswith(".venv/bin/gongkai up")
    assert commands[1].endswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == commands[1], ".ci/run runs the README's second command, nothing else"
    assert not [line for line in ci if "apt-get" in line and not line.startswith("#")]


def test_relative_links_in_the_docs_lead_somewhere() -> None:
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").rglob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
