"""What a credential must be, and how failures lock an account. Pure; no I/O.

Passwords per 等保 2.0 level 3 (GB/T 22239-2019 8.1.4.1): at least 8 characters of at least
3 of the 4 classes (upper case, lower case, digits, other), none of the last 5 again, expiry
configurable. Brute force: 5 failures in a row lock the account for 30 minutes, doubling with
each lock that follows without a good sign-in between (capped at a day); an address that
fails too often is refused for a while, whichever accounts it tries. All configurable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.auth import Role
from shared.errors import InvalidInput


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    min_classes: int = 3
    history: int = 5  # the last passwords that may not come back
    max_age_days: int = 90  # 0: never expires

    def check(self, password: str, login_name: str | None = None) -> None:
        """Refuses a password the policy does not allow, naming the field and the reason."""
        if len(password) < self.min_length:
            raise InvalidInput(f"密码至少 {self.min_length} 位", field="password")
        if len(password) > 128:
            raise InvalidInput("密码至多 128 位", field="password")
        classes = sum(
            (
                any(ch.isupper() for ch in password),
                any(ch.islower() for ch in password),
                any(ch.isdigit() for ch in password),
                any(not ch.isalnum() for ch in password),
            )
        )
        if classes < self.min_classes:
            raise InvalidInput(
                f"密码须含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类",
                field="password",
            )
        if login_name and login_name in password:
            raise InvalidInput("密码不得包含登录名", field="password")

    def expired(self, set_at: datetime, now: datetime) -> bool:
        return self.max_age_days > 0 and now - set_at > timedelta(days=self.max_age_days)


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int = 5  # failures in a row that lock the account
    lock_minutes: int = 30  # the first lock; each further one doubles
    max_lock_minutes: int = 24 * 60
    address_failures: int = 20  # failures from one address within the window ...
    address_window_minutes: int = 15  # ... refuse it for this long

    def lock_for(self, locks_before: int) -> timedelta:
        """How long the account locks, given the locks since its last good sign-in."""
        minutes = self.lock_minutes * (2 ** min(locks_before, 16))
        return timedelta(minutes=min(minutes, self.max_lock_minutes))

    def locks(self, failures_in_a_row: int) -> bool:
        return self.failures > 0 and failures_in_a_row >= self.failures


SECOND_FACTOR_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR})


def needs_second_factor(roles: set[Role]) -> bool:
    """A one-time code (TOTP) is required of county administrators and auditors."""
    return bool(roles & SECOND_FACTOR_ROLES)
