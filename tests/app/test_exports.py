"""The response export (CSV, SPSS) and the codebook: content, labels, streaming and access."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import UTC, datetime
from itertools import count
from types import SimpleNamespace

import numpy as np
import pyreadstat
import pytest
from fastapi.responses import StreamingResponse
from sqlalchemy import insert
from sqlmodel import Session, select

from app.auth import Principal, Scope
from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.exports import api as exports_api
from app.exports import batches, csv_file, plan, service
from app.models import Response
from instrument import build_codebook, current_instrument
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

META = [
    "wave_id",
    "wave_name",
    "form",
    "instrument_version",
    "language",
    "submitted_at",
    "professional_code",
    "team_id",
    "team_name",
]
_keys = count()
OPENS = datetime(2025, 1, 1, tzinfo=UTC)  # the waves are open when the test stores (2025-03-04)


def store(session: Session, invitation, answers: dict[str, int | None], *, language: str = "nl") -> None:
    questionnaire = open_questionnaire(session, invitation.token)
    store_response(
        session,
        questionnaire,
        check_answers(questionnaire, answers),
        language=language,
        key=submission_key("test", f"export-{next(_keys)}"),
        now=datetime(2025, 3, 4, 14, 37, tzinfo=UTC),
    )


def cell_of(answer: int | None) -> str:
    """The CSV cell of a stored answer: the digit, or 98 for "weet ik niet" (the test data's None)."""
    return "98" if answer is None else str(answer)


def matching_row(
    rows: list[dict[str, str]], items: list[str], answers: dict[str, int | None]
) -> dict[str, str]:
    """The one exported row holding exactly these answers."""
    wanted = [cell_of(answers[item]) for item in items]
    found = [row for row in rows if [row[item] for item in items] == wanted]
    assert len(found) == 1, f"{len(found)} rows hold these answers"
    return found[0]


def expected_score(values: list[int | None]) -> float | None:
    """The instrument's rule written out: mean of the answered items, valid with >= k - 1 answered."""
    answered = [value for value in values if value is not None]
    if len(answered) < len(values) - 1:
        return None
    return sum(answered) / len(answered)


@pytest.fixture
def world(session: Session):
    """A municipality with two teams, two professionals, a wave and a few answered forms."""
    municipality = make_municipality(session)
    noord = make_team(session, municipality, 'Team Noord, Zuid & "Oost"')
    west = make_team(session, municipality, "Team Wést")
    sam = make_professional(session, noord, display_name="Sam Geheim", code="P-SAM")
    noor = make_professional(session, west, display_name="Noor Verborgen", code="P-NOOR")
    wave = make_wave(session, municipality, name="Voorjaar 2025", opens_at=OPENS)
    jongere_items = [item.id for item in current_instrument().form("jongere").items()]
    ouder_items = [item.id for item in current_instrument().form("ouder").items()]
    jongere = [
        (sam, {item: (position % 5) + 1 for position, item in enumerate(jongere_items)}),
        # one missing per subscale: still a valid score (k - 1 of k)
        (sam, {item: None if position % 4 == 0 else 4 for position, item in enumerate(jongere_items)}),
        # two missing in the first subscale: no score there
        (noor, {item: None if position in (0, 1) else 2 for position, item in enumerate(jongere_items)}),
    ]
    for professional, answers in jongere:
        store(session, make_invitation(session, wave, professional), answers)
    ouder_answers = {item: 3 for item in ouder_items}
    store(session, make_invitation(session, wave, noor, form="ouder"), ouder_answers, language="en")
    return {
        "municipality": municipality,
        "wave": wave,
        "teams": (noord, west),
        "professionals": (sam, noor),
        "jongere": jongere,
        "ouder": ouder_answers,
    }


def read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def scored_groups(form: str):
    return current_instrument().form(form).subscales()


def test_csv_holds_every_answer_and_score_of_the_form(session, client, world):
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    wave = world["wave"]
    reply = client.get(
        f"/api/v1/exports/responses?wave_id={wave.id}&format=csv&form=jongere", headers=headers
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    disposition = reply.headers["content-disposition"]
    assert disposition == f'attachment; filename="verbonden-wave{wave.id}-jongere-responses.csv"'
    assert not reply.content.startswith(b"\xef\xbb\xbf")
    items = [item.id for item in current_instrument().form("jongere").items()]
    groups = scored_groups("jongere")
    header = next(csv.reader(io.StringIO(reply.content.decode("utf-8"))))
    assert header == META + items + [f"score_{group.subscale}" for group in groups]

    rows = read_csv(reply.content)
    assert len(rows) == len(world["jongere"])
    noord, west = world["teams"]
    # Rows come in the order of their (hashed) submission keys, not the order they were stored in.
    ordered = [matching_row(rows, items, answers) for _, answers in world["jongere"]]
    assert sorted(map(id, ordered)) == sorted(map(id, rows))
    for row, (professional, answers) in zip(ordered, world["jongere"], strict=True):
        assert row["wave_id"] == str(wave.id)
        assert row["wave_name"] == "Voorjaar 2025"
        assert row["form"] == "jongere"
        assert row["instrument_version"] == current_instrument().version
        assert row["language"] == "nl"
        assert row["submitted_at"] == "2025-03-04T14:00:00Z"
        assert row["professional_code"] == professional.code
        team = noord if professional.team_id == noord.id else west
        assert (row["team_id"], row["team_name"]) == (str(team.id), team.name)
        for item in items:
            assert row[item] == cell_of(answers[item])
        for group in groups:
            expected = expected_score([answers[item] for item in group.item_ids])
            cell = row[f"score_{group.subscale}"]
            if expected is None:
                assert cell == ""
            else:
                assert float(cell) == pytest.approx(expected, abs=1e-12)
    assert ordered[2]["score_gezien_worden"] == ""  # two of four missing
    assert float(ordered[1]["score_gezien_worden"]) == 4.0  # one of four missing
    assert "Geheim" not in reply.text and "Verborgen" not in reply.text


def test_without_form_every_form_is_exported_with_the_union_of_items(session, client, world):
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    reply = client.get(f"/api/v1/exports/responses?wave_id={world['wave'].id}", headers=headers)
    assert reply.status_code == 200
    rows = read_csv(reply.content)
    instrument = current_instrument()
    jongere_items = [item.id for item in instrument.form("jongere").items()]
    ouder_items = [item.id for item in instrument.form("ouder").items()]
    professional_items = [item.id for item in instrument.form("professional").items()]
    assert list(rows[0]) == (
        META
        + jongere_items
        + ouder_items
        + professional_items
        + ["score_gezien_worden", "score_erbij_horen", "score_ertoe_doen"]
    )
    assert sorted(row["form"] for row in rows) == ["jongere", "jongere", "jongere", "ouder"]
    ouder = next(row for row in rows if row["form"] == "ouder")
    assert ouder["language"] == "en"
    assert all(ouder[item] == "3" for item in ouder_items)
    assert all(ouder[item] == "" for item in jongere_items + professional_items)
    jongere = next(row for row in rows if row["form"] == "jongere")
    assert all(jongere[item] == "" for item in ouder_items)
    assert float(ouder["score_ertoe_doen"]) == 3.0


def test_switched_on_modules_add_their_items_and_scores(session, client):
    municipality = make_municipality(session)
    professional = make_professional(session, make_team(session, municipality))
    wave = make_wave(session, municipality, modules=("bejegening",), opens_at=OPENS)
    form = current_instrument().form("jongere")
    items = [item.id for item in form.items(("bejegening",))]
    store(session, make_invitation(session, wave, professional), {item: 5 for item in items})
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    reply = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&form=jongere", headers=headers)
    (row,) = read_csv(reply.content)
    assert all(row[item] == "5" for item in items)
    for group in form.subscales(("bejegening",)):
        assert float(row[f"score_{group.subscale}"]) == 5.0


def test_csv_with_bom_for_excel(session, client, world):
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    reply = client.get(
        f"/api/v1/exports/responses?wave_id={world['wave'].id}&form=ouder&bom=true", headers=headers
    )
    assert reply.content.startswith(b"\xef\xbb\xbfwave_id,")


def test_an_empty_wave_exports_the_header_only(session, client):
    municipality = make_municipality(session)
    wave = make_wave(session, municipality, opens_at=OPENS)
    headers = make_key(session, municipality, Scope.responses_read)
    reply = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&form=jongere", headers=headers)
    assert reply.status_code == 200
    assert reply.text.splitlines()[0].startswith("wave_id,wave_name,form")
    assert len(reply.text.splitlines()) == 1
    sav = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&form=jongere&format=sav", headers=headers)
    assert sav.status_code == 200


def test_unknown_form_is_refused(session, client, world):
    headers = make_key(session, world["municipality"], Scope.responses_read)
    reply = client.get(f"/api/v1/exports/responses?wave_id={world['wave'].id}&form=buurman", headers=headers)
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/exports/codebook?form=buurman", headers=headers).status_code == 422


def test_reverse_keyed_items_are_mirrored_on_the_nominal_ends():
    # Version 1.0 has no reverse-keyed item, so the scoring of a batch is checked on a made-up plan.
    layout_plan = plan.LayoutPlan(
        version="1.0",
        width=3,
        columns=np.array([0, 1, 2]),
        scale_min=1,
        scale_max=5,
        scores=(plan.ScoreRule(column=0, items=np.array([0, 1, 2]), reverse=(1,), min_answered=2),),
    )
    export = plan.ResponseExport(
        wave=None,  # type: ignore[arg-type]
        form="jongere",
        municipality_id=None,
        item_columns=("a", "b", "c"),
        score_columns=("s",),
        layouts={7: layout_plan},
        entries={},
        score_labels={},
    )
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        (7, "jongere", "nl", "152", moment, "P1", None, None),
        (7, "jongere", "nl", "1.?", moment, "P1", None, None),
    ]
    batch = batches.build_batch(export, rows)
    assert batch.answers.tolist() == [[1, 5, 2], [1, 99, 98]]  # skipped 99, "weet ik niet" 98
    assert batch.scores[0, 0] == pytest.approx((1 + (1 + 5 - 5) + 2) / 3)
    assert math.isnan(batch.scores[1, 0])


# -- SPSS -------------------------------------------------------------------------------------------


def test_sav_has_dutch_labels_and_the_same_values(session, client, world, tmp_path):
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    wave = world["wave"]
    reply = client.get(
        f"/api/v1/exports/responses?wave_id={wave.id}&format=sav&form=jongere", headers=headers
    )
    assert reply.status_code == 200
    assert reply.headers["content-disposition"] == (
        f'attachment; filename="verbonden-wave{wave.id}-jongere-responses.sav"'
    )
    path = tmp_path / "export.sav"
    path.write_bytes(reply.content)
    frame, meta = pyreadstat.read_sav(str(path))

    codebook = {entry.variable: entry for entry in build_codebook(current_instrument(), "jongere")}
    items = [item.id for item in current_instrument().form("jongere").items()]  # no modules switched on
    groups = scored_groups("jongere")
    assert list(frame.columns) == META + items + [f"score_{group.subscale}" for group in groups]
    labels = meta.column_names_to_labels
    first = items[0]
    assert labels[first] == codebook[first].label["nl"]
    assert "de professional" in labels[first].lower()
    assert labels["professional_code"] == "Professional (pseudoniem)"
    assert labels["score_gezien_worden"].startswith("Score Gezien worden")
    assert meta.variable_value_labels[first] == {
        1.0: "Helemaal niet waar",
        2.0: "Niet waar",
        3.0: "Een beetje waar",
        4.0: "Waar",
        5.0: "Helemaal waar",
        98.0: "Weet ik niet",
        99.0: "Niet beantwoord",
    }
    # 98 and 99 are user-missing: SPSS (and read_sav by default) treat them as missing, and they
    # are there, told apart, for whoever asks for them.
    raw, raw_meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert raw_meta.missing_ranges[first] == [{"lo": 98.0, "hi": 98.0}, {"lo": 99.0, "hi": 99.0}]
    assert 98.0 in set(raw[first]) and 99.0 not in set(raw[first])
    assert meta.variable_measure[first] == "ordinal"

    assert len(frame) == len(world["jongere"])

    def answers_of(row) -> list[float | None]:
        return [None if math.isnan(row[item]) else row[item] for item in items]

    stored_rows = {tuple(answers_of(row)): row for _, row in frame.iterrows()}
    for professional, answers in world["jongere"]:
        row = stored_rows[tuple(answers[item] for item in items)]
        assert row["professional_code"] == professional.code
        assert row["form"] == "jongere"
        assert row["wave_id"] == wave.id
        assert row["submitted_at"] == datetime(2025, 3, 4, 14, 0)
        for item in items:
            if answers[item] is None:
                assert math.isnan(row[item])
            else:
                assert row[item] == answers[item]
        for group in groups:
            expected = expected_score([answers[item] for item in group.item_ids])
            value = row[f"score_{group.subscale}"]
            assert math.isnan(value) if expected is None else value == pytest.approx(expected, abs=1e-12)
    noord, _ = world["teams"]
    sam = world["professionals"][0]
    assert set(frame.loc[frame["professional_code"] == sam.code, "team_name"]) == {noord.name}


# -- codebook ---------------------------------------------------------------------------------------


def test_codebook_json(session, client):
    headers = make_key(session, make_municipality(session), Scope.responses_read)
    reply = client.get("/api/v1/exports/codebook", headers=headers)
    assert reply.status_code == 200
    document = reply.json()
    instrument = current_instrument()
    assert document["version"] == instrument.version
    variables = document["variables"]
    assert [entry["variable"] for entry in variables] == [
        entry.variable for entry in build_codebook(instrument)
    ]
    first = variables[0]
    assert first["form"] == "jongere" and first["subscale"] == "gezien_worden" and first["module"] is None
    assert first["position"] == 1 and first["reverse"] is False
    assert first["label"]["nl"].startswith("De professional")
    assert first["value_labels"]["nl"]["1"] == "Helemaal niet waar"
    assert first["value_labels"]["en"]["5"] == "Completely true"
    only = client.get("/api/v1/exports/codebook?form=ouder", headers=headers).json()["variables"]
    assert {entry["form"] for entry in only} == {"ouder"}
    assert any(entry["module"] == "bejegening" for entry in only)


def test_codebook_csv(session, client):
    headers = make_key(session, make_municipality(session), Scope.responses_read)
    reply = client.get("/api/v1/exports/codebook?format=csv&form=professional", headers=headers)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert reply.headers["content-disposition"].startswith('attachment; filename="verbonden-codebook-')
    rows = read_csv(reply.content)
    expected = build_codebook(current_instrument(), "professional")
    assert [row["variable"] for row in rows] == [entry.variable for entry in expected]
    assert set(rows[0]) >= {
        "variable", "form", "subscale", "module", "position", "reverse",
        "label_nl", "label_en", "values_nl", "values_en",
    }  # fmt: skip
    assert rows[0]["module"] == "" and rows[0]["reverse"] == "false"
    assert rows[0]["values_nl"].startswith("1 = Helemaal niet waar; 2 = Niet waar")
    assert rows[-1]["module"] == "samenwerking"
    assert rows[0]["label_nl"] == expected[0].label["nl"]


def test_codebook_of_an_unknown_version_is_404(session, client):
    headers = make_key(session, make_municipality(session), Scope.responses_read)
    assert client.get("/api/v1/exports/codebook?version=9.9", headers=headers).status_code == 404


# -- access -----------------------------------------------------------------------------------------

ROUTES = [
    "/api/v1/exports/responses?wave_id={wave}&format=csv",
    "/api/v1/exports/responses?wave_id={wave}&format=sav",
    "/api/v1/exports/responses?wave_id={wave}&format=csv&form=jongere",
    "/api/v1/exports/codebook?format=json",
    "/api/v1/exports/codebook?format=csv",
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_export_route_needs_a_key_with_responses_read(session, client, world, route):
    url = route.format(wave=world["wave"].id)
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer vb_unknown"}).status_code == 401
    for scope in (Scope.manage, Scope.reports_aggregate, Scope.reports_professional, Scope.responses_write):
        reply = client.get(url, headers=make_key(session, world["municipality"], scope))
        assert reply.status_code == 403, scope
        assert reply.headers["content-type"] == "application/problem+json"
    assert (
        client.get(url, headers=make_key(session, world["municipality"], Scope.responses_read)).status_code
        == 200
    )
    research = make_key(session, None, Scope.responses_read)
    assert client.get(url, headers=research).status_code == 200


@pytest.mark.parametrize("route", ROUTES[:3])
def test_another_municipalitys_wave_is_404(session, client, world, route):
    other = make_municipality(session)
    headers = make_key(session, other, Scope.responses_read)
    reply = client.get(route.format(wave=world["wave"].id), headers=headers)
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert client.get(route.format(wave=2_000_000_000), headers=headers).status_code == 404


def test_a_research_key_reads_every_row(session, client, world):
    reply = client.get(
        f"/api/v1/exports/responses?wave_id={world['wave'].id}",
        headers=make_key(session, None, Scope.responses_read),
    )
    assert len(read_csv(reply.content)) == 4


def test_every_download_passes_the_audit_hook(session, client, world, monkeypatch):
    calls = []
    monkeypatch.setattr(service, "record_export", lambda *args, **kwargs: calls.append(kwargs))
    headers = make_key(session, world["municipality"], Scope.responses_read)
    wave = world["wave"]
    client.get(f"/api/v1/exports/responses?wave_id={wave.id}&form=ouder&format=sav", headers=headers)
    assert calls == [
        {"kind": "responses", "wave_id": wave.id, "form": "ouder", "file_format": "sav"},
    ]


# -- streaming --------------------------------------------------------------------------------------


def add_responses(session: Session, template: Response, count_: int) -> list[str]:
    """Insert ``count_`` copies of ``template`` with varied answers in one statement; return the answers."""
    width = len(template.answers)
    rng = np.random.default_rng(5)
    digits = rng.integers(-1, 6, size=(count_, width))  # 0 stands for skipped, -1 for "weet ik niet"
    answers = ["".join({0: ".", -1: "?"}.get(digit, str(digit)) for digit in row) for row in digits.tolist()]
    session.execute(
        insert(Response),
        [
            {
                "municipality_id": template.municipality_id,
                "wave_id": template.wave_id,
                "professional_id": template.professional_id,
                "team_id": template.team_id,
                "form": template.form,
                "layout_id": template.layout_id,
                "language": "nl",
                "answers": text,
                "submitted_at": template.submitted_at,
                "submission_key": f"bulk-{number}",
            }
            for number, text in enumerate(answers)
        ],
    )
    return answers


def test_csv_streams_thousands_of_rows_in_batches(session, client, world, monkeypatch):
    wave = world["wave"]
    template = session.exec(
        select(Response).where(Response.wave_id == wave.id, Response.form == "jongere").order_by(Response.id)
    ).first()
    added = add_responses(session, template, 3000)
    monkeypatch.setattr(batches, "BATCH_SIZE", 700)

    principal = Principal(api_key_id=0, municipality_id=None, scopes=frozenset({"reports:professional"}))
    request = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(min_group_size=5)))
    )
    routed = exports_api.export_responses(
        request=request,  # type: ignore[arg-type]
        session=session,
        stream_session=session,
        principal=principal,
        wave_id=wave.id,
        format=exports_api.ResponsesFormat.csv,
        form="jongere",
        bom=False,
    )
    assert isinstance(routed, StreamingResponse)
    export = plan.plan_response_export(session, principal, wave_id=wave.id, form="jongere")
    chunks = list(csv_file.iter_csv(session, export))
    assert len(chunks) == 1 + math.ceil(3003 / 700)  # the header, then one chunk per batch

    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    reply = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&form=jongere", headers=headers)
    assert reply.content == b"".join(chunks)
    rows = read_csv(reply.content)
    assert len(rows) == 3003
    items = [item.id for item in current_instrument().form("jongere").items()]
    exported = ["".join({"99": ".", "98": "?"}.get(row[item], row[item]) for item in items) for row in rows]
    assert not Counter(added) - Counter(exported)  # every added response is there, once per copy
    group = scored_groups("jongere")[0]
    for row, answers in zip(rows, exported, strict=True):
        values = [
            None if answers[items.index(item)] in ".?" else int(answers[items.index(item)])
            for item in group.item_ids
        ]
        expected = expected_score(values)
        cell = row["score_gezien_worden"]
        assert (cell == "") if expected is None else float(cell) == pytest.approx(expected, abs=1e-12)


def test_a_self_report_is_exported_without_a_professional(session, client, world):
    professional_items = [item.id for item in current_instrument().form("professional").items()]
    sam = world["professionals"][0]
    store(
        session,
        make_invitation(session, world["wave"], sam, form="professional", kind="personal"),
        dict.fromkeys(professional_items, 4),
    )
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)  # every row, its hour
    reply = client.get(
        f"/api/v1/exports/responses?wave_id={world['wave'].id}&form=professional", headers=headers
    )
    rows = read_csv(reply.content)
    assert len(rows) == 1
    assert rows[0]["professional_code"] == ""  # the giver of a self-report is not named
    assert rows[0]["team_name"] == world["teams"][0].name


def test_a_municipality_key_exports_published_responses_without_their_time(session, client):
    from tests.app.test_reports import item_ids, seed

    seeded = seed(session, {"Noord": {"a": 6, "b": 2}}, missing=0.0)
    headers = make_key(session, seeded.municipality, Scope.responses_read, Scope.reports_professional)
    reply = client.get(f"/api/v1/exports/responses?wave_id={seeded.wave.id}&form=jongere", headers=headers)
    rows = read_csv(reply.content)
    # a's six answers are published (the export makes the cut that is due); b's two wait.
    assert [row["professional_code"] for row in rows] == ["C-a"] * 6
    # Without reports:professional the rows name no professional (their numbers could be computed).
    plain = make_key(session, seeded.municipality, Scope.responses_read)
    reply = client.get(f"/api/v1/exports/responses?wave_id={seeded.wave.id}&form=jongere", headers=plain)
    assert {row["professional_code"] for row in read_csv(reply.content)} == {""}
    assert {row["submitted_at"] for row in rows} == {""}
    assert set(item_ids()) <= set(rows[0])
    research = client.get(
        f"/api/v1/exports/responses?wave_id={seeded.wave.id}&form=jongere",
        headers=make_key(session, None, Scope.responses_read),
    )
    every = read_csv(research.content)
    assert len(every) == 8 and all(row["submitted_at"] for row in every)
