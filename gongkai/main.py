"""`gongkai`: the command line, assembled. The operator's commands (serve, token, rebuild,
republish, asyncapi, audit) are always here; the developer's (`up`, `demo`) and the bench are
imported only when named (or listed by --help), so `gongkai serve <service>` loads that
service and nothing else, and an image without the `bench` extra still runs."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from gongkai.operator.audit import audit
from gongkai.operator.commands import asyncapi, rebuild, republish, serve, token

# command -> (module whose `cli` holds it, how to install it if its module cannot be imported)
LAZY: dict[str, tuple[str, str | None]] = {
    "up": ("gongkai.develop.commands", None),
    "status": ("gongkai.develop.commands", None),
    "demo": ("gongkai.develop.commands", None),
    "bench": ("gongkai.bench.command", "pip install 'gongkai[bench]'"),
}
ORDER = (
    "up",
    "status",
    "token",
    "demo",
    "serve",
    "rebuild",
    "republish",
    "asyncapi",
    "bench",
    "audit",
)


class Commands(TyperGroup):
    """The group that imports a lazy command's module when the command is named. (No click
    types here: typer may bring a click of its own.)"""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(dict.fromkeys([*super().list_commands(ctx), *LAZY]))  # loaded ones once
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self.commands:
            self.commands[cmd_name] = _load(cmd_name, *LAZY[cmd_name])
        return super().get_command(ctx, cmd_name)


def _load(name: str, module_name: str, install: str | None) -> Any:
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as missing:
        if install is None:
            raise
        return _not_installed(name, install, missing)
    command = typer.main.get_command(module.cli)
    if isinstance(command, TyperGroup):  # a module holding several commands
        return command.commands[name]
    return command  # a module holding one


def _not_installed(name: str, install: str, missing: ModuleNotFoundError) -> Any:
    stub = typer.Typer(add_completion=False)

    @stub.command(
        name=name,
        help=escape(f"Not installed here: {install}"),
        short_help=escape(f"(not installed: {install})"),
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def explain() -> None:
        typer.echo(
            f"`gongkai {name}` is not installed here ({missing.name} is missing): {install}",
            err=True,
        )
        raise typer.Exit(1)

    return typer.main.get_command(stub)


app = typer.Typer(
    cls=Commands,
    help="Gongkai (公开): public pledges, reviews, evaluation and publication.",
    no_args_is_help=True,
    add_completion=False,
)
for command in (token, serve, rebuild, republish, asyncapi):
    app.command()(command)
app.add_typer(audit, name="audit")


if __name__ == "__main__":
    app()
