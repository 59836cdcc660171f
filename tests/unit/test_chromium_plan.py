"""The browser test gets its Chromium by itself (tests/support/chromium.py): found on the PATH,
else installed with apt-get when the run may, else a failure naming the command. Each case is
checked here with a PATH of fake executables, since the real machine's Chromium cannot be
taken away; the install itself is proven on a fresh machine in CI."""

from __future__ import annotations

from pathlib import Path

from tests.support.chromium import Found, Install, Missing, plan

INSTALL = "chromium fonts-wqy-microhei"


def path_with(tmp_path: Path, *names: str) -> str:
    for name in names:
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    return str(tmp_path)


def no_sudo(path: str | None) -> bool:
    return False


def sudo(path: str | None) -> bool:
    return True


def test_a_chromium_on_the_path_is_used(tmp_path: Path) -> None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        where = tmp_path / name
        where.mkdir()
        found = plan(path_with(where, name, "apt-get"), euid=0, sudo_without_password=no_sudo)
        assert found == Found(str(where / name))


def test_root_with_apt_get_installs_chromium_and_a_chinese_font(tmp_path: Path) -> None:
    decided = plan(path_with(tmp_path, "apt-get"), euid=0, sudo_without_password=no_sudo)
    assert isinstance(decided, Install)
    update, install = decided.commands
    assert update[:2] == ("env", "DEBIAN_FRONTEND=noninteractive")
    assert update[2] == "apt-get"
    assert "update" in update
    assert install[2] == "apt-get"
    assert install[-5:] == ("install", "-y", "-qq", "chromium", "fonts-wqy-microhei")
    assert INSTALL in decided.shown()


def test_a_user_with_passwordless_sudo_installs_through_it(tmp_path: Path) -> None:
    decided = plan(path_with(tmp_path, "apt-get", "sudo"), euid=1000, sudo_without_password=sudo)
    assert isinstance(decided, Install)
    assert all(c[:2] == ("sudo", "-n") for c in decided.commands)


def test_a_user_without_sudo_is_told_the_command(tmp_path: Path) -> None:
    decided = plan(path_with(tmp_path, "apt-get"), euid=1000, sudo_without_password=no_sudo)
    assert isinstance(decided, Missing)
    assert f"sudo apt-get update && sudo apt-get install -y {INSTALL}" in decided.message


def test_without_apt_get_the_packages_are_named(tmp_path: Path) -> None:
    decided = plan(path_with(tmp_path), euid=0, sudo_without_password=sudo)
    assert isinstance(decided, Missing)
    assert f"apt-get install -y {INSTALL}" in decided.message


def test_sudo_is_not_asked_when_root_or_when_a_browser_is_there(tmp_path: Path) -> None:
    def must_not_ask(path: str | None) -> bool:
        raise AssertionError("asked sudo")

    assert isinstance(
        plan(path_with(tmp_path, "apt-get"), euid=0, sudo_without_password=must_not_ask), Install
    )
    assert isinstance(
        plan(path_with(tmp_path, "chromium"), euid=1000, sudo_without_password=must_not_ask), Found
    )
