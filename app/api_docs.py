"""The API documentation page, ``/docs`` (Swagger UI), served without any CDN.

FastAPI's own pages load their JavaScript and styles from cdn.jsdelivr.net, so on a closed network
or an intranet they stay blank, and every visit tells a third party that someone reads our
documentation. Here the assets come from the pinned PyPI package ``fastapi-offline`` (its
``static/`` folder: Swagger UI's bundle and CSS, a favicon), served under ``/static/api-docs/``
beside our own static files (cached like them), and the page is FastAPI's own HTML pointed at them.

The page is fixed (the OpenAPI URL and the title do not change while the process runs), so Swagger
UI's one inline starter script is allowed by its SHA-256 in the page's Content-Security-Policy
(:func:`app.security.docs_content_security_policy`), with ``script-src 'self'`` and no third-party
source at all.

``/redoc`` is switched off: the package ships ReDoc too, but ReDoc's footer always loads its logo
from cdn.redoc.ly (hard-coded in the bundle), and one documentation page is enough. The schema
itself stays at ``/openapi.json`` for any other viewer.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/static/api-docs"
OPENAPI_URL = "/openapi.json"
SWAGGER_URL = "/docs"
TITLE = "verbonden"
PAGES = (SWAGGER_URL,)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@cache
def swagger_page() -> str:
    """Swagger UI's page: FastAPI's HTML with the assets of the package (no OAuth2 redirect: keys only)."""
    response = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{TITLE} - Swagger UI",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None,
    )
    return bytes(response.body).decode("utf-8")


def inline_scripts() -> list[str]:
    """The text of every inline ``<script>`` of the docs page (for their CSP hashes)."""
    return _INLINE_SCRIPT.findall(swagger_page())


def install_api_docs(app: FastAPI) -> None:
    """Add ``/docs`` and its assets; build the app with ``docs_url=None, redoc_url=None``."""
    # Mounted before /static (routes match in order), so /static/api-docs/* comes from the package.
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="api-docs-assets")

    @app.get(SWAGGER_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger_page())
