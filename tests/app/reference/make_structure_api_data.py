"""Seeded answers for the structure route's lavaan check (tests/app/test_reports_structure.py).

Writes structure_api_data.csv: 280 youth (jongere) and 160 parent (ouder) responses to the core
items, four professionals per form, every item answered (so every response is published). Three
correlated factors; the parents' ``ou_ed_1`` is shifted up by 0.7 points, so scalar invariance
between the forms fails on purpose. The test posts these rows through ``POST /api/v1/responses``;
make_structure_api_reference.R fits the same models in lavaan.

Run from the repository root: ``python tests/app/reference/make_structure_api_data.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
YOUTH = [f"jg_{s}_{i}" for s in ("gz", "eh", "ed") for i in (1, 2, 3, 4)]
PARENT = [
    "ou_gz_1", "ou_gz_2", "ou_gz_3", "ou_gz_4",
    "ou_eh_1", "ou_eh_5", "ou_eh_3", "ou_eh_6",
    "ou_ed_1", "ou_ed_2", "ou_ed_3", "ou_ed_4",
]  # fmt: skip
PER_PROFESSIONAL = {"jongere": 70, "ouder": 40}
SHIFT = {"ou_ed_1": 0.7}


def simulate(rng: np.random.Generator, items: list[str], n: int) -> np.ndarray:
    correlation = np.full((3, 3), 0.5) + 0.5 * np.eye(3)
    latent = rng.multivariate_normal(np.zeros(3), correlation, size=n)
    loadings = rng.uniform(0.75, 0.95, size=len(items))
    values = np.empty((n, len(items)))
    for j, item in enumerate(items):
        raw = 3.2 + SHIFT.get(item, 0.0) + loadings[j] * latent[:, j // 4] + rng.normal(0, 0.65, size=n)
        values[:, j] = np.clip(np.rint(raw), 1, 5)
    return values.astype(int)


def main() -> None:
    rng = np.random.default_rng(20261202)
    rows = []
    for form, items in (("jongere", YOUTH), ("ouder", PARENT)):
        for professional in range(4):
            for answers in simulate(rng, items, PER_PROFESSIONAL[form]):
                row = {"form": form, "professional": professional} | dict.fromkeys(YOUTH + PARENT, "")
                row.update(zip(items, answers.tolist(), strict=True))
                rows.append(row)
    with (HERE / "structure_api_data.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["form", "professional", *YOUTH, *PARENT])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
