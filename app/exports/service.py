"""The response export (CSV, SPSS .sav) and the codebook: one row per response, one column per item.

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

The export is not an aggregate: it holds rows, without small-group suppression, behind its own
scope (``responses:read``); every download passes :func:`record_export`. A municipality key gets
the responses of the wave's publication cut only, with ``submitted_at`` left empty (no time finer
than the wave), so the file cannot be matched to the moment someone was seen filling in the form
nor show a response that no report has published; a research key gets every row with its hour.
``professional_code`` is filled in only for keys that may read numbers per professional
(``reports:professional``): from the rows, any professional's scores could be computed.

CSV: RFC 4180, comma-separated, ``.`` as decimal point, UTF-8 **without** a byte order mark, header
row first. R (``read.csv``, ``readr``), pandas and SPSS (``GET DATA /TYPE=TXT``) read it without
options; a BOM would turn the first column name into ``X.U.FEFF.wave_id`` in ``read.csv``. Excel
opens it correctly through Data > From Text/CSV; ``bom=true`` adds the BOM for a double-click
open in Excel (Dutch Excel then still wants ``;``, hence the .sav for SPSS users). Scores are
written with full precision (Python's shortest round-trip repr). The CSV streams: it is read from the
database in batches (a server-side cursor on PostgreSQL) and written batch by batch, so memory does
not grow with the number of rows.

SPSS: ``pyreadstat.write_sav`` needs the whole table as one DataFrame (it cannot append), so the
.sav is built in memory and written to a temporary file that is streamed back and deleted. To bound
that memory, the table is held in the smallest types: items as nullable ``Int8`` (2 bytes per
answer), strings as categoricals (4-byte codes), ``submitted_at`` as SPSS seconds (a float, so
pyreadstat does not copy the frame to convert datetimes), scores as float64. About
``2 * items + 8 * subscales + 40`` bytes per row: ~100 MB for a million responses of a 21-item form,
plus pyreadstat's row-by-row writing (no copy). :data:`MAX_SAV_ROWS` refuses larger files.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyreadstat
from sqlmodel import Session

from app.audit import service as audit
from app.auth import Principal, Scope
from app.collection import repository
from app.errors import AppError, InvalidInput, NotFound
from app.exports.spreadsheet import SafeCsvWriter, neutralise
from app.instrument_versions.service import instrument_for_version, published_instrument
from app.models import DONT_KNOW_ANSWER, MISSING_ANSWER, Wave
from app.publication import service as publication
from app.tenancy import get_owned
from instrument import CodebookEntry, Instrument, build_codebook, codebook_json, codebook_rows, spss_labels
from instrument.codebook import DONT_KNOW_CODE, SKIPPED_CODE
from psychometrics import score_scale

logger = logging.getLogger("verbonden.exports")

BATCH_SIZE = 5000
MAX_SAV_ROWS = 2_000_000
LABEL_LANGUAGE = "nl"
SCORE_PREFIX = "score_"
SPSS_EPOCH_OFFSET_SECONDS = 12_219_379_200
"""Seconds from SPSS's epoch (1582-10-14) to the Unix epoch (1970-01-01)."""
MAX_SAV_FILE_LABEL = 64

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
_STRING_META = ("form", "instrument_version", "language", "professional_code", "team_name")
_CELL_TEXT = np.array(["", *(str(code) for code in range(1, SKIPPED_CODE + 1))], dtype=object)
"""Answer code -> CSV cell: 0 (not asked) is empty, 1-9 the answer, 98 and 99 the missing codes."""
_EXPORT_CODE = np.zeros(256, dtype=np.int8)
_EXPORT_CODE[ord("1") : ord("9") + 1] = np.arange(1, 10)
_EXPORT_CODE[ord(DONT_KNOW_ANSWER)] = DONT_KNOW_CODE
_EXPORT_CODE[ord(MISSING_ANSWER)] = SKIPPED_CODE
"""Stored answer character -> export code (see the module docstring)."""


def export_codes(answer_strings: list[str], width: int) -> npt.NDArray[np.int8]:
    """Fixed-width answer strings -> export codes, in one numpy pass."""
    if not answer_strings:
        return np.zeros((0, width), dtype=np.int8)
    raw = np.frombuffer("".join(answer_strings).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    return _EXPORT_CODE[raw]


class ExportTooLarge(AppError):
    status = 413


def record_export(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    wave_id: int | None,
    form: str | None,
    file_format: str,
) -> None:
    """Record the download in the audit trail (ARCHITECTURE invariant 3): action ``<kind>.export``.

    Called once per export, before the first byte is sent, inside the request's session, so the
    record commits with the request. It names the wave, form and format, never a row.
    """
    audit.record(
        session,
        principal,
        f"{kind}.export",
        object_type="wave" if wave_id is not None else None,
        object_id=wave_id,
        wave_id=wave_id,
        detail={"form": form, "format": file_format},
    )


# -- the plan: which columns, and how each stored layout maps onto them -----------------------------


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


def publish_for_export(session: Session, principal: Principal, *, wave_id: int, min_group_size: int) -> None:
    """Publish what is due before a municipality key's export (as every output does); a research
    key's export holds every row and needs no cut. Run in the request's own session: the export's
    stream session then reads the published rows (a cut made by this very read may show from the
    next export on: either way the file holds whole batches only)."""
    if not principal.is_research:
        wave = get_owned(session, Wave, wave_id, principal, label="wave")
        publication.publish_due(session, wave, min_group_size=min_group_size)


def plan_response_export(
    session: Session, principal: Principal, *, wave_id: int, form: str | None
) -> ResponseExport:
    """The columns of a wave's export: 404 for a wave the key may not see, 422 for an unknown form.

    A municipality key's export holds the published responses only (see
    :func:`publish_for_export`); a research key's holds every row.
    """
    wave = get_owned(session, Wave, wave_id, principal, label="wave")
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
    stored = repository.layouts(session, layout_ids)
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


# -- one batch of rows as arrays ------------------------------------------------------------------


@dataclass
class ExportBatch:
    """A batch of responses: meta columns as lists, answers (export codes; 0 = not asked) and scores."""

    size: int
    versions: list[str]
    forms: list[str]
    languages: list[str]
    submitted_at: list[datetime | None]
    professional_codes: list[str]
    team_ids: list[int | None]
    team_names: list[str | None]
    answers: npt.NDArray[np.int8]
    scores: npt.NDArray[np.float64]


def build_batch(export: ResponseExport, rows: Sequence[repository.ExportRow]) -> ExportBatch:
    """Decode a batch of stored rows: answers into export columns, then the subscale scores."""
    size = len(rows)
    answers = np.zeros((size, len(export.item_columns)), dtype=np.int8)
    scores = np.full((size, len(export.score_columns)), np.nan)
    by_layout: dict[int, list[int]] = {}
    for position, row in enumerate(rows):
        by_layout.setdefault(row[0], []).append(position)
    for layout_id, positions in by_layout.items():
        plan = export.layouts[layout_id]
        index = np.asarray(positions, dtype=np.intp)
        block = export_codes([rows[position][3] for position in positions], plan.width)
        answers[np.ix_(index, plan.columns)] = block
        for rule in plan.scores:
            items = answers[np.ix_(index, rule.items)].astype(np.float64)
            items[(items == 0) | (items >= DONT_KNOW_CODE)] = np.nan
            scores[index, rule.column] = score_scale(
                items,
                reverse=list(rule.reverse),
                scale_min=plan.scale_min,
                scale_max=plan.scale_max,
                min_answered=rule.min_answered,
            ).to_numpy()
    return ExportBatch(
        size=size,
        versions=[export.layouts[row[0]].version for row in rows],
        forms=[row[1] for row in rows],
        languages=[row[2] for row in rows],
        submitted_at=[row[4] for row in rows] if export.with_times else [None] * size,
        professional_codes=[row[5] for row in rows] if export.with_professionals else [""] * size,
        team_ids=[row[6] for row in rows],
        team_names=[row[7] for row in rows],
        answers=answers,
        scores=scores,
    )


def iter_batches(
    session: Session, export: ResponseExport, batch_size: int | None = None
) -> Iterator[ExportBatch]:
    """The export's responses, decoded and scored, one batch (default :data:`BATCH_SIZE`) at a time."""
    for rows in repository.iter_response_rows(
        session,
        wave_id=export.wave.id,  # type: ignore[arg-type]
        form=export.form,
        municipality_id=export.municipality_id,
        published_only=export.published_only,
        batch_size=batch_size or BATCH_SIZE,
    ):
        yield build_batch(export, rows)


# -- CSV ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _iso_utc(moment: datetime | None) -> str:
    # Cached: times are rounded to the hour, so a wave has few distinct ones.
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _score_cells(scores: npt.NDArray[np.float64]) -> list[list[str]]:
    """Scores as shortest round-trip text, empty for NaN.

    A score is a mean of at most k answers on a 5-point scale, so a wave has only a few dozen
    distinct scores: each is formatted once (``repr`` is the slow part of writing a row).
    """
    text: dict[float, str] = {}
    cells = []
    for row in scores.tolist():
        line = []
        for value in row:
            cell = text.get(value)
            if cell is None:
                cell = "" if value != value else repr(value)
                if value == value:
                    text[value] = cell
            line.append(cell)
        cells.append(line)
    return cells


def iter_csv(
    session: Session, export: ResponseExport, *, bom: bool = False, batch_size: int | None = None
) -> Iterator[bytes]:
    """The CSV export as chunks of UTF-8 bytes: the header, then one chunk per batch of responses."""
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow(export.columns)
    # Text from people sits in the wave name, the professional's code and the team name; the other
    # cells are ids, times, digits and the instrument's own words, formatted here.
    meta = [name for name, _ in META_COLUMNS]
    people_text = [meta.index(name) for name in ("wave_name", "professional_code", "team_name")]
    writer = SafeCsvWriter(buffer, text_columns=people_text)
    yield ("\ufeff" if bom else "").encode("utf-8") + buffer.getvalue().encode("utf-8")
    wave_id = str(export.wave.id)
    wave_name = export.wave.name
    for batch in iter_batches(session, export, batch_size):
        buffer.seek(0)
        buffer.truncate()
        item_cells = _CELL_TEXT[batch.answers].tolist()
        score_cells = _score_cells(batch.scores)
        writer.writerows(
            [
                wave_id,
                wave_name,
                batch.forms[row],
                batch.versions[row],
                batch.languages[row],
                _iso_utc(batch.submitted_at[row]),
                batch.professional_codes[row],
                "" if batch.team_ids[row] is None else batch.team_ids[row],
                batch.team_names[row] or "",
                *item_cells[row],
                *score_cells[row],
            ]
            for row in range(batch.size)
        )
        yield buffer.getvalue().encode("utf-8")


# -- SPSS -----------------------------------------------------------------------------------------


class _Interned:
    """A string column as int32 codes into a list of distinct values (a categorical).

    The values are neutralised as the CSV's text cells are (:func:`neutralise`): an SPSS file is
    opened in a spreadsheet too, after a conversion.
    """

    def __init__(self) -> None:
        self.code_of: dict[str | None, int] = {None: -1}
        self.code_of_clean: dict[str, int] = {}
        self.values: list[str] = []
        self.chunks: list[npt.NDArray[np.int32]] = []

    def add(self, values: list[str] | list[str | None]) -> None:
        code_of = self.code_of
        for value in set(values) - code_of.keys():
            clean = neutralise(value)
            if clean not in self.code_of_clean:
                self.code_of_clean[clean] = len(self.values)
                self.values.append(clean)
            code_of[value] = self.code_of_clean[clean]
        self.chunks.append(
            np.fromiter((code_of[value] for value in values), dtype=np.int32, count=len(values))
        )

    def categorical(self) -> pd.Categorical:
        codes = np.concatenate(self.chunks) if self.chunks else np.empty(0, dtype=np.int32)
        self.chunks = []
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.values, dtype=object))


def response_frame(session: Session, export: ResponseExport) -> pd.DataFrame:
    """The whole export as a compact DataFrame (see the module docstring for its memory cost)."""
    strings = {name: _Interned() for name in _STRING_META}
    team_ids: list[npt.NDArray[np.int64]] = []
    submitted: list[npt.NDArray[np.float64]] = []
    answers: list[npt.NDArray[np.int8]] = []
    scores: list[npt.NDArray[np.float64]] = []
    rows = 0
    for batch in iter_batches(session, export):
        rows += batch.size
        if rows > MAX_SAV_ROWS:
            raise ExportTooLarge(
                f"The .sav export holds at most {MAX_SAV_ROWS:,} responses; export one form, or as CSV."
            )
        strings["form"].add(batch.forms)
        strings["instrument_version"].add(batch.versions)
        strings["language"].add(batch.languages)
        strings["professional_code"].add(batch.professional_codes)
        strings["team_name"].add(batch.team_names)
        team_ids.append(np.array([-1 if team is None else team for team in batch.team_ids], dtype=np.int64))
        submitted.append(
            np.array(
                [np.nan if moment is None else moment.timestamp() for moment in batch.submitted_at],
                dtype=np.float64,
            )
            + SPSS_EPOCH_OFFSET_SECONDS
        )
        answers.append(batch.answers)
        scores.append(batch.scores)

    def joined(chunks: list[Any], dtype: Any, width: int | None = None) -> Any:
        if chunks:
            return np.concatenate(chunks)
        return np.empty((0, width) if width is not None else 0, dtype=dtype)

    team_id = joined(team_ids, np.int64)
    columns: dict[str, Any] = {
        "wave_id": np.full(rows, export.wave.id, dtype=np.int32),
        "wave_name": pd.Categorical.from_codes(
            np.zeros(rows, dtype=np.int8), categories=pd.Index([neutralise(export.wave.name)], dtype=object)
        ),
        "form": strings["form"].categorical(),
        "instrument_version": strings["instrument_version"].categorical(),
        "language": strings["language"].categorical(),
        "submitted_at": joined(submitted, np.float64),
        "professional_code": strings["professional_code"].categorical(),
        "team_id": pd.arrays.IntegerArray(team_id.astype(np.int32), team_id < 0),
        "team_name": strings["team_name"].categorical(),
    }
    answer_matrix = joined(answers, np.int8, len(export.item_columns))
    answers.clear()
    for position, item in enumerate(export.item_columns):
        column = np.ascontiguousarray(answer_matrix[:, position])
        columns[item] = pd.arrays.IntegerArray(column, column == 0)
    del answer_matrix
    score_matrix = joined(scores, np.float64, len(export.score_columns))
    scores.clear()
    for position, subscale in enumerate(export.score_columns):
        columns[SCORE_PREFIX + subscale] = np.ascontiguousarray(score_matrix[:, position])
    return pd.DataFrame(columns, copy=False)


def write_sav(session: Session, export: ResponseExport, path: Path) -> int:
    """Write the export as an SPSS .sav with Dutch variable and value labels; return the row count."""
    frame = response_frame(session, export)
    item_entries = [export.entries[item] for item in export.item_columns if item in export.entries]
    item_labels, value_labels = spss_labels(item_entries, LABEL_LANGUAGE)
    column_labels: dict[str, str | None] = {name: label for name, label in META_COLUMNS}
    column_labels.update(item_labels)
    column_labels.update({SCORE_PREFIX + subscale: label for subscale, label in export.score_labels.items()})
    measure = {name: "nominal" for name, _ in META_COLUMNS}
    measure["submitted_at"] = "scale"
    measure.update({item: "ordinal" for item in export.item_columns})
    measure.update({SCORE_PREFIX + subscale: "scale" for subscale in export.score_columns})
    formats = {item: "F2.0" for item in export.item_columns}
    user_missing: dict[str, list[Any]] = {
        item: [DONT_KNOW_CODE, SKIPPED_CODE] for item in export.item_columns
    }
    formats.update({SCORE_PREFIX + subscale: "F8.3" for subscale in export.score_columns})
    formats.update({"wave_id": "F8.0", "team_id": "F8.0", "submitted_at": "DATETIME20"})
    file_label = neutralise(f"verbonden {export.wave.name} ({export.wave.instrument_version})")
    file_label = file_label.encode("utf-8")[:MAX_SAV_FILE_LABEL].decode("utf-8", "ignore")
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=file_label,
        column_labels=column_labels,
        variable_value_labels=value_labels,
        variable_measure=measure,
        variable_format=formats,
        missing_ranges=user_missing,
        note=[
            "Missende codes (user-missing): 98 = weet ik niet, 99 = niet beantwoord",
            "(voor databaseversie 0006: 99 voor beide). Lege cel: vraag niet gesteld.",
            "Scores: gemiddelde van de beantwoorde items na omscoren (1+5-x),",
            "alleen bij minstens k-1 van k beantwoorde items.",
            "professional_code is een pseudoniem; submitted_at is UTC, afgerond op het uur.",
        ],
    )
    return len(frame)


# -- codebook -------------------------------------------------------------------------------------


def codebook_instrument(version: str | None) -> Instrument:
    """The instrument whose codebook is asked for: the published one, or a named version (else 404)."""
    if version is None:
        return published_instrument()
    try:
        return instrument_for_version(version)
    except KeyError:
        raise NotFound(f"instrument version {version} not found") from None


def codebook_entries(instrument: Instrument, form: str | None) -> list[CodebookEntry]:
    if form is not None and form not in instrument.forms:
        raise InvalidInput(
            f"Unknown form {form!r}; forms: {', '.join(instrument.forms)}.",
            errors=[{"loc": ["query", "form"], "msg": "unknown form", "type": "value_error"}],
        )
    return build_codebook(instrument, form)


def codebook_document(instrument: Instrument, entries: list[CodebookEntry]) -> dict[str, Any]:
    return {
        "instrument": instrument.id,
        "version": instrument.version,
        "languages": list(instrument.languages),
        "variables": codebook_json(entries),
    }


def _codebook_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def codebook_csv(entries: list[CodebookEntry]) -> str:
    rows = codebook_rows(entries)
    buffer = io.StringIO()
    if rows:
        writer = SafeCsvWriter(buffer)
        writer.writerow(list(rows[0]))
        writer.writerows(
            [
                "" if value is None else str(value).lower() if isinstance(value, bool) else value
                for value in row.values()
            ]
            for row in rows
        )
    return buffer.getvalue()
