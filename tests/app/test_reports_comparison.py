"""Change between waves and youth-parent comparisons: equal to numpy/scipy on what the API published.

Every response is posted through ``POST /api/v1/responses``; the expected numbers are computed here,
independently of the service, from the rows that are published (each leaf here has no skipped
answers, so a professional with five or more responses publishes them all, one with fewer none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy import special, stats
from sqlmodel import Session, select

from app.config import Settings
from app.instrument_versions.service import published_instrument
from app.models import AuditEvent, Municipality, Professional, Wave
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import (
    make_key,
    make_municipality,
    make_partner,
    make_professional,
    make_team,
)

CHANGE = "/api/v1/reports/change"
INFORMANTS = "/api/v1/reports/informants"
INSTRUMENT = published_instrument()
SUBSCALES = [group.subscale for group in INSTRUMENT.form("jongere").subscales()]


@pytest.fixture
def settings(database) -> Settings:
    return database.settings(submit_rate_limit=0)  # every response is posted from one test address


@dataclass
class Posted:
    """What the test posted: per (wave, form, professional) the answer rows."""

    rows: dict[tuple[int, str, str], list[list[int]]] = field(default_factory=dict)

    def scores(self, wave: Wave, form: str, names: list[str], subscale: str) -> np.ndarray:
        """Person scores (mean of the subscale's items) of the published rows of ``names``."""
        definition = INSTRUMENT.form(form)
        items = [item.id for item in definition.items(())]
        group = next(g for g in definition.subscales() if g.subscale == subscale)
        positions = [items.index(item) for item in group.item_ids]
        collected = [
            np.asarray(rows, dtype=float)[:, positions].mean(axis=1)
            for (wave_id, form_id, name), rows in self.rows.items()
            if wave_id == wave.id and form_id == form and name in names and len(rows) >= 5
        ]
        return np.concatenate(collected) if collected else np.empty(0)

    def items(self, wave: Wave, form: str, names: list[str], subscale: str) -> np.ndarray:
        definition = INSTRUMENT.form(form)
        items = [item.id for item in definition.items(())]
        group = next(g for g in definition.subscales() if g.subscale == subscale)
        positions = [items.index(item) for item in group.item_ids]
        return np.concatenate(
            [
                np.asarray(rows, dtype=float)[:, positions]
                for (wave_id, form_id, name), rows in self.rows.items()
                if wave_id == wave.id and form_id == form and name in names and len(rows) >= 5
            ]
        )


@dataclass
class World:
    municipality: Municipality
    professionals: dict[str, Professional]
    waves: dict[str, Wave]
    posted: Posted
    headers: dict[str, str]


def post_responses(
    client, session: Session, world: World, wave: Wave, form: str, sizes: dict[str, tuple[int, float]]
) -> None:
    """``{professional: (count, level)}`` responses to ``form`` in ``wave``, through the API."""
    write = make_key(session, world.municipality, "responses:write")
    items = [item.id for item in INSTRUMENT.form(form).items(())]
    rng = np.random.default_rng(len(world.posted.rows) + 19)
    for name, (count, level) in sizes.items():
        token = make_invitation(session, wave, world.professionals[name], form=form).token
        for _ in range(count):
            person = rng.normal(0, 0.7)
            values = [int(np.clip(np.rint(level + person + rng.normal(0, 0.6)), 1, 5)) for _ in items]
            response = client.post(
                "/api/v1/responses",
                json={"token": token, "answers": dict(zip(items, values, strict=True)), "language": "nl"},
                headers=write,
            )
            assert response.status_code == 201, response.text
            world.posted.rows.setdefault((wave.id, form, name), []).append(values)


def make_world(session: Session, teams: dict[str, list[str]], waves: list[str]) -> World:
    municipality = make_municipality(session)
    professionals = {}
    for team_name, names in teams.items():
        team = make_team(session, municipality, name=team_name)
        for name in names:
            professionals[name] = make_professional(
                session, team, display_name=f"Naam {name}", code=f"C-{name}"
            )
    made = {name: make_wave(session, municipality, name=name) for name in waves}
    headers = make_key(session, municipality, "reports:aggregate", "reports:professional")
    return World(municipality, professionals, made, Posted(), headers)


def welch(current: np.ndarray, baseline: np.ndarray) -> tuple[float, list[float]]:
    found = stats.ttest_ind(current, baseline, equal_var=False)
    interval = found.confidence_interval(0.95)
    return float(current.mean() - baseline.mean()), [interval.low, interval.high]


def hedges(current: np.ndarray, baseline: np.ndarray) -> tuple[float, list[float]]:
    n1, n2 = current.size, baseline.size
    pooled = np.sqrt(((n1 - 1) * current.var(ddof=1) + (n2 - 1) * baseline.var(ddof=1)) / (n1 + n2 - 2))
    m = n1 + n2 - 2
    j = special.gamma(m / 2) / (np.sqrt(m / 2) * special.gamma((m - 1) / 2))
    g = j * (current.mean() - baseline.mean()) / pooled
    se = np.sqrt(1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)))
    return g, [g - stats.norm.ppf(0.975) * se, g + stats.norm.ppf(0.975) * se]


def alpha(items: np.ndarray) -> float:
    k = items.shape[1]
    return k / (k - 1) * (1 - items.var(axis=0, ddof=1).sum() / items.sum(axis=1).var(ddof=1))


@pytest.fixture
def change_world(client, session) -> World:
    world = make_world(session, {"Noord": ["a", "b"], "Zuid": ["c"]}, ["Voorjaar", "Najaar"])
    baseline, current = world.waves["Voorjaar"], world.waves["Najaar"]
    # a is published in both waves; b only at baseline (3 in the current wave); c only now.
    post_responses(client, session, world, baseline, "jongere", {"a": (8, 3.0), "b": (6, 2.5), "c": (3, 3.5)})
    post_responses(client, session, world, current, "jongere", {"a": (7, 4.0), "b": (3, 1.5), "c": (6, 4.2)})
    return world


def read_change(client, world: World, level: str, **extra) -> dict:
    params = {
        "wave_id": world.waves["Najaar"].id,
        "baseline_wave_id": world.waves["Voorjaar"].id,
        "form": "jongere",
        "level": level,
        **extra,
    }
    response = client.get(CHANGE, params=params, headers=world.headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_change(cell: dict, current: np.ndarray, baseline: np.ndarray, detectable: float) -> None:
    difference, interval = welch(current, baseline)
    g, g_interval = hedges(current, baseline)
    assert cell["current"]["n"] == current.size and cell["baseline"]["n"] == baseline.size
    assert cell["current"]["mean"] == pytest.approx(current.mean(), abs=1e-12)
    assert cell["baseline"]["sd"] == pytest.approx(baseline.std(ddof=1), abs=1e-12)
    assert cell["difference"] == pytest.approx(difference, abs=1e-12)
    assert cell["ci"] == pytest.approx(interval, abs=1e-9)
    assert cell["hedges_g"] == pytest.approx(g, abs=1e-9)
    assert cell["hedges_g_ci"] == pytest.approx(g_interval, abs=1e-9)
    assert cell["ci_excludes_zero"] == (interval[0] > 0 or interval[1] < 0)
    assert cell["exceeds_detectable_change"] == (abs(difference) > detectable)


def test_change_per_professional_equals_scipy_and_compares_only_groups_published_in_both_waves(
    client, session, change_world
):
    world = change_world
    body = read_change(client, world, "professional")
    baseline, current = world.waves["Voorjaar"], world.waves["Najaar"]
    assert [group["code"] for group in body["groups"]] == ["C-a"]  # b: baseline only; c: current only
    for subscale in SUBSCALES:
        published_baseline = ["a", "b"]
        sd = world.posted.scores(baseline, "jongere", published_baseline, subscale).std(ddof=1)
        reliability = alpha(world.posted.items(baseline, "jongere", published_baseline, subscale))
        detectable = stats.norm.ppf(0.975) * math.sqrt(2) * sd * math.sqrt(1 - reliability)
        summary = next(s for s in body["subscales"] if s["subscale"] == subscale)
        assert summary["baseline_alpha"] == pytest.approx(reliability, abs=1e-12)
        assert summary["baseline_sd"] == pytest.approx(sd, abs=1e-12)
        assert summary["detectable_change"] == pytest.approx(detectable, abs=1e-12)
        assert summary["n_groups_compared"] == 1
        assert_change(
            body["groups"][0]["scores"][subscale],
            world.posted.scores(current, "jongere", ["a"], subscale),
            world.posted.scores(baseline, "jongere", ["a"], subscale),
            detectable,
        )
    audited = session.exec(select(AuditEvent).where(AuditEvent.action == "scores.professional.read")).all()
    assert {event.wave_id for event in audited} == {baseline.id, current.id}


def test_change_per_team_and_wave_uses_published_leaves_only(client, session, change_world):
    world = change_world
    baseline, current = world.waves["Voorjaar"], world.waves["Najaar"]
    teams = read_change(client, world, "team")
    # Zuid publishes nothing at baseline (c had 3): not compared. Noord: a + b then, a alone now
    # (b's 3 current answers are in no number).
    assert [group["team_name"] for group in teams["groups"]] == ["Noord"]
    wave = read_change(client, world, "wave")
    assert len(wave["groups"]) == 1 and wave["groups"][0]["team_name"] is None
    for subscale in SUBSCALES:
        summary = next(s for s in teams["subscales"] if s["subscale"] == subscale)
        detectable = summary["detectable_change"]
        assert_change(
            teams["groups"][0]["scores"][subscale],
            world.posted.scores(current, "jongere", ["a"], subscale),
            world.posted.scores(baseline, "jongere", ["a", "b"], subscale),
            detectable,
        )
        assert_change(
            wave["groups"][0]["scores"][subscale],
            world.posted.scores(current, "jongere", ["a", "c"], subscale),
            world.posted.scores(baseline, "jongere", ["a", "b"], subscale),
            detectable,
        )


def test_change_needs_two_of_the_callers_waves_and_the_right_scope(client, session, change_world):
    world = change_world
    params = {"wave_id": world.waves["Najaar"].id, "form": "jongere"}
    other = make_wave(session, make_municipality(session))
    assert (
        client.get(CHANGE, params={**params, "baseline_wave_id": other.id}, headers=world.headers).status_code
        == 404
    )
    same = client.get(CHANGE, params={**params, "baseline_wave_id": params["wave_id"]}, headers=world.headers)
    assert same.status_code == 422 and same.headers["content-type"].startswith("application/problem+json")
    aggregate_only = make_key(session, world.municipality, "reports:aggregate")
    baseline = {**params, "baseline_wave_id": world.waves["Voorjaar"].id}
    assert client.get(CHANGE, params={**baseline, "level": "team"}, headers=aggregate_only).status_code == 200
    assert (
        client.get(CHANGE, params={**baseline, "level": "professional"}, headers=aggregate_only).status_code
        == 403
    )
    assert client.get(CHANGE, params={**baseline, "form": "nope"}, headers=world.headers).status_code == 422
    assert client.get(CHANGE, params={**baseline, "level": "city"}, headers=world.headers).status_code == 422


def test_a_wave_without_professional_numbers_gives_no_change_per_professional(client, session, change_world):
    world = change_world
    world.waves["Voorjaar"].professional_feedback = False
    session.add(world.waves["Voorjaar"])
    session.flush()
    params = {
        "wave_id": world.waves["Najaar"].id,
        "baseline_wave_id": world.waves["Voorjaar"].id,
        "form": "jongere",
        "level": "professional",
    }
    assert client.get(CHANGE, params=params, headers=world.headers).status_code == 422


# -- informants -------------------------------------------------------------------------------------


@pytest.fixture
def informant_world(client, session) -> World:
    names = ["a", "b", "c", "d", "e", "f", "g"]
    world = make_world(session, {"Noord": names[:4], "Zuid": names[4:]}, ["Voorjaar"])
    wave = world.waves["Voorjaar"]
    levels = {"a": 2.0, "b": 2.6, "c": 3.0, "d": 3.4, "e": 3.9, "f": 4.2, "g": 4.3}
    youth = {name: (5 + index % 3, level) for index, (name, level) in enumerate(levels.items())}
    youth["c"] = (2, levels["c"])  # c: youth unpublished
    parents = {name: (5 + index % 2, 5.2 - level * 0.5) for index, (name, level) in enumerate(levels.items())}
    parents["b"] = (4, 3.0)  # b: parents unpublished
    post_responses(client, session, world, wave, "jongere", youth)
    post_responses(client, session, world, wave, "ouder", parents)
    return world


def test_informants_side_by_side_equal_scipy_and_drop_unpublished_informant_groups(
    client, session, informant_world
):
    world = informant_world
    wave = world.waves["Voorjaar"]
    response = client.get(
        INFORMANTS, params={"wave_id": wave.id, "level": "professional"}, headers=world.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {group["code"]: group for group in body["groups"]}
    assert list(rows) == [f"C-{name}" for name in "abcdefg"]  # by team, then code: never by score
    both = ["a", "d", "e", "f", "g"]
    for subscale in SUBSCALES:
        assert rows["C-b"]["scores"][subscale]["parent"] is None  # 4 parents: never published
        assert rows["C-b"]["scores"][subscale]["difference"] is None
        assert rows["C-c"]["scores"][subscale]["youth"] is None
        assert rows["C-c"]["scores"][subscale]["parent"]["n"] == 5
        youth_means, parent_means = [], []
        for name in both:
            youth = world.posted.scores(wave, "jongere", [name], subscale)
            parent = world.posted.scores(wave, "ouder", [name], subscale)
            cell = rows[f"C-{name}"]["scores"][subscale]
            difference, interval = welch(youth, parent)
            assert cell["youth"]["mean"] == pytest.approx(youth.mean(), abs=1e-12)
            assert cell["parent"]["n"] == parent.size
            assert cell["difference"] == pytest.approx(difference, abs=1e-12)
            assert cell["ci"] == pytest.approx(interval, abs=1e-9)
            youth_means.append(youth.mean())
            parent_means.append(parent.mean())
        agreement = next(a for a in body["agreement"] if a["subscale"] == subscale)
        r = stats.pearsonr(youth_means, parent_means)
        z, half = np.arctanh(r.statistic), stats.norm.ppf(0.975) / np.sqrt(len(both) - 3)
        assert agreement["n_groups"] == len(both)
        assert agreement["r"] == pytest.approx(r.statistic, abs=1e-12)
        assert agreement["ci"] == pytest.approx([np.tanh(z - half), np.tanh(z + half)], abs=1e-12)
    assert body["expected_agreement"] == [0.2, 0.3] and "Achenbach" in body["reference"]


def test_informants_per_team_merge_published_leaves_only(client, session, informant_world):
    world = informant_world
    wave = world.waves["Voorjaar"]
    response = client.get(INFORMANTS, params={"wave_id": wave.id, "level": "team"}, headers=world.headers)
    body = response.json()
    noord = next(group for group in body["groups"] if group["team_name"] == "Noord")
    subscale = SUBSCALES[0]
    youth = world.posted.scores(wave, "jongere", ["a", "b", "c", "d"], subscale)  # c's 2 are unpublished
    parent = world.posted.scores(wave, "ouder", ["a", "b", "c", "d"], subscale)  # b's 4 are unpublished
    assert noord["scores"][subscale]["youth"]["n"] == youth.size == 5 + 6 + 5
    assert noord["scores"][subscale]["parent"]["n"] == parent.size
    assert noord["scores"][subscale]["difference"] == pytest.approx(youth.mean() - parent.mean(), abs=1e-12)
    agreement = next(a for a in body["agreement"] if a["subscale"] == subscale)
    assert agreement["n_groups"] == 2 and agreement["r"] is None and agreement["warnings"]


def test_informants_per_professional_need_that_scope_and_are_audited(client, session, informant_world):
    world = informant_world
    wave = world.waves["Voorjaar"]
    aggregate_only = make_key(session, world.municipality, "reports:aggregate")
    params = {"wave_id": wave.id, "level": "professional"}
    assert client.get(INFORMANTS, params=params, headers=aggregate_only).status_code == 403
    assert (
        client.get(INFORMANTS, params={**params, "level": "team"}, headers=aggregate_only).status_code == 200
    )
    other = make_key(session, make_municipality(session), "reports:aggregate", "reports:professional")
    assert client.get(INFORMANTS, params=params, headers=other).status_code == 404
    assert client.get(INFORMANTS, params=params, headers=world.headers).status_code == 200
    audited = session.exec(select(AuditEvent).where(AuditEvent.action == "scores.professional.read")).all()
    assert len(audited) == 1


# -- partner level ----------------------------------------------------------------------------------


def test_scores_and_change_per_partner_are_unions_of_published_professionals(client, session, change_world):
    world = change_world
    baseline, current = world.waves["Voorjaar"], world.waves["Najaar"]
    police = make_partner(session, world.municipality, "Politie", "police")
    care = make_partner(session, world.municipality, "Zorg", "care")
    for name, partner in {"a": police, "c": police, "b": care}.items():
        world.professionals[name].partner_id = partner.id
        session.add(world.professionals[name])
    session.flush()
    aggregate_only = make_key(session, world.municipality, "reports:aggregate")
    params = {"wave_id": current.id, "form": "jongere", "level": "partner"}
    response = client.get("/api/v1/reports/scores", params=params, headers=aggregate_only)
    assert response.status_code == 200, response.text
    rows = {group["partner_name"]: group for group in response.json()["groups"]}
    subscale = SUBSCALES[0]
    expected = world.posted.scores(current, "jongere", ["a", "c"], subscale)
    cell = rows["Politie"]["scores"][subscale]
    assert cell["n"] == expected.size == 13
    assert cell["mean"] == pytest.approx(expected.mean(), abs=1e-12)
    assert cell["sd"] == pytest.approx(expected.std(ddof=1), abs=1e-12)
    assert "Zorg" not in rows  # b's 3 current answers are published nowhere

    change = client.get(
        CHANGE, params={**params, "baseline_wave_id": baseline.id}, headers=aggregate_only
    ).json()
    assert [group["partner_name"] for group in change["groups"]] == ["Politie"]  # Zorg: baseline only
    detectable = change["subscales"][0]["detectable_change"]
    assert_change(
        change["groups"][0]["scores"][subscale],
        expected,
        world.posted.scores(baseline, "jongere", ["a"], subscale),  # c's 3 baseline answers: unpublished
        detectable,
    )


def test_no_partner_numbers_in_a_wave_that_publishes_none_per_professional(client, session, change_world):
    world = change_world
    current = world.waves["Najaar"]
    current.professional_feedback = False
    session.add(current)
    session.flush()
    params = {"wave_id": current.id, "form": "jongere", "level": "partner"}
    assert client.get("/api/v1/reports/scores", params=params, headers=world.headers).status_code == 422


# -- waves for report readers ---------------------------------------------------------------------------


def test_report_and_research_keys_list_waves_with_their_published_forms(client, session, change_world):
    world = change_world
    read_change(client, world, "wave")  # a report read publishes what is due
    aggregate_only = make_key(session, world.municipality, "reports:aggregate")
    listed = client.get("/api/v1/waves", headers=aggregate_only)
    assert listed.status_code == 200, listed.text
    waves = {wave["name"]: wave for wave in listed.json()["items"]}
    assert set(waves) == {"Voorjaar", "Najaar"}
    assert waves["Voorjaar"]["published_forms"] == ["jongere"]
    assert {"id", "opens_at", "closes_at", "modules"} <= set(waves["Najaar"])
    research = client.get(
        "/api/v1/waves", params={"limit": 100}, headers=make_key(session, None, "reports:aggregate")
    )
    assert research.status_code == 200
    assert {world.waves["Najaar"].id, world.waves["Voorjaar"].id} <= {
        wave["id"] for wave in research.json()["items"]
    }
    # Read-only for them: creating a wave still needs manage; manage keeps listing.
    body = {"name": "Winter", "opens_at": "2026-12-01T00:00:00Z"}
    assert client.post("/api/v1/waves", json=body, headers=aggregate_only).status_code == 403
    manage = make_key(session, world.municipality, "manage")
    assert client.get("/api/v1/waves", headers=manage).status_code == 200
    writer = make_key(session, world.municipality, "responses:write")
    assert client.get("/api/v1/waves", headers=writer).status_code == 403


# -- the HTML report ----------------------------------------------------------------------------------


def test_the_html_report_shows_change_and_informants_for_published_groups_only(client, session, change_world):
    world = change_world
    baseline, current = world.waves["Voorjaar"], world.waves["Najaar"]
    post_responses(client, session, world, current, "ouder", {"a": (5, 3.0), "c": (2, 3.0)})
    aggregate_only = make_key(session, world.municipality, "reports:aggregate")
    page = client.get(
        f"/reports/{current.id}", params={"baseline_wave_id": baseline.id}, headers=aggregate_only
    )
    assert page.status_code == 200, page.text
    change = page.text.split('<section class="comparison">')[1].split("</section>")[0]
    assert "Verandering sinds Voorjaar" in change and "Hele meetronde" in change
    assert "Noord" in change and "Zuid" not in change  # Zuid: nothing published at baseline
    noord = world.posted.scores(current, "jongere", ["a"], SUBSCALES[0])
    assert f"{noord.mean():.2f}".replace(".", ",") in change  # the Dutch report: a decimal comma
    informants = page.text.split('<section class="informants">')[1].split("</section>")[0]
    assert "Jongeren en ouders naast elkaar" in informants and "Achenbach" in informants
    assert "niet gepubliceerd" in informants  # Zuid's 2 parents: left out, not merged
    other = make_wave(session, make_municipality(session))
    assert (
        client.get(
            f"/reports/{current.id}", params={"baseline_wave_id": other.id}, headers=aggregate_only
        ).status_code
        == 404
    )
    english = client.get(
        f"/reports/{current.id}",
        params={"baseline_wave_id": baseline.id, "lang": "en"},
        headers=aggregate_only,
    ).text
    assert "Change since Voorjaar" in english and "Youth and parents side by side" in english
    assert "Achenbach" in english
    plain = client.get(f"/reports/{current.id}", headers=aggregate_only).text
    assert '<section class="comparison">' not in plain
