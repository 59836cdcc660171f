"""The identity service's rules: a person and the posts they hold (`person`), and what a
credential must be (`credentials`: password policy, lockout, second factor). Pure; no I/O."""

from services.identity.aggregates.credentials import (
    LockoutPolicy,
    PasswordPolicy,
    needs_second_factor,
)
from services.identity.aggregates.person import GRANTABLE, Person, Post

__all__ = ["GRANTABLE", "LockoutPolicy", "PasswordPolicy", "Person", "Post", "needs_second_factor"]
