"""Path parameters particular to the review service (run and Reader come from shared.http)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from services.review.commands import MONTH_PATTERN

PathMonth = Annotated[str, Path(pattern=MONTH_PATTERN)]
QUARTER_PATTERN = r"^\d{4}Q[1-4]$"
