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


def _sender_of(row: object) -> object:
    """The municipality (sender) of a row loaded in a session, for a page that shows who asks."""
    from sqlalchemy.orm import object_session

    from app.models import Municipality

    session = object_session(row)
    municipality_id = getattr(row, "municipality_id", None)
    if session is None or municipality_id is None:
        return None
    return session.get(Municipality, municipality_id)


def _minutes_to_fill_in(wave: object, form: str) -> int:
    """The time estimate of a wave's form, from its number of items (as the form itself shows)."""
    from app.collection.service import link_form, minutes_to_fill_in

    asked = link_form(getattr(wave, "instrument_version"), form, getattr(wave, "modules"))  # noqa: B009
    return minutes_to_fill_in(len(asked.item_ids))


# The QR sheet names who asks and how long the form takes without its route computing it.
environment.globals["sender_of"] = _sender_of
environment.globals["minutes_to_fill_in"] = _minutes_to_fill_in
