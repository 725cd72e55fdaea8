"""Disclosure control played as an attacker would: with ordinary keys, every output, many reads.

The attacks of issue #12 against the real API, on SQLite and PostgreSQL:

- differencing across levels (wave total - shown team - shown professional);
- differencing over time (two reads around one new response);
- statistics that depend on hidden groups (alpha, ICC, item SDs beside shown means);
- cells below the minimum (an item row of two, alpha for a wave of three).

The **linear auditor** turns every number a municipality key can read, at two moments, into
linear constraints on the unknown answers of every response (it is even told which responses each
published cell holds, which an attacker is not) and solves for the tightest interval of a hidden
group's mean with ``scipy.optimize.linprog``. It must stay as wide as the scale. A control run
adds the wave total that the old design published live, and the same auditor then pins the hidden
group down: the auditor can find a leak.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from sqlmodel import Session, select

from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.instrument_versions.service import published_instrument
from app.models import Response
from tests.app.test_reports import RELIABILITY, SCORES, Seeded, item_ids, read_cut, seed, store
from tests.factories.collection import make_invitation
from tests.factories.organisation import make_feedback_link, make_key, make_partner

FORM = "jongere"
GROUPS = published_instrument().form(FORM).subscales()


def aggregate_key(session: Session, seeded: Seeded) -> dict[str, str]:
    return make_key(
        session, seeded.municipality, "reports:aggregate", "reports:professional", "responses:read"
    )


@dataclass
class Reads:
    reliability: dict
    teams: dict
    professionals: dict


def read_all(client, seeded: Seeded, headers: dict[str, str]) -> Reads:
    params = {"wave_id": seeded.wave.id, "form": FORM}
    responses = [
        client.get(RELIABILITY, params=params, headers=headers),
        client.get(SCORES, params={**params, "level": "team"}, headers=headers),
        client.get(SCORES, params={**params, "level": "professional"}, headers=headers),
    ]
    assert all(response.status_code == 200 for response in responses), [r.text for r in responses]
    return Reads(*(response.json() for response in responses))


def every_output(client, session: Session, seeded: Seeded, headers: dict[str, str], feedback: str) -> dict:
    """The bytes of every output a municipality can read, without the moment it was generated."""
    params = {"wave_id": seeded.wave.id, "form": FORM}
    outputs = {
        "reliability": client.get(RELIABILITY, params=params, headers=headers).text,
        "teams": client.get(SCORES, params={**params, "level": "team"}, headers=headers).text,
        "professionals": client.get(SCORES, params={**params, "level": "professional"}, headers=headers).text,
        "html": client.get(f"/reports/{seeded.wave.id}", params={"form": FORM}, headers=headers).text,
        "csv": client.get("/api/v1/exports/responses", params=params, headers=headers).text,
        "feedback": client.get(f"/f/{feedback}").text,
    }
    # The HTML report prints when it was generated (not when its numbers were published).
    outputs["html"] = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<generated>", outputs["html"])
    return outputs


def test_one_new_response_changes_no_published_byte_and_the_fifth_publishes(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 3}, "Zuid": {"d": 8, "e": 7}}, missing=0.0)
    headers = aggregate_key(session, seeded)
    feedback = make_feedback_link(session, seeded.professionals["a"]).token
    before = every_output(client, session, seeded, headers, feedback)
    for name in ("a", "b"):  # one more about a published professional and one about a waiting one
        store(session, seeded.wave, seeded.professionals[name], dict.fromkeys(item_ids(), 3))
    after = every_output(client, session, seeded, headers, feedback)
    for output, text in before.items():
        assert after[output] == text, output

    # b now has 4 pending answers: still nothing. The fifth makes b's batch, and b appears.
    professional_b = seeded.professionals["b"]
    assert read_all(client, seeded, headers).reliability["n_responses"] == 24
    store(session, seeded.wave, professional_b, dict.fromkeys(item_ids(), 2))
    reads = read_all(client, seeded, headers)
    assert reads.reliability["n_responses"] == 29
    row = next(group for group in reads.professionals["groups"] if group["code"] == professional_b.code)
    assert row["scores"]["gezien_worden"]["n"] == 5
    # a's one pending answer still waits for four more.
    row_a = next(group for group in reads.professionals["groups"] if group["code"] == "C-a")
    assert row_a["scores"]["gezien_worden"]["n"] == 9


def test_a_wave_of_three_shows_no_alpha_no_item_row_and_no_correlation(client, session):
    seeded = seed(session, {"Noord": {"a": 3}}, missing=0.0)
    reads = read_all(client, seeded, aggregate_key(session, seeded))
    assert reads.reliability["n_responses"] == 0
    for entry in reads.reliability["subscales"]:
        assert entry["alpha"] is None and entry["alpha_ci"] is None and entry["omega_total"] is None
        assert entry["inter_item_correlations"] is None
        assert all(row["n"] is None and row["distribution"] is None for row in entry["item_analysis"])
    assert reads.teams["groups"] == [] and reads.professionals["groups"] == []


def test_an_item_answered_by_few_of_a_leaf_never_shows_a_small_count(client, session):
    # Six respondents, of whom only two answer the first item: its row would be about two people.
    seeded = seed(session, {"Noord": {"a": 0}, "Zuid": {"d": 8}}, missing=0.0)
    professional = seeded.professionals["a"]
    items = item_ids()
    for number in range(6):
        answers = dict.fromkeys(items, 4)
        answers[items[0]] = 5 if number < 2 else None
        store(session, seeded.wave, professional, answers)
    reads = read_all(client, seeded, aggregate_key(session, seeded))
    for entry in reads.reliability["subscales"]:
        for row in entry["item_analysis"]:
            assert row["n"] is None or row["n"] >= 5, row
    for report in (reads.teams, reads.professionals):
        for group in report["groups"]:
            for cell in group["scores"].values():
                assert cell["n"] is None or cell["n"] >= 5
    # The four who skipped it wait with the two who answered it: nothing about them is published.
    assert reads.reliability["n_responses"] == 8


def store_self_report(session: Session, seeded: Seeded, name: str, answers: dict[str, int | None]) -> None:
    invitation = make_invitation(session, seeded.wave, seeded.professionals[name], form="professional")
    questionnaire = open_questionnaire(session, invitation.token)
    store_response(
        session,
        questionnaire,
        check_answers(questionnaire, answers),
        language="nl",
        key=submission_key("self-report", f"{name}-{invitation.id}"),
    )


def test_the_self_report_form_publishes_by_team(client, session):
    seeded = seed(session, {"Noord": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}}, missing=0.0)
    headers = aggregate_key(session, seeded)
    items = [item.id for item in published_instrument().form("professional").items(())]
    names = list(seeded.professionals)
    for name in names[:4]:
        store_self_report(session, seeded, name, dict.fromkeys(items, 4))
    params = {"wave_id": seeded.wave.id, "form": "professional"}
    assert client.get(RELIABILITY, params=params, headers=headers).json()["n_responses"] == 0
    store_self_report(session, seeded, names[4], dict.fromkeys(items, 2))
    body = client.get(SCORES, params={**params, "level": "team"}, headers=headers).json()
    assert body["n_responses"] == 5 and body["groups"][0]["scores"]["gezien_worden"]["n"] == 5


def test_a_wave_without_professional_feedback_publishes_teams_sooner(client, session):
    seeded = seed(session, {"Noord": {"a": 2, "b": 3}, "Zuid": {"d": 4}}, missing=0.0)
    headers = aggregate_key(session, seeded)
    manage = make_key(session, seeded.municipality, "manage")
    path = f"/api/v1/waves/{seeded.wave.id}"
    assert (
        client.patch(path, json={"professional_feedback": False}, headers=manage).json()[
            "professional_feedback"
        ]
        is False
    )
    reads = client.get(
        SCORES, params={"wave_id": seeded.wave.id, "form": FORM, "level": "team"}, headers=headers
    )
    teams = {group["team_name"]: group["scores"]["gezien_worden"] for group in reads.json()["groups"]}
    assert teams == {"Noord": teams["Noord"]} and teams["Noord"]["n"] == 5  # Zuid (4) waits
    per_professional = client.get(
        SCORES, params={"wave_id": seeded.wave.id, "form": FORM, "level": "professional"}, headers=headers
    )
    assert per_professional.status_code == 422 and "professional_feedback" in per_professional.text
    # Team batches mix professionals: numbers per professional can no longer be switched on.
    again = client.patch(path, json={"professional_feedback": True}, headers=manage)
    assert again.status_code == 409


# -- the linear auditor ------------------------------------------------------------------------------


@dataclass
class Stored:
    """Every stored response, in storage order: who it is about and its answers (the truth)."""

    about: list[str]
    team: list[str]
    answers: np.ndarray  # responses x items, NaN = no answer
    cut: list[int | None]


def stored(session: Session, seeded: Seeded, team_of: dict[str, str]) -> Stored:
    cuts = session.exec(
        select(Response.cut_id).where(Response.wave_id == seeded.wave.id).order_by(Response.id)
    ).all()
    items = item_ids()
    values = np.array([[np.nan if row[item] is None else row[item] for item in items] for row in seeded.rows])
    return Stored(list(seeded.about), [team_of[name] for name in seeded.about], values, list(cuts))


class Auditor:
    """Linear constraints on the unknown answers x[r, i] in [1, 5] from published numbers."""

    def __init__(self, truth: Stored) -> None:
        self.truth = truth
        answered = ~np.isnan(truth.answers)
        self.index = -np.ones(answered.shape, dtype=int)
        self.index[answered] = np.arange(int(answered.sum()))
        self.rows: list[np.ndarray] = []
        self.values: list[float] = []

    def add(self, weights: np.ndarray, total: float) -> None:
        row = np.zeros(int((self.index >= 0).sum()))
        mask = self.index >= 0
        row[self.index[mask]] = weights[mask]
        self.rows.append(row)
        self.values.append(total)

    def score_weights(self, members: np.ndarray, group_items: list[int], minimum: int) -> np.ndarray:
        """Weights of sum over ``members`` of each one's subscale score (mean of answered items)."""
        answered = ~np.isnan(self.truth.answers)
        weights = np.zeros(self.truth.answers.shape)
        for response in np.flatnonzero(members):
            mine = [item for item in group_items if answered[response, item]]
            if len(mine) >= minimum:
                weights[response, mine] = 1.0 / len(mine)
        return weights

    def learn(self, reads: Reads, published: np.ndarray) -> None:
        """Every number of the three reports, as a sum over the cells' published members."""
        answered = ~np.isnan(self.truth.answers)
        items = item_ids()
        for entry in reads.reliability["subscales"]:
            for row in entry["item_analysis"]:
                if row["n"] is not None:
                    column = items.index(row["item"])
                    weights = np.zeros(self.truth.answers.shape)
                    weights[published & answered[:, column], column] = 1.0
                    self.add(weights, row["n"] * row["mean"])
        about = np.array(self.truth.about)
        teams = np.array(self.truth.team)
        for report, labels, key in (
            (reads.teams, teams, "team_name"),
            (reads.professionals, about, "code"),
        ):
            for group in report["groups"]:
                label = group[key] if key == "team_name" else group[key].removeprefix("C-")
                members = published & (labels == label)
                for subscale in GROUPS:
                    cell = group["scores"][subscale.subscale]
                    if cell["n"] is None:
                        continue
                    positions = [items.index(item) for item in subscale.item_ids]
                    weights = self.score_weights(members, positions, subscale.min_answered)
                    self.add(weights, cell["n"] * cell["mean"])

    def interval(self, members: np.ndarray, item: int | None = None) -> tuple[float, float]:
        """The tightest interval, given everything read, of the members' mean gezien_worden score
        (or, with ``item``, of their mean answer to that item)."""
        if item is None:
            positions = [item_ids().index(item) for item in GROUPS[0].item_ids]
            weights = self.score_weights(members, positions, GROUPS[0].min_answered) / int(members.sum())
        else:
            weights = np.zeros(self.truth.answers.shape)
            answering = members & ~np.isnan(self.truth.answers[:, item])
            weights[answering, item] = 1.0 / int(answering.sum())
        objective = np.zeros(int((self.index >= 0).sum()))
        mask = self.index >= 0
        objective[self.index[mask]] = weights[mask]
        bounds = (1, 5)
        low = linprog(objective, A_eq=np.array(self.rows), b_eq=self.values, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=np.array(self.rows), b_eq=self.values, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0, (low.message, high.message)
        return float(low.fun), float(-high.fun)


def test_the_linear_auditor_cannot_narrow_a_hidden_group(client, session):
    # The attacks of the issue in one wave: a team of three (all hidden) beside shown teams and
    # professionals, a professional alone in a hidden team, and two reads around new responses.
    sizes = {"Noord": {"a": 9, "b": 3}, "Zuid": {"d": 8}, "West": {"w": 3}, "Oost": {"o": 2, "p": 1}}
    seeded = seed(session, sizes, missing=0.05, seed_value=11)
    team_of = {name: team for team, members in sizes.items() for name in members}
    headers = aggregate_key(session, seeded)
    first = read_all(client, seeded, headers)
    truth = stored(session, seeded, team_of)
    auditor = Auditor(truth)
    auditor.learn(first, np.array([cut is not None for cut in truth.cut]))

    # Second moment: one new response about a shown professional, one about a hidden one.
    for name in ("a", "w"):
        answers = dict.fromkeys(item_ids(), 5)
        store(session, seeded.wave, seeded.professionals[name], answers)
        seeded.rows.append(answers)
        seeded.about.append(name)
    second = read_all(client, seeded, headers)
    before = [cut is not None for cut in truth.cut]
    truth = stored(session, seeded, team_of)
    published = np.array([cut is not None for cut in truth.cut])
    assert list(published) == [*before, False, False]  # the two new responses made no batch
    later = Auditor(truth)
    later.learn(first, published)
    later.learn(second, published)
    about = np.array(truth.about)
    hidden = {"b", "w", "o", "p"}
    assert not any(name in hidden for name in read_cut(session, seeded).published_about)
    for name in hidden:
        for item in (None, 0, 5):
            low, high = later.interval(about == name, item)
            assert low == pytest.approx(1.0, abs=1e-6) and high == pytest.approx(5.0, abs=1e-6), name
    # The new response about "a" pins nothing either: it is published nowhere yet.
    low, high = later.interval(np.arange(len(about)) == len(about) - 2)
    assert (low, high) == (pytest.approx(1.0, abs=1e-6), pytest.approx(5.0, abs=1e-6))

    # Control: the wave totals the old design published live (every response, hidden ones too)
    # let the same auditor pin team West down. The auditor finds a leak when there is one.
    leaky = Auditor(truth)
    leaky.learn(second, np.array([cut is not None for cut in truth.cut]))
    answered = ~np.isnan(truth.answers)
    for column in range(truth.answers.shape[1]):
        weights = np.zeros(truth.answers.shape)
        weights[answered[:, column], column] = 1.0
        leaky.add(weights, float(np.nansum(truth.answers[:, column])))
    low, high = leaky.interval(~published, item=0)  # every response no report has published
    assert high - low < 1e-6


# -- property: one plan for every output --------------------------------------------------------------


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sizes=st.lists(st.lists(st.integers(0, 8), min_size=1, max_size=3), min_size=1, max_size=3),
    missing=st.sampled_from([0.0, 0.1]),
)
def test_every_output_follows_the_same_plan_and_no_cell_is_small(client, session, sizes, missing):
    layout = {f"T{t}": {f"p{t}x{p}": count for p, count in enumerate(team)} for t, team in enumerate(sizes)}
    seeded = seed(session, layout, missing=missing, seed_value=len(str(sizes)))
    headers = aggregate_key(session, seeded)
    reads = read_all(client, seeded, headers)
    published = read_cut(session, seeded).published_about
    counts = {name: published.count(name) for name in set(published)}
    assert all(count >= 5 for count in counts.values())
    assert reads.reliability["n_responses"] == len(published)

    shown_json = {group["code"] for group in reads.professionals["groups"]}
    assert shown_json == {f"C-{name}" for name in counts}
    html = client.get(f"/reports/{seeded.wave.id}", params={"form": FORM}, headers=headers).text
    assert {f"C-{name}" for name in seeded.professionals if f"C-{name}" in html} == shown_json
    export = client.get(
        "/api/v1/exports/responses", params={"wave_id": seeded.wave.id, "form": FORM}, headers=headers
    )
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == len(published)
    assert {row["professional_code"] for row in rows} == shown_json
    assert all(row["submitted_at"] == "" for row in rows)
    for name, professional in seeded.professionals.items():
        page = client.get(f"/f/{make_feedback_link(session, professional).token}").text
        assert ('class="value"' in page) == (name in counts), name

    for report in (reads.teams, reads.professionals):
        for group in report["groups"]:
            for cell in group["scores"].values():
                assert cell["suppressed"] or cell["n"] >= 5
    for entry in reads.reliability["subscales"]:
        for row in entry["item_analysis"]:
            assert row["n"] is None or row["n"] >= 5


def test_coordinators_see_how_many_answers_each_leaf_still_needs(client, session):
    from app.publication import service as publication

    seeded = seed(session, {"Noord": {"a": 3, "b": 7}}, missing=0.0)
    read_all(client, seeded, aggregate_key(session, seeded))  # publishes b
    status = publication.pending_status(session, seeded.wave, min_group_size=5)
    assert [(entry.professional_id, entry.pending, entry.needed) for entry in status] == [
        (seeded.professionals["a"].id, 3, 2)
    ]


# -- partner margins (issue #19) ----------------------------------------------------------------------


def test_partner_margins_beside_team_and_professional_margins_recover_no_hidden_cell(client, session):
    # Partners cut across teams: Politie = a (Noord, shown) + w (West, hidden: 3 answers);
    # Zorg = b (Noord, hidden: 3) + d (Zuid, shown); e (Zuid) has no partner.
    sizes = {"Noord": {"a": 9, "b": 3}, "Zuid": {"d": 8, "e": 6}, "West": {"w": 3}}
    seeded = seed(session, sizes, missing=0.0, seed_value=13)
    team_of = {name: team for team, members in sizes.items() for name in members}
    police = make_partner(session, seeded.municipality, "Politie", "police")
    care = make_partner(session, seeded.municipality, "Zorg", "care")
    partner_of = {"a": police, "w": police, "b": care, "d": care}
    for name, partner in partner_of.items():
        seeded.professionals[name].partner_id = partner.id
        session.add(seeded.professionals[name])
    session.flush()
    headers = aggregate_key(session, seeded)
    reads = read_all(client, seeded, headers)
    params = {"wave_id": seeded.wave.id, "form": FORM, "level": "partner"}
    partners = client.get(SCORES, params=params, headers=headers)
    assert partners.status_code == 200, partners.text
    truth = stored(session, seeded, team_of)
    published = np.array([cut is not None for cut in truth.cut])
    about = np.array(truth.about)
    label_of = {name: partner.name for name, partner in partner_of.items()}
    labels = np.array([label_of.get(name, "") for name in truth.about])

    # Each partner cell is the union of its professionals' published leaves (hidden ones in none).
    shown = {
        group["partner_name"] or "": group["scores"]["gezien_worden"]["n"]
        for group in partners.json()["groups"]
    }
    assert shown == {"Politie": 9, "Zorg": 8, "": 6}

    auditor = Auditor(truth)
    auditor.learn(reads, published)
    items = item_ids()
    for group in partners.json()["groups"]:
        members = published & (labels == (group["partner_name"] or ""))
        for subscale in GROUPS:
            cell = group["scores"][subscale.subscale]
            if cell["n"] is None:
                continue
            positions = [items.index(item) for item in subscale.item_ids]
            auditor.add(
                auditor.score_weights(members, positions, subscale.min_answered), cell["n"] * cell["mean"]
            )
    # The change report's partner cells are these same published cells (one more wave adds only
    # other batches); so team, professional and partner margins together pin no hidden answer.
    for name in ("b", "w"):
        for item in (None, 0, 5):
            low, high = auditor.interval(about == name, item)
            assert low == pytest.approx(1.0, abs=1e-6) and high == pytest.approx(5.0, abs=1e-6), name

    # Control: a partner total over every stored response (hidden w too), as a live margin would
    # be, lets the same auditor recover w's mean by subtracting a's shown cell.
    leaky = Auditor(truth)
    leaky.learn(reads, published)
    positions = [items.index(item) for item in GROUPS[0].item_ids]
    everyone = labels == "Politie"
    weights = leaky.score_weights(everyone, positions, GROUPS[0].min_answered)
    leaky.add(weights, float(np.nansum(weights * np.nan_to_num(truth.answers))))
    low, high = leaky.interval(about == "w")
    assert high - low < 1e-6
