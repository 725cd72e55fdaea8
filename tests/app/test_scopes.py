"""What each scope opens, derived from the application's own routes, and proof that no route reveals
professional-level numbers to a key without ``reports:professional``.

The scope table: every route of ``app.routes`` is walked with its dependencies. A route needs a key
when :func:`app.auth.get_principal` is among them, and the scopes its :class:`app.auth.ScopeCheck`
dependencies name (each check one of its scopes, or all of them). Some routes narrow that further
inside (``level=professional`` needs ``reports:professional``), so each smallest set of scopes the
dependencies allow is then tried on the route, with every value of its enumerated query parameters:
the table lists what really answers. README.md holds the same table, character for character; when
they differ this test prints the table to paste.

The numbers: a professional-level number is one that changes when two professionals of the same team
(and partner) swap all their responses. Every number about a team, a partner, the municipality or
the instrument stays the same under that swap; a professional's mean, n or feedback page does not.
So every route is read before and after the swap, with a key holding every scope except
``reports:professional``, and every feedback page (``/f/{token}``) any answer points to is read too:
nothing may differ. The same walk with ``reports:professional`` must find the professional numbers
(the reports per professional, the HTML report, the feedback page), so the walk can see them.
"""

from __future__ import annotations

import math
import re
import tempfile
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from itertools import count, product
from pathlib import Path
from typing import Any

import numpy as np
import pyreadstat
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import case, update
from sqlmodel import Session, col, select
from starlette.routing import Mount

from app.apikeys.service import create_api_key
from app.auth import Scope, ScopeCheck, get_principal
from app.collection import caches
from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.instrument_versions.service import published_instrument
from app.models import AuditEvent, Response
from app.publication.service import publish_due
from tests.app.test_reports import random_answers, seed
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_partner

README = Path(__file__).resolve().parents[2] / "README.md"
SCOPE_ORDER = [scope.value for scope in Scope]
METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PROFESSIONAL = Scope.reports_professional.value
WITHOUT_PROFESSIONAL = [scope for scope in SCOPE_ORDER if scope != PROFESSIONAL]
RAW_ROWS: set[str] = set()
"""Routes allowed to reveal professional-level numbers without reports:professional: none. The raw
export leaves ``professional_code`` empty for such keys."""
"""The raw row export (``responses:read``) holds each response with the professional's pseudonymous
code: it is not an aggregate, and whoever holds the scope can work out anything from it. ARCHITECTURE
(invariant 3) gives it its own scope and audit; README says to give it only with
``reports:professional``. It is the one door the walk below does not hold shut."""
FEEDBACK_LINK = re.compile(rb"/f/([A-Za-z0-9_-]{16,64})")
HIDDEN_VALUE = re.compile(rb'(<input[^>]*type="hidden"[^>]*value=")[^"]*(")')
"""A form's hidden state (a submission id, a CSRF token) is new on every read, and never a number."""
MOMENT = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_submissions = count()
SWAP_MINIMUM = 6
"""Responses per professional and form: above the minimum group size, so their numbers are shown."""


# -- the routes and what their dependencies need ---------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """What a route's dependencies need: a key at all, and clauses of scopes (each: one of them)."""

    key: bool
    clauses: tuple[frozenset[str], ...]

    def smallest_sets(self) -> list[frozenset[str]]:
        """The smallest sets of scopes that satisfy every clause."""
        if not self.key:
            return [frozenset()]
        candidates = {frozenset(choice) for choice in product(*self.clauses)} if self.clauses else set()
        return sorted(
            (found for found in candidates if not any(other < found for other in candidates)),
            key=scope_sort_key,
        )


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    gate: Gate
    path_params: tuple[str, ...]
    query: dict[str, tuple[str, ...] | None]
    """Query parameters: their values when enumerated (Literal, Enum), None otherwise."""
    required_query: tuple[str, ...]
    has_body: bool


def scope_sort_key(scopes: frozenset[str]) -> tuple[int, ...]:
    return tuple(sorted(SCOPE_ORDER.index(scope) for scope in scopes))


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _choices(annotation: Any) -> tuple[str, ...] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(member.value) for member in annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(value) for value in typing.get_args(annotation))
    for arg in typing.get_args(annotation):  # Optional[Literal[...]] and the like
        found = _choices(arg)
        if found:
            return found
    return None


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route the application serves, in its order, with what its dependencies need."""
    found: list[Endpoint] = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            found.append(Endpoint("GET", f"{original.path}/{{path}}", Gate(False, ()), (), {}, (), False))
            continue
        methods = sorted((route.methods or set()) - {"HEAD"}, key=METHOD_ORDER.index)
        if not isinstance(original, APIRoute):
            found.extend(
                Endpoint(method, route.path, Gate(False, ()), (), {}, (), False) for method in methods
            )
            continue
        dependants = list(_dependants(route.dependant))
        key = any(dependant.call is get_principal for dependant in dependants)
        clauses: list[frozenset[str]] = []
        for dependant in dependants:
            check = dependant.call
            if isinstance(check, ScopeCheck):
                names = [scope.value for scope in check.scopes]
                clauses.extend(
                    [frozenset({name}) for name in names] if check.require_all else [frozenset(names)]
                )
        query = {
            field.name: _choices(field.field_info.annotation) for d in dependants for field in d.query_params
        }
        required = tuple(
            field.name for d in dependants for field in d.query_params if field.field_info.is_required()
        )
        path_params = tuple(dict.fromkeys(field.name for d in dependants for field in d.path_params))
        gate = Gate(key, tuple(dict.fromkeys(clauses)))
        found.extend(
            Endpoint(method, route.path, gate, path_params, query, required, route.body_field is not None)
            for method in methods
        )
    return found


# -- a world to call them in ---------------------------------------------------------------------------


@dataclass
class World:
    municipality_id: int
    other_municipality: Any
    ids: dict[str, int]
    invitation_token: str
    professionals: dict[str, Any]
    full: dict[str, str]
    session: Session


def store_about(
    session: Session, wave: Any, professional: Any, form: str, answers: dict[str, int | None]
) -> None:
    questionnaire = open_questionnaire(session, make_invitation(session, wave, professional, form=form).token)
    store_response(
        session,
        questionnaire,
        check_answers(questionnaire, answers),
        language="nl",
        key=submission_key("scopes-test", str(next(_submissions))),
    )


@pytest.fixture
def client(settings, session, app):  # without rate limits in the way
    app.state.settings = settings.model_copy(update={"api_rate_limit": 0, "submit_rate_limit": 0})
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, session: Session) -> World:
    """Team Noord: p and q (same partner), Zuid: r; each rated by young people and parents above the
    minimum; six professionals answered about their own work; one feedback link for p."""
    seeded = seed(session, {"Noord": {"p": SWAP_MINIMUM, "q": SWAP_MINIMUM}, "Zuid": {"r": SWAP_MINIMUM + 1}})
    partner = make_partner(session, seeded.municipality)
    rng = np.random.default_rng(21)
    items = {
        form: [item.id for item in published_instrument().form(form).items(())]
        for form in ("ouder", "professional")
    }
    for level, name in zip((4.3, 2.2, 3.4), ("p", "q", "r"), strict=True):
        professional = seeded.professionals[name]
        professional.partner_id = partner.id
        session.add(professional)
        for _ in range(SWAP_MINIMUM):
            store_about(
                session, seeded.wave, professional, "ouder", random_answers(rng, level, items["ouder"])
            )
    for _ in range(SWAP_MINIMUM):
        own = random_answers(rng, 3.0, items["professional"])
        store_about(session, seeded.wave, seeded.professionals["r"], "professional", own)
    session.flush()
    # Published before the walk, so that no read publishes a batch the reads before it did not see.
    publish_due(session, seeded.wave, min_group_size=5)
    full_key, full_secret = create_api_key(
        session, municipality_id=seeded.municipality.id, name="everything", scopes=SCOPE_ORDER
    )
    full = {"Authorization": f"Bearer {full_secret}"}
    p = seeded.professionals["p"]
    link = client.post(f"/api/v1/professionals/{p.id}/feedback-links", json={}, headers=full)
    assert link.status_code == 201, link.text
    invitation = make_invitation(session, seeded.wave, p)
    baseline = make_wave(session, seeded.municipality, name="Vorige ronde")  # for the change report
    event = session.exec(
        select(AuditEvent).where(AuditEvent.municipality_id == seeded.municipality.id)
    ).first()
    assert event is not None and event.id is not None
    return World(
        municipality_id=seeded.municipality.id,
        other_municipality=make_municipality(session, "Elders"),
        ids={
            "partner_id": partner.id,
            "team_id": seeded.teams["Noord"].id,
            "professional_id": p.id,
            "wave_id": seeded.wave.id,
            "baseline_wave_id": baseline.id,
            "invitation_id": invitation.id,
            "link_id": link.json()["id"],
            "key_id": full_key.id,
            "event_id": event.id,
        },
        invitation_token=invitation.token,
        professionals=seeded.professionals,
        full=full,
        session=session,
    )


def key_of(session: Session, municipality_id: int | None, scopes: Iterable[str]) -> dict[str, str]:
    _, secret = create_api_key(session, municipality_id=municipality_id, name="walker", scopes=sorted(scopes))
    return {"Authorization": f"Bearer {secret}"}


def variants(endpoint: Endpoint) -> list[dict[str, str]]:
    """The default call, and each value of each enumerated query parameter in turn."""
    chosen = [{name: value} for name, values in endpoint.query.items() if values for value in values]
    return chosen or [{}]


def fill(endpoint: Endpoint, world: World, variant: dict[str, str]) -> tuple[str, dict[str, Any]]:
    path = endpoint.path
    for name in endpoint.path_params:
        if name == "token":
            value: Any = world.invitation_token
        elif name in world.ids:
            value = world.ids[name]
        else:
            raise AssertionError(f"{endpoint.method} {endpoint.path}: teach this test the parameter {name!r}")
        path = path.replace("{" + name + "}", str(value))
    params: dict[str, Any] = {}
    for name in endpoint.required_query:
        if name == "form":
            params[name] = "jongere"
        elif name in world.ids:
            params[name] = world.ids[name]
        else:
            raise AssertionError(f"{endpoint.method} {endpoint.path}: teach this test the parameter {name!r}")
    return path, {**params, **variant}


def call(
    client: TestClient, endpoint: Endpoint, world: World, headers: dict[str, str], variant: dict[str, str]
):
    path, params = fill(endpoint, world, variant)
    body = {"json": {}} if endpoint.has_body else {}
    return client.request(endpoint.method, path, params=params, headers=headers, **body)


# -- the scope table -----------------------------------------------------------------------------------


def _label(endpoint: Endpoint, qualifier: str) -> str:
    return f"{endpoint.path}{qualifier}"


def derive_table(client: TestClient, world: World) -> str:
    """The README's scope table, from the routes: each smallest set of scopes and what it opens."""
    app = typing.cast(FastAPI, client.app)
    rows: dict[frozenset[str], dict[str, list[str]]] = {}
    other = world.other_municipality.id
    keys: dict[tuple[int, frozenset[str]], dict[str, str]] = {}
    for endpoint in endpoints(app):
        for scopes in endpoint.gate.smallest_sets():
            opened: list[dict[str, str]] = []
            tried = variants(endpoint)
            if not scopes:
                opened = tried
            else:
                # Reads with the municipality's own key; writes with another municipality's, so they
                # pass the scope check and stop at 404 or 422, changing nothing.
                owner = world.municipality_id if endpoint.method == "GET" else other
                headers = keys.setdefault((owner, scopes), key_of(world.session, owner, scopes))
                opened = [
                    variant
                    for variant in tried
                    if call(client, endpoint, world, headers, variant).status_code != 403
                ]
            if not opened:
                continue
            qualifier = ""
            if opened != tried:
                parameters = {name for variant in opened for name in variant}
                qualifier = "?" + "&".join(
                    f"{name}=" + "|".join(variant[name] for variant in opened if name in variant)
                    for name in sorted(parameters)
                )
            by_path = rows.setdefault(scopes, {})
            by_path.setdefault(_label(endpoint, qualifier), []).append(endpoint.method)
    lines = [
        "| scope | routes it opens |",
        "|---|---|",
    ]
    for scopes in sorted(rows, key=lambda found: (not found, scope_sort_key(found))):
        label = " + ".join(f"`{scope}`" for scope in sorted(scopes, key=SCOPE_ORDER.index)) or "no key"
        routes = " · ".join(
            f"`{' '.join(sorted(methods, key=METHOD_ORDER.index))} {path}`"
            for path, methods in rows[scopes].items()
        )
        lines.append(f"| {label} | {routes} |")
    return "\n".join(lines) + "\n"


def test_the_readme_scope_table_is_the_one_the_routes_give(client, world):
    table = derive_table(client, world)
    assert table in README.read_text(encoding="utf-8"), (
        "README.md's scope table differs from what the routes open; replace it with:\n\n" + table
    )


def test_every_route_that_needs_a_key_names_its_scopes(client):
    for endpoint in endpoints(typing.cast(FastAPI, client.app)):
        if endpoint.gate.key:
            assert endpoint.gate.clauses, f"{endpoint.method} {endpoint.path} checks the key but no scope"


def test_feedback_links_need_manage_and_reports_professional(client):
    gates = {
        (endpoint.method, endpoint.path): endpoint.gate.smallest_sets()
        for endpoint in endpoints(typing.cast(FastAPI, client.app))
        if "feedback-links" in endpoint.path
    }
    assert len(gates) == 4
    assert all(sets == [frozenset({"manage", PROFESSIONAL})] for sets in gates.values()), gates


# -- no professional-level numbers without reports:professional ----------------------------------------


def swap(session: Session, first: int, second: int) -> None:
    """Give ``first`` every response about ``second`` and the other way round."""
    session.exec(  # type: ignore[call-overload]
        update(Response)
        .where(col(Response.professional_id).in_([first, second]))
        .values(professional_id=case((col(Response.professional_id) == first, second), else_=first))
    )
    session.commit()
    session.expire_all()
    # The service never moves a published response (only a new cut, retention or a deletion
    # changes what a cut holds, and the report's version sees each of them): a swap is another
    # world, read as a new worker would, with nothing remembered from the first.
    caches.reset()


NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
NUMERIC_NOISE = 1e-4
"""Relative difference below which two numbers are the same: PostgreSQL returns updated rows in
another order, and iterative estimates then differ in their last digits."""


def same(first: tuple[int, bytes], second: tuple[int, bytes]) -> bool:
    """Equal status and content, numbers compared up to rounding noise."""
    if first == second:
        return True
    (status, one), (other_status, two) = first, second
    if status != other_status or NUMBER.split(one) != NUMBER.split(two):
        return False
    return all(
        math.isclose(float(a), float(b), rel_tol=NUMERIC_NOISE, abs_tol=1e-9)
        for a, b in zip(NUMBER.findall(one), NUMBER.findall(two), strict=True)
    )


def normalised(content: bytes) -> bytes:
    """Without what changes from one read to the next of the same data: moments and hidden state.

    An SPSS file is compared by its data (its header holds the moment it was written).
    """
    if content.startswith(b"$FL2"):
        with tempfile.NamedTemporaryFile(suffix=".sav") as file:
            file.write(content)
            file.flush()
            frame, _ = pyreadstat.read_sav(file.name)
        content = frame.to_csv(index=False).encode()
    return HIDDEN_VALUE.sub(rb"\1<hidden>\2", MOMENT.sub(b"<moment>", content))


Observation = dict[str, tuple[int, bytes]]


def read_everything(
    client: TestClient, world: World, headers: dict[str, str], until: datetime, links: set[str]
) -> Observation:
    """Every GET route (each enumerated value) read with ``headers``; feedback links found go to ``links``."""
    seen: Observation = {}
    for endpoint in endpoints(typing.cast(FastAPI, client.app)):
        if endpoint.method != "GET" or "{path}" in endpoint.path or endpoint.path == "/f/{token}":
            continue
        for variant in variants(endpoint):
            extra = {"until": until.isoformat()} if endpoint.path == "/api/v1/audit" else {}
            response = call(client, endpoint, world, headers, {**variant, **extra})
            seen[f"GET {endpoint.path} {variant}"] = (response.status_code, normalised(response.content))
            links.update(match.decode() for match in FEEDBACK_LINK.findall(response.content))
    return seen


def write_everything(client: TestClient, world: World, headers: dict[str, str], links: set[str]) -> None:
    """Every route that changes something (deletions aside: they answer nothing), with an empty body;
    a feedback link in any answer goes to ``links``."""
    for endpoint in endpoints(typing.cast(FastAPI, client.app)):
        if endpoint.method in ("GET", "DELETE") or not endpoint.gate.key:
            continue
        response = call(client, endpoint, world, headers, {})
        if response.status_code < 300:
            links.update(match.decode() for match in FEEDBACK_LINK.findall(response.content))


def revealed(client: TestClient, world: World, headers: dict[str, str]) -> set[str]:
    """The reads whose answer changes when p and q swap their responses."""
    p, q = world.professionals["p"].id, world.professionals["q"].id
    until = datetime.now(UTC)
    links: set[str] = set()
    before = read_everything(client, world, headers, until, links)
    swap(world.session, p, q)
    after = read_everything(client, world, headers, until, links)
    swap(world.session, p, q)
    write_everything(client, world, headers, links)

    def pages() -> Observation:
        return {
            f"GET /f/{{token}} ({index})": (response.status_code, normalised(response.content))
            for index, token in enumerate(sorted(links))
            for response in [client.get(f"/f/{token}")]
        }

    pages_before = pages()
    swap(world.session, p, q)
    pages_after = pages()
    swap(world.session, p, q)
    assert before.keys() == after.keys()
    changed = {name for name in before if not same(before[name], after[name])}
    return changed | {name for name in pages_before if not same(pages_before[name], pages_after[name])}


def _route(name: str) -> str:
    return name.split(" ")[1]


def test_no_route_reveals_professional_numbers_without_reports_professional(client, session, world):
    lacking = key_of(session, world.municipality_id, WITHOUT_PROFESSIONAL)
    leaks = {name for name in revealed(client, world, lacking) if _route(name) not in RAW_ROWS}
    assert leaks == set(), leaks


def test_the_walk_sees_professional_numbers_where_the_scope_allows_them(client, world):
    found = revealed(client, world, world.full)
    assert "GET /api/v1/reports/scores {'level': 'professional'}" in found
    assert "GET /api/v1/reports/scores {'level': 'team'}" not in found
    assert any(name.startswith("GET /reports/{wave_id}") for name in found)
    assert any(name.startswith("GET /f/{token}") for name in found)  # through the feedback-link routes
    assert {_route(name) for name in found} <= {
        "/api/v1/reports/scores",
        "/api/v1/reports/change",  # level=professional
        "/api/v1/reports/informants",  # level=professional
        "/reports/{wave_id}",
        "/f/{token}",
        "/api/v1/exports/responses",  # with reports:professional the rows name their professional
    }, found
