"""The notification service's HTTP API and public board."""

from services.notification.api.board import router as board_router
from services.notification.api.calendar import router as calendar_router
from services.notification.api.delivery import router as delivery_router
from services.notification.api.releases import router as releases_router

ROUTERS = [board_router, releases_router, calendar_router, delivery_router]
