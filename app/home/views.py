"""The start page, ``GET /``: what verbonden is, where a respondent goes, and sign-in for staff.

Whoever opens the bare address (a respondent who typed it from a poster, a coordinator, a curious
passer-by) gets a short page in Dutch, with English a tap away, instead of a JSON 404. No script,
nothing from another site, no cookie.
"""

from __future__ import annotations

from functools import cache

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templates import TEMPLATES_DIR, templates

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
SIGN_IN_URL = "/login"
DOCS_URL = "/docs"

router = APIRouter(include_in_schema=False)


@cache
def messages() -> dict[str, dict[str, str]]:
    """The page's texts per language (``templates/home/messages.yaml``)."""
    with (TEMPLATES_DIR / "home" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, dict[str, str]] = yaml.safe_load(file)
    return loaded


@router.get("/", response_class=HTMLResponse)
def start_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """The start page in Dutch, or in English with ``?lang=en``."""
    chosen = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    other = "en" if chosen == "nl" else "nl"
    return templates.TemplateResponse(
        request,
        "home/page.html",
        {
            "lang": chosen,
            "other_lang": other,
            "t": messages()[chosen],
            "switch_url": "/" if other == DEFAULT_LANGUAGE else f"/?lang={other}",
            "sign_in_url": SIGN_IN_URL,
            "docs_url": DOCS_URL,
        },
    )
