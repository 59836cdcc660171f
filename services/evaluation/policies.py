"""The evaluation service's reactions: to other services' events, and to its own clock.

Every pledge event is consumed (the directory copy is built from them, D2); an item reported
done opens its satisfaction check (E8, checks/policies.py). The review service's reviews are
kept in the inbox and projected, for the selection's composite score (S2). And at the end of
its window a satisfaction check (E8) or a round (E4) closes by itself, for every township,
acting for its office.
"""

from __future__ import annotations

from functools import partial

from services.evaluation import queries as q
from services.evaluation.checks.handlers import close_due_checks
from services.evaluation.checks.policies import on_pledge_events
from services.evaluation.rounds.handlers import close_due_rounds
from shared.auth import Principal, Role
from shared.eventstore.base import CommandContext
from shared.runtime import Periodic, Runtime
from shared.subscriptions import Subscription
from shared.unit_of_work import CommandExecutor

SCHEDULER = "scheduler:evaluation"
CHECK_INTERVAL_SECONDS = 3600.0


def subscriptions(executor: CommandExecutor) -> list[Subscription]:
    return [
        Subscription(consumer="evaluation", source="pledge", handler=on_pledge_events(executor)),
        # leadership reviews, for the selection's composite score (S2); kept in the inbox and
        # projected; until the review service runs, the runner waits for its stream
        Subscription(consumer="evaluation", source="review"),
    ]


def periodic(runtime: Runtime) -> list[Periodic]:
    async def close_due() -> None:
        for township in await q.townships(runtime.pool):
            office = Principal(subject=SCHEDULER, role=Role.TOWNSHIP_OFFICE, org=township)
            # each in its own transaction, checks first: a round that cannot close does not
            # hold back the verdicts
            for close in (close_due_checks, close_due_rounds):
                await runtime.executor.execute(
                    partial(close, township_id=township, who=office),
                    context=CommandContext(actor=SCHEDULER, role=Role.TOWNSHIP_OFFICE.value),
                )

    return [Periodic("close-due-checks-and-rounds", CHECK_INTERVAL_SECONDS, close_due)]
