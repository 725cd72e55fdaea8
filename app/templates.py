"""The one Jinja2 environment for every server-rendered page (templates live in ``app/templates/``)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    # Every template is escaped, whatever its extension: names and texts come from users.
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

templates = Jinja2Templates(env=environment)
