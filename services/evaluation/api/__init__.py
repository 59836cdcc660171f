"""The evaluation service's HTTP API (thin: build a command, hand it over, shape the answer)."""

from services.evaluation.api.checks import router as checks_router
from services.evaluation.api.imports import router as imports_router
from services.evaluation.api.people import router as people_router
from services.evaluation.api.rounds import router as rounds_router
from services.evaluation.api.selections import router as selections_router
from services.evaluation.api.voting import router as voting_router

ROUTERS = [
    rounds_router,
    checks_router,
    selections_router,
    people_router,
    voting_router,
    imports_router,
]
