"""Work the evaluation service does on its clock: at the end of its window a satisfaction
check (E8) or a round (E4) closes by itself, for every township, acting for its office."""

from __future__ import annotations

from functools import partial

from services.evaluation.handlers import close_due_rounds
from services.evaluation.handlers_checks import close_due_checks
from shared.auth import Principal, Role
from shared.eventstore.base import CommandContext
from shared.runtime import Periodic, Runtime

SCHEDULER = "scheduler:evaluation"
CHECK_INTERVAL_SECONDS = 3600.0


def periodic(runtime: Runtime) -> list[Periodic]:
    async def close_due() -> None:
        for row in await runtime.pool.fetch("SELECT township_id FROM dir_townships ORDER BY 1"):
            township = row["township_id"]
            office = Principal(subject=SCHEDULER, role=Role.TOWNSHIP_OFFICE, org=township)
            # each in its own transaction, checks first: a round that cannot close does not
            # hold back the verdicts
            for close in (close_due_checks, close_due_rounds):
                await runtime.executor.execute(
                    partial(close, township_id=township, who=office),
                    context=CommandContext(actor=SCHEDULER, role=Role.TOWNSHIP_OFFICE.value),
                )

    return [Periodic("close-due-checks-and-rounds", CHECK_INTERVAL_SECONDS, close_due)]
