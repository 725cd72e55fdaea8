"""JSON routes for partners, teams, professionals, waves and invitations (scope ``manage``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
