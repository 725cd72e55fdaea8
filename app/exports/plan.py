"""The plan of a response export: which columns, and how each stored answer layout maps onto them.

Columns
-------
``wave_id, wave_name, form, instrument_version, language, submitted_at, professional_code, team_id,
team_name``, then one column per item named by its item id (the codebook's ``variable``), then one
``score_<subscale>`` per subscale: the mean of the answered items after reverse keying on the
scale's nominal ends (``psychometrics.score_scale``), empty unless at least k - 1 of its k items are
answered. Missing answers carry their own codes, documented in the codebook (``missing_codes``):
98 = "weet ik niet", 99 = not answered (skipped; responses stored before database revision 0006
have 99 for both), user-missing values with labels in SPSS; both count as not answered in the
scores. An empty cell (system-missing in SPSS) is an item the row's form did not ask.

Without ``form`` the export holds every form of the wave; the columns are then the union of the
forms' items (item ids are unique across the instrument, so a column never means two things) and
of their subscales (``score_gezien_worden`` is each row's own form's score). A row has empty cells
for the items its form does not ask. Responses stored in another layout (another instrument
version or set of modules) add their items as extra columns, so no stored answer is left out.

The professional column holds the pseudonymous ``code``, never the display name. ``submitted_at`` is
UTC, already rounded down to the hour when stored. Rows are ordered by submission (response id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from app.auth import Principal, Scope
from app.collection import repository as collection_repository
from app.errors import InvalidInput
from app.exports import repository
from app.instrument_versions.service import instrument_for_version
from app.models import Wave
from app.organisation import service as organisation
from instrument import CodebookEntry, Instrument, build_codebook

LABEL_LANGUAGE = "nl"
SCORE_PREFIX = "score_"

META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("wave_id", "Meetronde (id)"),
    ("wave_name", "Meetronde"),
    ("form", "Vragenlijst (jongere, ouder, professional)"),
    ("instrument_version", "Versie van het instrument"),
    ("language", "Taal van de vragenlijst"),
    ("submitted_at", "Ingevuld op (UTC, afgerond op het uur)"),
    ("professional_code", "Professional (pseudoniem)"),
    ("team_id", "Team (id) op het moment van invullen"),
    ("team_name", "Team op het moment van invullen"),
)


@dataclass(frozen=True)
class ScoreRule:
    """One subscale score of a layout: which export columns, which reversed, the k - 1 rule."""

    column: int
    items: npt.NDArray[np.intp]
    reverse: tuple[int, ...]
    min_answered: int


@dataclass(frozen=True)
class LayoutPlan:
    version: str
    width: int
    columns: npt.NDArray[np.intp]
    scale_min: int
    scale_max: int
    scores: tuple[ScoreRule, ...]


@dataclass(frozen=True)
class ResponseExport:
    """Everything needed to write one response export, decided before the first row is read."""

    wave: Wave
    form: str | None
    municipality_id: int | None
    item_columns: tuple[str, ...]
    score_columns: tuple[str, ...]
    layouts: dict[int, LayoutPlan]
    entries: dict[str, CodebookEntry]
    score_labels: dict[str, str]
    published_only: bool = True
    """Only the responses of the wave's publication cut (a municipality key's export)."""
    with_times: bool = False
    """Whether ``submitted_at`` is filled in (research keys); else it is empty."""
    with_professionals: bool = False
    """Whether ``professional_code`` is filled in (keys with ``reports:professional``): with it, any
    professional's numbers could be computed from the rows; without it the column is empty."""

    @property
    def columns(self) -> list[str]:
        return [
            *(name for name, _ in META_COLUMNS),
            *self.item_columns,
            *(SCORE_PREFIX + subscale for subscale in self.score_columns),
        ]

    def filename(self, extension: str) -> str:
        form = f"-{self.form}" if self.form else ""
        return f"verbonden-wave{self.wave.id}{form}-responses.{extension}"


def _form_modules(instrument: Instrument, form_id: str, module_ids: Sequence[str]) -> tuple[str, ...]:
    form = instrument.form(form_id)
    return tuple(module for module in module_ids if module in form.modules)


def _append_new(target: list[str], names: Sequence[str]) -> None:
    seen = set(target)
    target.extend(name for name in names if name not in seen)


def _subscale_titles(instrument: Instrument) -> dict[str, str]:
    titles: dict[str, str] = {}
    for form in instrument.forms.values():
        for subscale in form.core_subscales.values():
            titles.setdefault(subscale.id, subscale.title[LABEL_LANGUAGE])
        for module in form.modules.values():
            for subscale in module.subscales.values():
                titles.setdefault(subscale.id, subscale.title[LABEL_LANGUAGE])
    return titles


def plan_response_export(
    session: Session, principal: Principal, *, wave_id: int, form: str | None
) -> ResponseExport:
    """The columns of a wave's export: 404 for a wave the key may not see, 422 for an unknown form.

    A municipality key's export holds the published responses only (see
    :func:`publish_for_export`); a research key's holds every row.
    """
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    published_only = not principal.is_research
    instrument = instrument_for_version(wave.instrument_version)
    if form is not None and form not in instrument.forms:
        raise InvalidInput(
            f"Unknown form {form!r}; forms: {', '.join(instrument.forms)}.",
            errors=[{"loc": ["query", "form"], "msg": "unknown form", "type": "value_error"}],
        )
    forms = [form] if form is not None else list(instrument.forms)
    item_columns: list[str] = []
    score_columns: list[str] = []
    for form_id in forms:
        modules = _form_modules(instrument, form_id, wave.module_ids)
        _append_new(item_columns, [item.id for item in instrument.form(form_id).items(modules)])
        _append_new(score_columns, [group.subscale for group in instrument.form(form_id).subscales(modules)])

    layout_ids = repository.response_layout_ids(
        session,
        wave_id=wave_id,
        form=form,
        municipality_id=principal.municipality_id,
        published_only=published_only,
    )
    stored = collection_repository.layouts(session, layout_ids)
    groups_of: dict[int, list[Any]] = {}
    for layout_id, layout in sorted(stored.items()):
        layout_instrument = instrument_for_version(layout.instrument_version)
        modules = tuple(part for part in layout.modules.split(",") if part)
        groups = layout_instrument.form(layout.form).subscales(modules)
        _append_new(item_columns, layout.items)
        _append_new(score_columns, [group.subscale for group in groups])
        groups_of[layout_id] = groups

    column_of = {item: index for index, item in enumerate(item_columns)}
    score_of = {subscale: index for index, subscale in enumerate(score_columns)}
    plans: dict[int, LayoutPlan] = {}
    for layout_id, layout in stored.items():
        scale = instrument_for_version(layout.instrument_version).scale
        rules = []
        for group in groups_of[layout_id]:
            rules.append(
                ScoreRule(
                    column=score_of[group.subscale],
                    items=np.array([column_of[item] for item in group.item_ids], dtype=np.intp),
                    reverse=tuple(group.item_ids.index(item) for item in group.reverse_ids),
                    min_answered=group.min_answered,
                )
            )
        plans[layout_id] = LayoutPlan(
            version=layout.instrument_version,
            width=len(layout.items),
            columns=np.array([column_of[item] for item in layout.items], dtype=np.intp),
            scale_min=scale.min,
            scale_max=scale.max,
            scores=tuple(rules),
        )

    entries: dict[str, CodebookEntry] = {}
    titles: dict[str, str] = {}
    for version in [wave.instrument_version, *sorted({plan.version for plan in plans.values()})]:
        version_instrument = instrument_for_version(version)
        for entry in build_codebook(version_instrument):
            entries.setdefault(entry.variable, entry)
        for subscale, title in _subscale_titles(version_instrument).items():
            titles.setdefault(subscale, title)
    score_labels = {
        subscale: f"Score {titles.get(subscale, subscale)}: gemiddelde van de beantwoorde items "
        f"(leeg bij minder dan k-1 van k beantwoord)"
        for subscale in score_columns
    }
    return ResponseExport(
        wave=wave,
        form=form,
        municipality_id=principal.municipality_id,
        item_columns=tuple(item_columns),
        score_columns=tuple(score_columns),
        layouts=plans,
        entries=entries,
        score_labels=score_labels,
        published_only=published_only,
        with_times=principal.is_research,
        with_professionals=Scope.reports_professional.value in principal.scopes,
    )
