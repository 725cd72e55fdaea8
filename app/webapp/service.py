"""What the web app's pages show, put together from the domain services (no rules of its own).

A wave's progress is counts only: how many responses came in per professional and form, how many
of them are published, and how many more the next batch needs
(:func:`app.publication.service.pending_status`).
Never an answer, never a statistic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session

from app.auth import Principal
from app.instrument_versions.service import instrument_for_version
from app.models import Professional, Team, Wave
from app.organisation import service as organisation
from app.publication import service as publication
from app.webapp.language import moment_text

FORMS = ("jongere", "ouder", "professional")
MAX_LISTED = 500
"""Teams and professionals on one page (a municipality has tens, not thousands)."""


@dataclass(frozen=True)
class FormProgress:
    """One form of one professional (or team) in a wave."""

    form: str
    received: int
    published: int
    needed: int
    """Answers still needed before the waiting ones can be published (0: nothing waits)."""

    @property
    def waiting(self) -> int:
        return self.received - self.published


@dataclass(frozen=True)
class ProfessionalProgress:
    professional: Professional
    team_name: str
    forms: list[FormProgress]

    @property
    def received(self) -> int:
        return sum(item.received for item in self.forms)


@dataclass(frozen=True)
class TeamProgress:
    """Responses published per team (the self-report form, or a wave without numbers per professional)."""

    team_name: str
    forms: list[FormProgress]


@dataclass(frozen=True)
class WaveProgress:
    wave: Wave
    forms: list[str]
    professionals: list[ProfessionalProgress]
    teams: list[TeamProgress]
    min_group_size: int
    last_cut_at: str | None


def wave_forms(wave: Wave) -> list[str]:
    """The forms of the wave's instrument, in the usual order."""
    instrument = instrument_for_version(wave.instrument_version)
    known = set(instrument.forms)
    return [form for form in FORMS if form in known]


def list_teams(session: Session, principal: Principal) -> list[Team]:
    teams, _ = organisation.list_teams(session=session, principal=principal, limit=MAX_LISTED, offset=0)
    return sorted(teams, key=lambda team: team.name.casefold())


def wave_progress(session: Session, principal: Principal, wave: Wave, *, min_group_size: int) -> WaveProgress:
    """Per professional and form: received, published and still needed; per team where a batch is a team."""
    assert wave.id is not None
    forms = wave_forms(wave)
    received: dict[tuple[str, int | None], int] = defaultdict(int)
    published: dict[tuple[str, int | None], int] = defaultdict(int)
    for form, professional_id, is_published, count in publication.response_counts(session, wave):
        received[(form, professional_id)] += count
        if is_published:
            published[(form, professional_id)] += count
    # A professional's batch is per team; the least a batch of theirs still needs is what they wait for.
    needed_by_professional: dict[tuple[str, int], int] = {}
    needed_by_team: dict[tuple[str, int | None], int] = {}
    team_pending: dict[tuple[str, int | None], int] = defaultdict(int)
    for status in publication.pending_status(session, wave, min_group_size=min_group_size):
        if status.professional_id is not None:
            key = (status.form, status.professional_id)
            needed_by_professional[key] = min(needed_by_professional.get(key, status.needed), status.needed)
        else:
            needed_by_team[(status.form, status.team_id)] = status.needed
            team_pending[(status.form, status.team_id)] += status.pending
    teams = {team.id: team.name for team in list_teams(session, principal)}
    professionals, _ = organisation.list_professionals(
        session=session, principal=principal, limit=MAX_LISTED, offset=0
    )
    per_professional_forms = [form for form in forms if form != "professional"]
    rows = []
    for professional in sorted(professionals, key=lambda p: (teams.get(p.team_id, ""), p.display_name)):
        assert professional.id is not None
        progress = []
        for form in per_professional_forms:
            key = (form, professional.id)
            waiting = received[key] - published[key]
            needed = needed_by_professional.get(key, min_group_size if waiting or not published[key] else 0)
            if not wave.professional_feedback:
                needed = 0  # published per team: see the team list
            progress.append(FormProgress(form, received[key], published[key], needed))
        rows.append(ProfessionalProgress(professional, teams.get(professional.team_id, ""), progress))
    team_rows = [
        TeamProgress(
            teams.get(team_id, "") if team_id is not None else "",
            [
                FormProgress(form, team_pending[(form, team_id)], 0, needed_by_team[(form, team_id)])
                for form in forms
                if (form, team_id) in needed_by_team
            ],
        )
        for team_id in sorted(
            {team_id for _, team_id in needed_by_team}, key=lambda t: teams.get(t, "") if t else ""
        )
    ]
    cut = publication.latest_cut(session, wave)
    return WaveProgress(
        wave=wave,
        forms=forms,
        professionals=rows,
        teams=team_rows,
        min_group_size=min_group_size,
        last_cut_at=moment_text(cut.made_at) if cut is not None else None,
    )
