"""The pledge service's HTTP API (thin: build a command, hand it over, shape the answer)."""

from services.pledge.api.directory import router as directory_router
from services.pledge.api.files import router as files_router
from services.pledge.api.imports import router as imports_router
from services.pledge.api.ledger import router as ledger_router
from services.pledge.api.pledges import router as pledges_router

ROUTERS = [directory_router, pledges_router, ledger_router, files_router, imports_router]
