"""What the team and professional pages show and send: built on the organisation service, no rules of
its own, and the CSV import of professionals (a preview with an error per row, then all or nothing).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from app.auth import Principal
from app.errors import AppError
from app.models import Partner, Professional, Team, Wave
from app.organisation import service as organisation
from app.organisation.schemas import ProfessionalCreate, ProfessionalUpdate
from app.webapp.forms import FieldErrors, field_errors
from app.webapp.language import say
from app.webapp.service import MAX_LISTED, list_teams

PROFESSIONAL_FIELDS = {"display_name", "role", "team_id", "partner_id", "code"}
MAX_IMPORT_BYTES = 512 * 1024
MAX_IMPORT_ROWS = 1000
# The columns of the import, and the headers (Dutch or English, any case) each may have.
IMPORT_COLUMNS = {
    "display_name": ("naam", "weergavenaam", "display_name", "display name", "name"),
    "role": ("rol", "functie", "role"),
    "team": ("team",),
    "partner": ("partner", "organisatie"),
    "code": ("code",),
}


def list_partners(session: Session, principal: Principal) -> list[Partner]:
    partners, _ = organisation.list_partners(session=session, principal=principal, limit=MAX_LISTED, offset=0)
    return sorted(partners, key=lambda partner: partner.name.casefold())


def professionals_of_team(session: Session, principal: Principal, team: Team) -> list[Professional]:
    professionals, _ = organisation.list_professionals(
        session=session, principal=principal, limit=MAX_LISTED, offset=0, team_id=team.id
    )
    return sorted(professionals, key=lambda p: (p.deactivated_at is not None, p.display_name.casefold()))


def team_sizes(session: Session, principal: Principal) -> dict[int, int]:
    """Active professionals per team id."""
    return organisation.team_sizes(session=session, principal=principal)


def open_waves(session: Session, principal: Principal) -> list[Wave]:
    """Waves whose links work now or later (for the QR sheet links), newest first."""
    waves, _ = organisation.list_waves(session=session, principal=principal, limit=MAX_LISTED, offset=0)
    return sorted(
        (wave for wave in waves if not organisation.wave_is_closed(wave)), key=lambda w: -(w.id or 0)
    )


def _optional_id(value: str) -> int | str | None:
    value = value.strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


def professional_in(
    values: dict[str, str], *, update: bool = False
) -> tuple[ProfessionalCreate | ProfessionalUpdate | None, FieldErrors]:
    """The posted professional form as the API's schema, or the message per field."""
    data: dict[str, Any] = {
        "display_name": values.get("display_name", ""),
        "role": values.get("role", ""),
        "team_id": _optional_id(values.get("team_id", "")),
        "partner_id": _optional_id(values.get("partner_id", "")),
    }
    code = values.get("code", "").strip()
    if code:
        data["code"] = code
    try:
        if update:
            return ProfessionalUpdate.model_validate(data), {}
        return ProfessionalCreate.model_validate(data), {}
    except ValidationError as exc:
        errors = field_errors(exc, PROFESSIONAL_FIELDS, fallback="display_name")
        if "team_id" in errors:
            errors["team_id"] = say("choose_team")
        return None, errors


def rule_errors(exc: AppError) -> FieldErrors:
    """A refusal of the organisation service, at the field it concerns."""
    text = exc.detail
    if exc.status == 409 and "code" in text:
        return {"code": say("code_in_use")}
    if exc.status == 404 and text.startswith("partner"):
        return {"partner_id": say("choose_partner_listed")}
    if exc.status == 404 and text.startswith("team"):
        return {"team_id": say("choose_team_listed")}
    return field_errors(exc, PROFESSIONAL_FIELDS, fallback="display_name")


# -- the CSV import -------------------------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    professional_in: ProfessionalCreate | None = None


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    problem: str | None = None
    """A problem with the file as a whole (no header, too big); then there are no rows."""

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.rows) and not any(row.errors for row in self.rows)

    @property
    def refused(self) -> int:
        return sum(1 for row in self.rows if row.errors)


def decode_upload(content: bytes) -> str | None:
    """The text of an uploaded CSV: UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return content.decode("cp1252")
        except UnicodeDecodeError:
            return None


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        cleaned = name.strip().casefold()
        for column, names in IMPORT_COLUMNS.items():
            if cleaned in names and column not in found:
                found[column] = position
    return found


def _by_name(rows: list[Any]) -> dict[str, Any]:
    return {row.name.strip().casefold(): row for row in rows}


def preview_import(session: Session, principal: Principal, text: str) -> ImportPreview:
    """Every row checked as the API would check it, plus team and partner by name and unique codes.

    Nothing is stored. Team and partner must exist (by name, any case); the code may be empty (one
    is made) but not used twice, in the file or already in the municipality.
    """
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        return ImportPreview([], say("file_too_big"))
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return ImportPreview([], say("import_empty"))
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        table = [row for row in reader]
    except csv.Error:
        return ImportPreview([], say("import_unreadable"))
    columns = _header_map(table[0])
    missing = [name for name in ("display_name", "role", "team") if name not in columns]
    if missing:
        labels = {"display_name": "naam", "role": "rol", "team": "team"}
        columns_text = ", ".join(f"‘{labels[name]}’" for name in missing)
        return ImportPreview([], say("import_missing_columns", columns=columns_text))
    body = [
        (number, row) for number, row in enumerate(table[1:], start=2) if any(cell.strip() for cell in row)
    ]
    if not body:
        return ImportPreview([], say("import_no_rows"))
    if len(body) > MAX_IMPORT_ROWS:
        return ImportPreview([], say("import_too_many", n=MAX_IMPORT_ROWS))
    teams = _by_name(list_teams(session, principal))
    partners = _by_name(list_partners(session, principal))
    seen_codes: dict[str, int] = {}
    rows = []
    for number, cells in body:
        values = {
            column: (cells[position].strip() if position < len(cells) else "")
            for column, position in columns.items()
        }
        row = ImportRow(number, values)
        team = teams.get(values.get("team", "").casefold())
        partner_name = values.get("partner", "")
        partner = partners.get(partner_name.casefold()) if partner_name else None
        if not values.get("team"):
            row.errors.append(say("row_team_missing"))
        elif team is None:
            row.errors.append(say("row_team_unknown", team=values["team"]))
        if partner_name and partner is None:
            row.errors.append(say("row_partner_unknown", partner=partner_name))
        data: dict[str, Any] = {
            "display_name": values.get("display_name", ""),
            "role": values.get("role", ""),
            "team_id": team.id if team is not None else 1,
            "partner_id": partner.id if partner is not None else None,
        }
        code = values.get("code", "")
        if code:
            data["code"] = code
        try:
            checked = ProfessionalCreate.model_validate(data)
        except ValidationError as exc:
            fields = {"display_name", "role", "code"}
            for name, message in field_errors(exc, fields, fallback="display_name").items():
                row.errors.append(say("row_field", label=say(f"row_label_{name}"), message=message))
            checked = None
        code_label = say("row_field", label=say("row_label_code"), message="")
        if code and not any(error.startswith(code_label) for error in row.errors):
            key = code.casefold()
            if key in seen_codes:
                row.errors.append(say("row_code_twice", code=code, line=seen_codes[key]))
            elif organisation.code_in_use(session=session, principal=principal, code=code):
                row.errors.append(say("row_code_taken", code=code))
            seen_codes.setdefault(key, number)
        if not row.errors:
            row.professional_in = checked
        rows.append(row)
    return ImportPreview(rows)


class ImportRefused(Exception):
    def __init__(self, preview: ImportPreview) -> None:
        super().__init__("import refused")
        self.preview = preview


def store_import(session: Session, principal: Principal, text: str) -> list[Professional]:
    """Store every row, or none: checked again first (the preview may be old), in one savepoint."""
    preview = preview_import(session, principal, text)
    if not preview.ok:
        raise ImportRefused(preview)
    stored = []
    with session.begin_nested():
        for row in preview.rows:
            assert row.professional_in is not None
            stored.append(
                organisation.create_professional(
                    session=session, principal=principal, professional_in=row.professional_in
                )
            )
    return stored


# -- the professional form's writes (in a savepoint: a refusal leaves nothing half-changed) -------------


def add_professional(
    session: Session, principal: Principal, values: dict[str, str]
) -> tuple[Professional | None, FieldErrors]:
    """Add the professional of the posted form, or say per field why not."""
    professional_in_, errors = professional_in(values)
    if not isinstance(professional_in_, ProfessionalCreate):
        return None, errors
    try:
        with session.begin_nested():
            professional = organisation.create_professional(
                session=session, principal=principal, professional_in=professional_in_
            )
    except AppError as exc:
        if exc.status == 404 and "team" in exc.detail and "partner" not in exc.detail:
            raise  # the team of the page itself: not found
        return None, rule_errors(exc)
    return professional, {}


def update_professional(
    session: Session, principal: Principal, professional_id: int, values: dict[str, str]
) -> FieldErrors:
    """Save the posted professional form (every field shown; an empty code keeps the code)."""
    checked, errors = professional_in(values)
    if checked is None:
        return errors
    changes = checked.model_dump(exclude_none=False)
    if not values.get("code", "").strip():
        changes.pop("code", None)
    try:
        with session.begin_nested():
            organisation.update_professional(
                session=session,
                principal=principal,
                professional_id=professional_id,
                professional_in=ProfessionalUpdate.model_validate(changes),
            )
    except AppError as exc:
        return rule_errors(exc)
    return {}
