"""``GET /api/v1/instrument``: the published questionnaire, public (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.instrument_versions.service import published_instrument

router = APIRouter(tags=["instrument"])


@router.get("/instrument")
def get_instrument() -> dict[str, Any]:
    """The instrument new waves use: forms, their subscales and modules, items with their text in
    every language and reverse flag, and the response scale; ``content_hash`` identifies the version."""
    instrument = published_instrument()
    return {**instrument.to_dict(), "content_hash": instrument.content_hash}
