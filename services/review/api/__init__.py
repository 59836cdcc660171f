"""The review service's HTTP API (thin: build a command, hand it over, shape the answer)."""

from services.review.api.directory import router as directory_router
from services.review.api.files import router as files_router
from services.review.api.journals import branch_router as branch_journals_router
from services.review.api.journals import router as journals_router
from services.review.api.leaders import assignments_router as leader_assignments_router
from services.review.api.leaders import router as leaders_router
from services.review.api.reviews import router as reviews_router
from services.review.api.visits import router as visits_router

ROUTERS = [
    reviews_router,
    journals_router,
    branch_journals_router,
    visits_router,
    directory_router,
    leaders_router,
    leader_assignments_router,
    files_router,
]
