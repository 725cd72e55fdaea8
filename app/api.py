"""The versioned JSON API: every router under ``/api/v1`` needs an API key unless listed public."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.auth import get_principal

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    """Protected routers are included with the key check, so a new route is protected by default."""
    public = APIRouter(prefix=API_PREFIX)
    protected = APIRouter(prefix=API_PREFIX, dependencies=[Depends(get_principal)])

    # Routers are imported here so that importing app.api stays cheap and free of cycles.
    from app.apikeys.api import router as apikeys_router
    from app.collection.api import router as collection_router
    from app.exports.api import router as exports_router
    from app.instrument_versions.api import router as instrument_router
    from app.municipality.api import router as municipality_router
    from app.organisation.api import router as organisation_router
    from app.reports.api import router as reports_router

    public.include_router(instrument_router)
    protected.include_router(organisation_router)
    protected.include_router(collection_router)
    protected.include_router(exports_router)
    protected.include_router(reports_router)
    protected.include_router(apikeys_router)
    protected.include_router(municipality_router)

    api = APIRouter()
    api.include_router(public)
    api.include_router(protected)
    return api
