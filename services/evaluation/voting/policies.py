"""Voting reacts to no other service's events: invitations expire when their round or check
closes, which the close handlers do in the same transaction (handlers.empty_urn)."""

from __future__ import annotations
