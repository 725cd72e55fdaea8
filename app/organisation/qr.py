"""QR codes of invitation links, as SVG (print, screen) and PNG (chat apps, office documents)."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup

# Level M survives a scuffed or creased print while keeping the code small enough to scan from a phone.
ERROR_CORRECTION = "m"
QUIET_ZONE = 4  # modules of white border, as the QR standard asks
PNG_SCALE = 10


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_CORRECTION, micro=False)


def qr_svg(url: str) -> bytes:
    """A standalone SVG document of the link's QR code."""
    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="svg", scale=PNG_SCALE, border=QUIET_ZONE, title="QR-code")
    return buffer.getvalue()


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="png", scale=PNG_SCALE, border=QUIET_ZONE)
    return buffer.getvalue()


def qr_svg_inline(url: str) -> Markup:
    """An ``<svg>`` element for embedding in HTML; it scales with its CSS width (no fixed size)."""
    svg = _qr(url).svg_inline(scale=1, border=QUIET_ZONE, omitsize=True, svgclass="qr", lineclass=None)
    # Safe: segno builds the markup from the module matrix alone; the URL is not written into it.
    return Markup(svg)  # noqa: S704
