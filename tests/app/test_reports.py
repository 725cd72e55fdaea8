"""The JSON reports: numbers equal psychometrics/ on the same responses; disclosure, scopes, tenancy."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlmodel import Session, select

import psychometrics
from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.instrument_versions.service import published_instrument
from app.models import Municipality, Professional, Response, Team, Wave
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

RELIABILITY = "/api/v1/reports/reliability"
SCORES = "/api/v1/reports/scores"
_keys = itertools.count()


@dataclass
class Seeded:
    municipality: Municipality
    wave: Wave
    teams: dict[str, Team]
    professionals: dict[str, Professional]
    rows: list[dict[str, int | None]] = field(default_factory=list)
    about: list[str] = field(default_factory=list)
    """The professional (by name) each stored row is about."""
    published: list[bool] | None = None
    """Whether each stored row is in the wave's publication cut (set by :func:`read_cut`)."""

    @property
    def published_rows(self) -> list[dict[str, int | None]]:
        assert self.published is not None, "read a report and call read_cut first"
        return [row for row, shown in zip(self.rows, self.published, strict=True) if shown]

    @property
    def published_about(self) -> list[str]:
        assert self.published is not None, "read a report and call read_cut first"
        return [name for name, shown in zip(self.about, self.published, strict=True) if shown]


def read_cut(session: Session, seeded: Seeded) -> Seeded:
    """Which stored rows the outputs publish, in the order they were stored."""
    statement = select(Response.cut_id).where(Response.wave_id == seeded.wave.id).order_by(Response.id)
    seeded.published = [cut_id is not None for cut_id in session.exec(statement).all()]
    return seeded


def store(session: Session, wave: Wave, professional: Professional, answers: dict[str, int | None]) -> None:
    questionnaire = open_questionnaire(session, make_invitation(session, wave, professional).token)
    store_response(
        session,
        questionnaire,
        check_answers(questionnaire, answers),
        language="nl",
        key=submission_key("report-test", str(next(_keys))),
    )


def item_ids(modules: tuple[str, ...] = ()) -> list[str]:
    return [item.id for item in published_instrument().form("jongere").items(modules)]


def random_answers(
    rng: np.random.Generator, level: float, items: list[str], missing: float = 0.05
) -> dict[str, int | None]:
    """Answers around ``level`` that hang together (a person effect), with some "weet ik niet"."""
    person = rng.normal(0, 0.8)
    answers: dict[str, int | None] = {}
    for item in items:
        value = int(np.clip(np.rint(level + person + rng.normal(0, 0.7)), 1, 5))
        answers[item] = None if rng.random() < missing else value
    return answers


def seed(
    session: Session,
    sizes: dict[str, dict[str, int]],
    *,
    modules: tuple[str, ...] = (),
    seed_value: int = 7,
    municipality: Municipality | None = None,
    missing: float = 0.05,
) -> Seeded:
    """A wave with ``{team: {professional: number of responses}}`` on the jongere form.

    ``missing``: the share of "weet ik niet". Without it every leaf of five or more publishes as
    a whole (a few skipped questions can make a leaf wait for one or two answers more).
    """
    municipality = municipality or make_municipality(session)
    wave = make_wave(session, municipality, modules=modules)
    rng = np.random.default_rng(seed_value)
    items = item_ids(modules)
    seeded = Seeded(municipality, wave, {}, {})
    for team_name, members in sizes.items():
        team = seeded.teams[team_name] = make_team(session, municipality, name=team_name)
        for name, count in members.items():
            professional = make_professional(session, team, display_name=f"Naam {name}", code=f"C-{name}")
            seeded.professionals[name] = professional
            level = 2.5 + rng.random() * 2
            for _ in range(count):
                answers = random_answers(rng, level, items, missing)
                store(session, wave, professional, answers)
                seeded.rows.append(answers)
                seeded.about.append(name)
    return seeded


def frame(seeded: Seeded, items: tuple[str, ...]) -> pd.DataFrame:
    """The published rows' answers to ``items``: what every output is computed from."""
    return pd.DataFrame(
        [[row.get(item) for item in items] for row in seeded.published_rows], columns=list(items), dtype=float
    )


@pytest.fixture
def seeded(session: Session) -> Seeded:
    # Team Noord: b has 3 respondents and is never published; c (6) and the rest publish in batches.
    return seed(session, {"Noord": {"a": 9, "b": 3, "c": 7}, "Zuid": {"d": 8, "e": 7}})


def report_key(session: Session, seeded: Seeded, *scopes: str) -> dict[str, str]:
    return make_key(session, seeded.municipality, *(scopes or ("reports:aggregate", "reports:professional")))


def by_code(body: dict, code: str) -> dict:
    return next(group for group in body["groups"] if group["code"] == code)


def test_reliability_equals_psychometrics_on_the_same_responses(client, session, seeded):
    headers = report_key(session, seeded)
    response = client.get(RELIABILITY, params={"wave_id": seeded.wave.id, "form": "jongere"}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    read_cut(session, seeded)
    published = seeded.published_about
    # b (3 respondents) never fills a batch; every other professional publishes at least one.
    assert "b" not in published and {"a", "c", "d", "e"} <= set(published)
    assert body["n_responses"] == len(published)
    form = published_instrument().form("jongere")
    assert [entry["subscale"] for entry in body["subscales"]] == [
        "gezien_worden",
        "erbij_horen",
        "ertoe_doen",
    ]
    for entry, group in zip(body["subscales"], form.subscales(), strict=True):
        items = frame(seeded, group.item_ids)
        expected = psychometrics.cronbach_alpha(items)
        assert {"subscale", "n", "alpha", "alpha_ci", "omega_total"} <= entry.keys()
        assert entry["k"] == 4
        assert entry["n"] == expected.n
        assert entry["alpha"] == pytest.approx(expected.alpha, abs=1e-12)
        assert entry["alpha_std"] == pytest.approx(expected.alpha_std, abs=1e-12)
        assert entry["alpha_ci"] == pytest.approx([expected.ci_low, expected.ci_high], abs=1e-12)
        assert entry["omega_total"] == pytest.approx(psychometrics.omega_total(items), abs=1e-9)
        table = psychometrics.item_analysis(items, scale_min=1, scale_max=5)
        assert entry["item_statistics_suppressed"] is False
        for row in entry["item_analysis"]:
            for column in ("mean", "sd", "missing", "floor", "ceiling", "r_drop", "alpha_if_deleted"):
                assert row[column] == pytest.approx(table.loc[row["item"], column], abs=1e-12), column
            answered = items[row["item"]].dropna()
            assert row["n"] == len(answered)
            assert sum(row["distribution"]) == pytest.approx(1.0)
        correlations = psychometrics.inter_item_correlations(items)
        first, second = group.item_ids[:2]
        assert entry["inter_item_correlations"][first][second] == pytest.approx(
            correlations.loc[first, second]
        )
    scores = pd.DataFrame(
        {
            group.subscale: psychometrics.score_scale(frame(seeded, group.item_ids), min_answered=3)
            for group in form.subscales()
        }
    )
    correlation = body["subscale_correlations"]
    assert correlation["subscales"] == list(scores.columns)
    assert correlation["matrix"][0][1] == pytest.approx(scores.corr().iloc[0, 1], abs=1e-12)


def test_professional_scores_equal_psychometrics_and_hide_small_groups(client, session, seeded):
    headers = report_key(session, seeded)
    params = {"wave_id": seeded.wave.id, "form": "jongere", "level": "professional"}
    response = client.get(SCORES, params=params, headers=headers)
    assert response.status_code == 200
    body = response.json()
    read_cut(session, seeded)
    group = published_instrument().form("jongere").subscales()[0]
    scores = psychometrics.score_scale(frame(seeded, group.item_ids), min_answered=group.min_answered)
    labels = pd.Series(seeded.published_about)
    subscale = body["subscales"][0]
    assert subscale["subscale"] == group.subscale
    assert subscale["icc1"] == pytest.approx(psychometrics.icc1(scores, labels), abs=1e-12)
    assert subscale["icc2"] == pytest.approx(psychometrics.icc2(scores, labels), abs=1e-12)
    assert subscale["respondents_needed"] == psychometrics.respondents_needed(subscale["icc1"])
    reliability = psychometrics.group_reliability(scores, labels)
    agreement = psychometrics.rwg_j(frame(seeded, group.item_ids), labels)

    shown = by_code(body, "C-a")
    assert "display_name" not in shown and "Naam a" not in response.text
    cell = shown["scores"][group.subscale]
    mine = scores[labels == "a"].dropna()
    assert cell["suppressed"] is False
    assert cell["n"] == len(mine)
    assert cell["mean"] == pytest.approx(mine.mean(), abs=1e-12)
    assert cell["sd"] == pytest.approx(mine.std(ddof=1), abs=1e-12)
    half = stats.t.ppf(0.975, len(mine) - 1) * mine.std(ddof=1) / np.sqrt(len(mine))
    assert len(mine) >= 5
    assert cell["ci"] == pytest.approx([mine.mean() - half, mine.mean() + half], abs=1e-9)
    assert cell["group_reliability"] == pytest.approx(reliability["a"], abs=1e-12)
    assert cell["rwg_j"] == pytest.approx(agreement["a"], abs=1e-12)
    assert shown["team_name"] == "Noord"

    # b (3 respondents) is never published: no row at all, and in no total.
    assert not [row for row in body["groups"] if row["code"] == "C-b"]
    for code in ("C-c", "C-d", "C-e"):  # c needs no secondary suppression: b is in no total
        assert by_code(body, code)["scores"][group.subscale]["suppressed"] is False


def test_team_scores_with_nested_team_reliability(client, session, seeded):
    headers = report_key(session, seeded, "reports:aggregate")
    params = {"wave_id": seeded.wave.id, "form": "jongere", "level": "team"}
    response = client.get(SCORES, params=params, headers=headers)
    assert response.status_code == 200
    body = response.json()
    read_cut(session, seeded)
    group = published_instrument().form("jongere").subscales()[0]
    scores = psychometrics.score_scale(frame(seeded, group.item_ids))
    team_of = {"a": "Noord", "b": "Noord", "c": "Noord", "d": "Zuid", "e": "Zuid"}
    teams = pd.Series([team_of[name] for name in seeded.published_about])
    subscale = body["subscales"][0]
    assert subscale["icc1"] == pytest.approx(psychometrics.icc1(scores, teams), abs=1e-12)
    fit = psychometrics.team_reliability(scores, pd.Series(seeded.published_about), teams)
    assert subscale["variance_components"]["var_team"] == pytest.approx(fit.var_team, abs=1e-9)
    noord = next(row for row in body["groups"] if row["team_name"] == "Noord")
    assert noord["code"] is None
    cell = noord["scores"][group.subscale]
    assert cell["mean"] == pytest.approx(scores[teams == "Noord"].mean(), abs=1e-12)
    assert cell["team_reliability"] == pytest.approx(fit.teams.loc["Noord", "reliability"], abs=1e-9)


def test_a_small_team_is_in_no_number_so_the_others_need_no_secondary_suppression(client, session):
    seeded = seed(session, {"Klein": {"a": 4}, "Middel": {"b": 6}, "Groot": {"c": 9}})
    headers = report_key(session, seeded)
    params = {"wave_id": seeded.wave.id, "form": "jongere", "level": "team"}
    body = client.get(SCORES, params=params, headers=headers).json()
    hidden = {row["team_name"]: row["scores"]["gezien_worden"]["suppressed"] for row in body["groups"]}
    assert hidden == {"Middel": False, "Groot": False}  # Klein has nothing published: no row at all
    reliability = client.get(RELIABILITY, params=params, headers=headers).json()
    assert reliability["n_responses"] == sum(read_cut(session, seeded).published)
    assert "a" not in seeded.published_about


def test_switched_on_modules_are_reported(client, session):
    seeded = seed(session, {"Noord": {"a": 6, "b": 6}}, modules=("bejegening",))
    headers = report_key(session, seeded)
    body = client.get(
        RELIABILITY, params={"wave_id": seeded.wave.id, "form": "jongere"}, headers=headers
    ).json()
    assert [entry["module"] for entry in body["subscales"]][3:] == ["bejegening"] * 3
    assert body["modules"] == ["bejegening"]
    assert len(body["subscale_correlations"]["subscales"]) == 6


@pytest.mark.parametrize("count", [0, 1, 3])
def test_tiny_waves_answer_with_nulls_and_warnings(client, session, count):
    seeded = seed(session, {"Noord": {"a": count}} if count else {})
    headers = report_key(session, seeded)
    params = {"wave_id": seeded.wave.id, "form": "jongere"}
    response = client.get(RELIABILITY, params=params, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["warnings"]
    for entry in body["subscales"]:
        assert entry["item_statistics_suppressed"] is True
        assert all(row["mean"] is None and row["suppressed"] for row in entry["item_analysis"])
        assert entry["inter_item_correlations"] is None
        if count < 3:
            assert entry["alpha"] is None and entry["omega_total"] is None
            assert entry["warnings"]
    for level in ("professional", "team"):
        response = client.get(SCORES, params={**params, "level": level}, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert all(entry["icc1"] is None for entry in body["subscales"])
        for row in body["groups"]:
            assert all(cell["suppressed"] and cell["mean"] is None for cell in row["scores"].values())


def test_everyone_giving_the_same_answers_gives_nulls_not_an_error(client, session):
    municipality = make_municipality(session)
    wave = make_wave(session, municipality)
    team = make_team(session, municipality)
    professionals = [make_professional(session, team) for _ in range(2)]
    for professional in professionals:
        for _ in range(6):
            store(session, wave, professional, dict.fromkeys(item_ids(), 4))
    headers = make_key(session, municipality, "reports:aggregate", "reports:professional")
    params = {"wave_id": wave.id, "form": "jongere"}
    response = client.get(RELIABILITY, params=params, headers=headers)
    assert response.status_code == 200
    entry = response.json()["subscales"][0]
    assert entry["alpha"] is None and entry["omega_total"] is None
    assert any("no variance" in warning for warning in entry["warnings"])
    for level in ("professional", "team"):
        response = client.get(SCORES, params={**params, "level": level}, headers=headers)
        assert response.status_code == 200
        assert response.json()["subscales"][0]["icc1"] is None


def test_unknown_form_is_422(client, session, seeded):
    headers = report_key(session, seeded)
    for route in (RELIABILITY, SCORES, f"/reports/{seeded.wave.id}"):
        response = client.get(route, params={"wave_id": seeded.wave.id, "form": "oma"}, headers=headers)
        assert response.status_code == 422
        assert "oma" in response.json()["detail"]
    response = client.get(
        SCORES, params={"wave_id": seeded.wave.id, "form": "jongere", "level": "x"}, headers=headers
    )
    assert response.status_code == 422


def report_routes(seeded: Seeded) -> list[tuple[str, dict[str, object], str]]:
    """(path, query, scope it needs) of every report route."""
    wave_id = seeded.wave.id
    return [
        (RELIABILITY, {"wave_id": wave_id, "form": "jongere"}, "reports:aggregate"),
        (SCORES, {"wave_id": wave_id, "form": "jongere", "level": "team"}, "reports:aggregate"),
        (SCORES, {"wave_id": wave_id, "form": "jongere", "level": "professional"}, "reports:professional"),
        (f"/reports/{wave_id}", {"form": "jongere"}, "reports:aggregate"),
    ]


def test_every_report_route_needs_a_key_with_its_scope(client, session, seeded):
    manage = report_key(session, seeded, "manage")
    for path, params, scope in report_routes(seeded):
        assert client.get(path, params=params).status_code == 401, path
        assert client.get(path, params=params, headers=manage).status_code == 403, path
        other_scope = "reports:aggregate" if scope == "reports:professional" else "reports:professional"
        wrong = report_key(session, seeded, other_scope)
        assert client.get(path, params=params, headers=wrong).status_code == 403, path
        right = report_key(session, seeded, scope)
        assert client.get(path, params=params, headers=right).status_code == 200, path


def test_another_municipality_gets_404_and_a_research_key_reads_all(client, session, seeded):
    outsider = make_key(session, make_municipality(session), "reports:aggregate", "reports:professional")
    research = make_key(session, None, "reports:aggregate", "reports:professional")
    for path, params, _ in report_routes(seeded):
        response = client.get(path, params=params, headers=outsider)
        assert response.status_code == 404, path
        missing = (path.replace(str(seeded.wave.id), "999999"), {**params, "wave_id": 999_999})
        assert client.get(missing[0], params=missing[1], headers=research).status_code == 404
        assert client.get(path, params=params, headers=research).status_code == 200, path
    body = client.get(RELIABILITY, params=report_routes(seeded)[0][1], headers=research).json()
    assert body["n_responses"] == sum(read_cut(session, seeded).published)


def test_a_wave_reads_only_its_own_responses(client, session, seeded):
    other = seed(session, {"Ander": {"x": 12}}, municipality=seeded.municipality)
    headers = report_key(session, seeded)
    client.get(RELIABILITY, params={"wave_id": other.wave.id, "form": "jongere"}, headers=headers)
    body = client.get(
        RELIABILITY, params={"wave_id": seeded.wave.id, "form": "jongere"}, headers=headers
    ).json()
    assert body["n_responses"] == sum(read_cut(session, seeded).published)


def test_item_rows_show_the_dont_know_share_apart_from_skipped(client, session):
    seeded = seed(session, {"Noord": {"a": 0}}, missing=0.0)
    professional = seeded.professionals["a"]
    items = item_ids()
    for number in range(10):
        answers: dict[str, int | None] = dict.fromkeys(items, 4)
        if number < 2:
            answers[items[0]] = None  # "weet ik niet"
        store(session, seeded.wave, professional, answers)
    headers = report_key(session, seeded)
    body = client.get(
        RELIABILITY, params={"wave_id": seeded.wave.id, "form": "jongere"}, headers=headers
    ).json()
    rows = {row["item"]: row for entry in body["subscales"] for row in entry["item_analysis"]}
    assert rows[items[0]]["dont_know"] == pytest.approx(0.2) and rows[items[0]]["missing"] == pytest.approx(
        0.2
    )
    assert rows[items[1]]["dont_know"] == 0.0
