"""Security headers on every response: a strict Content-Security-Policy, no referrer, no framing.

Choices, so that nobody has to rediscover them:

- **No script, anywhere we render.** The respondent form, the HTML report and the printable QR sheet
  have no JavaScript, so the policy has no ``script-src`` at all (``default-src 'none'`` forbids it).
- **Inline ``<style>`` by hash, not ``'unsafe-inline'``.** The report and the print sheet are
  self-contained pages with one fixed ``<style>`` block each. The SHA-256 of every ``<style>`` block
  in ``app/templates/`` is computed once at start-up and listed in ``style-src``; editing a template
  changes its hash with it. Injected markup can therefore not add styles, and nothing needs a nonce in
  the templates. Inline SVG (plots, QR codes) uses presentation attributes (``fill=``), which CSP does
  not govern; images as ``data:`` URLs are allowed.
- **``/docs`` gets a policy of its own**, still without any third-party source: Swagger UI is served
  from a pinned package (:mod:`app.api_docs`), so ``script-src 'self'`` plus the hash of its one
  inline starter script, and ``connect-src 'self'`` for ``/openapi.json`` and "Try it out".
- **``Cache-Control: no-store``** on everything except ``/static``: respondent pages carry tokens in
  their URL, API answers and reports carry personal data. A route's own ``Cache-Control`` is kept.
- **HSTS** only with ``VERBONDEN_HTTPS=true``: sent over plain HTTP on a development machine it would
  be ignored at best and pin a wrong host at worst.

The middleware wraps the whole application, outside Starlette's error middleware, so even the plain
"Internal Server Error" of an unhandled exception carries the headers.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from functools import cache

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import api_docs
from app.templates import TEMPLATES_DIR

HSTS = "max-age=31536000; includeSubDomains"
STRICT_TRANSPORT = (b"strict-transport-security", HSTS.encode("latin-1"))
NO_STORE = (b"cache-control", b"no-store")
DOCS_PATHS = api_docs.PAGES
UNCACHED_EXCEPT = ("/static/",)
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def style_hash(css: str) -> str:
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


script_hash = style_hash
"""A CSP hash source is the same for a script as for a style: SHA-256 of the element's text."""


@cache
def template_style_hashes() -> tuple[str, ...]:
    """The CSP source of every inline ``<style>`` block in the templates (they hold no Jinja code)."""
    hashes = {
        style_hash(block)
        for path in sorted(TEMPLATES_DIR.rglob("*.html"))
        for block in _STYLE_BLOCK.findall(path.read_text(encoding="utf-8"))
    }
    return tuple(sorted(hashes))


@cache
def content_security_policy() -> str:
    styles = " ".join(("'self'", *template_style_hashes()))
    return (
        f"default-src 'none'; style-src {styles}; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


@cache
def docs_content_security_policy() -> str:
    """The policy of ``/docs``: our own origin only, Swagger UI's inline starter by its hash."""
    scripts = " ".join(("'self'", *sorted({script_hash(block) for block in api_docs.inline_scripts()})))
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _raw(*headers: tuple[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers)


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: adds the headers to the response start message, whatever produced it.

    The headers are encoded once, when the first response starts (the policy hashes the templates).
    """

    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    @functools.cached_property
    def headers(self) -> dict[bool, tuple[tuple[bytes, bytes], ...]]:
        """The headers for ordinary pages (False) and for the API docs pages (True)."""
        common = (
            ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
        )
        return {
            False: _raw(("Content-Security-Policy", content_security_policy()), *common),
            True: _raw(("Content-Security-Policy", docs_content_security_policy()), *common),
        }

    @functools.cached_property
    def replaced(self) -> frozenset[bytes]:
        """The names of the headers set here (the same for both kinds of page)."""
        return frozenset(name for name, _ in self.headers[False])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = bool(getattr(self.owner.state.settings, "https", False))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                docs = path in DOCS_PATHS or path.startswith("/docs/")
                ours = self.headers[docs]
                # The policy here replaces a route's own (so the template hashes always apply).
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() not in self.replaced
                ]
                cached = any(name.lower() == b"cache-control" for name, _ in headers)
                headers.extend(ours)
                if not path.startswith(UNCACHED_EXCEPT) and not cached:
                    headers.append(NO_STORE)
                if https:
                    headers.append(STRICT_TRANSPORT)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI) -> None:
    """Wrap the whole middleware stack (error pages included) in :class:`SecurityHeadersMiddleware`."""
    build_stack = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeadersMiddleware(build_stack(), owner=app)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
