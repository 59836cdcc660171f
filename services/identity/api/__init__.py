"""The identity service's HTTP API (thin): people and posts, the sign-in pages, and the
OpenID Connect endpoints."""

from services.identity.api.oauth import router as oauth_router
from services.identity.api.pages import router as pages_router
from services.identity.api.people import router as people_router
from services.identity.api.townships import router as townships_router
from services.identity.api.upstream import router as upstream_router

ROUTERS = [people_router, townships_router, oauth_router, pages_router, upstream_router]
