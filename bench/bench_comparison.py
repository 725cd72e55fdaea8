"""The change and informants reports (issue #19) on in-memory published answers of two waves.

The database read is the scores report's (bench_reports); this measures what comparing adds:
matching groups, the Welch and Hedges computations and building the cells.
"""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import numpy as np

from app.collection.answers import AnswerMatrix
from app.instrument_versions.service import published_instrument
from app.models import Wave
from app.reports import comparison, repository
from app.reports.service import Selection

TARGET_SECONDS = 3.0


def _selection(seed: int, form_id: str, professionals: int, per_professional: int) -> Selection:
    instrument = published_instrument()
    form = instrument.form(form_id)
    items = tuple(item.id for item in form.items(()))
    rng = np.random.default_rng(seed)
    n = professionals * per_professional
    professional_ids = np.repeat(np.arange(professionals, dtype=np.int64), per_professional)
    values = np.asfortranarray(np.clip(np.rint(3 + rng.normal(0, 1, (n, len(items)))), 1, 5))
    matrix = AnswerMatrix(items, values, professional_ids, professional_ids // 10)
    wave = Wave(
        id=seed,
        municipality_id=1,
        name="w",
        instrument_version=instrument.version,
        modules="",
        professional_feedback=True,
    )
    return Selection(wave, instrument, form, (), tuple(form.subscales(())), matrix, 5)


def _median(function: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(quick: bool) -> list[dict[str, Any]]:
    professionals = 2_000 if quick else 20_000
    repeats = 1 if quick else 3
    current, baseline = (
        _selection(1, "jongere", professionals, 10),
        _selection(2, "jongere", professionals, 10),
    )
    parents = _selection(3, "ouder", professionals, 6)
    with (
        mock.patch.object(repository, "team_names", return_value={}),
        mock.patch.object(repository, "professional_codes", return_value={}),
    ):
        change = _median(
            lambda: comparison.change_report(None, current, baseline, "professional").model_dump_json(),  # type: ignore[arg-type]
            repeats,
        )
        informants = _median(
            lambda: comparison.informants_report(None, current, parents, "professional").model_dump_json(),  # type: ignore[arg-type]
            repeats,
        )
    figures = []
    for name, seconds in (("change per professional", change), ("informants per professional", informants)):
        figures.append(
            {
                "name": f"{name}, {professionals:,} professionals, 3 subscales (JSON)",
                "value": seconds,
                "unit": "s",
                "target": f"< {TARGET_SECONDS:.0f} s",
                "ok": seconds < TARGET_SECONDS,
            }
        )
    return figures
