"""A Chromium for the board's browser test, found on the PATH or installed once per run.

The README's second command must pass on a fresh machine that has only Python and the package
registries, so the test run gets its browser itself: Debian's `chromium` (with a font for
Chinese text) through the system package manager, when it may use it (root, or sudo without a
password). Playwright's browser download is not used: its hosts are not reachable from every
network the project runs on, and the tests drive the `chromium` binary directly.

`plan()` decides and does nothing, so a unit test can check each case with a PATH of its own;
`chromium_or_install()` carries the plan out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

NAMES = ("chromium", "chromium-browser", "google-chrome")
PACKAGES = ("chromium", "fonts-wqy-microhei")
# waits for another apt-get (a second test run, the machine's own updates) instead of failing
APT = ("apt-get", "-o", "DPkg::Lock::Timeout=600")


@dataclass(frozen=True)
class Found:
    path: str


@dataclass(frozen=True)
class Install:
    commands: tuple[tuple[str, ...], ...]

    def shown(self) -> str:
        return " && ".join(" ".join(c) for c in self.commands)


@dataclass(frozen=True)
class Missing:
    message: str


def find(path: str | None) -> str | None:
    """The first of chromium, chromium-browser, google-chrome on `path`."""
    for name in NAMES:
        if found := shutil.which(name, path=path):
            return found
    return None


def passwordless_sudo(path: str | None) -> bool:
    sudo = shutil.which("sudo", path=path)
    if not sudo:
        return False
    try:
        done = subprocess.run([sudo, "-n", "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def install_commands(prefix: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    env = ("env", "DEBIAN_FRONTEND=noninteractive")
    return (
        (*prefix, *env, *APT, "update", "-qq"),
        (*prefix, *env, *APT, "install", "-y", "-qq", *PACKAGES),
    )


def plan(
    path: str | None,
    *,
    euid: int,
    sudo_without_password: Callable[[str | None], bool] = passwordless_sudo,
) -> Found | Install | Missing:
    """What to do for a browser, given the PATH and who we are; runs nothing but `sudo -n true`
    (and that only when not root and apt-get is there)."""
    if found := find(path):
        return Found(found)
    wanted = "apt-get install -y " + " ".join(PACKAGES)
    if shutil.which("apt-get", path=path):
        if euid == 0:
            return Install(install_commands(()))
        if sudo_without_password(path):
            return Install(install_commands(("sudo", "-n")))
        return Missing(
            "no Chromium on the PATH (chromium, chromium-browser or google-chrome), and "
            "apt-get needs root: run `sudo apt-get update && sudo " + wanted + "`, "
            "then the tests again"
        )
    return Missing(
        "no Chromium on the PATH (chromium, chromium-browser or google-chrome) and no apt-get "
        "to install it: install Chromium and a font with Chinese glyphs with the system's "
        "package manager (on Debian or Ubuntu: `" + wanted + "`), then run the tests again"
    )


def chromium_or_install(say: Callable[[str], None]) -> str:
    """The path of a Chromium, installing Debian's when the plan says so; raises RuntimeError
    with the command to run by hand when it cannot."""
    path = os.environ.get("PATH")
    decided = plan(path, euid=os.geteuid())
    if isinstance(decided, Found):
        return decided.path
    if isinstance(decided, Missing):
        raise RuntimeError(decided.message)
    say(f"no Chromium on the PATH: installing it for the board's browser test: {decided.shown()}")
    for command in decided.commands:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-2000:]}\n"
                f"install it by hand: {decided.shown()}"
            )
    found = find(path)
    if not found:
        raise RuntimeError(f"installed {', '.join(PACKAGES)} but found no Chromium on the PATH")
    say(f"installed Chromium: {found}")
    return found
