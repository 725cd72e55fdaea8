"""The start page (``GET /``) and the API documentation served without a CDN (``/docs``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.api_docs import inline_scripts
from app.home.views import messages
from app.security import script_hash

NL = messages()["nl"]
EN = messages()["en"]


class References(HTMLParser):
    """Every URL a page makes the browser load or offers as a link (src, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def test_the_start_page_says_what_verbonden_is_in_dutch_first(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="nl">' in html
    assert "Heb je een QR-code gekregen?" in html and "Scan hem met je camera." in html
    assert NL["what"] in html
    assert 'href="/login"' in html and NL["sign_in"] in html
    assert 'href="/?lang=en"' in html
    assert "<script" not in html and " style=" not in html


def test_the_start_page_in_english(client):
    html = client.get("/", params={"lang": "en"}).text
    assert '<html lang="en">' in html
    assert EN["qr_heading"] in html and EN["sign_in"] in html and 'href="/login"' in html
    assert 'href="/"' in html  # back to Dutch
    # An unknown language is Dutch.
    assert '<html lang="nl">' in client.get("/", params={"lang": "xx"}).text


def test_the_start_page_loads_nothing_from_elsewhere(client):
    html = client.get("/").text
    urls = references(html)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for stylesheet in (url for url in urls if url.endswith(".css")):
        assert client.get(stylesheet).status_code == 200


def test_docs_reference_only_our_own_origin_and_the_assets_are_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    urls = references(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    assert any(url.endswith("swagger-ui.css") for url in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert "cdn." not in html and not re.search(r"https?://", html)
    # The one inline script is the one the policy allows by hash.
    [starter] = inline_scripts()
    assert starter in html
    assert script_hash(starter) in response.headers["content-security-policy"]
    assert "'/openapi.json'" in starter
    assert client.get("/openapi.json").status_code == 200


def test_the_docs_assets_are_cached_like_other_static_files(client):
    response = client.get("/static/api-docs/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers.get("cache-control") != "no-store"


def test_redoc_is_off(client):
    assert client.get("/redoc").status_code == 404
