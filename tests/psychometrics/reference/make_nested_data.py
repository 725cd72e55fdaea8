"""Write nested_data.csv: simulated respondents nested in professionals nested in teams (seeded).

Run from the repository root: ``python tests/psychometrics/reference/make_nested_data.py``.
The R script make_reference.R reads the CSV, so both languages see the identical data. Design:
unequal team and professional sizes (including a team with one professional and professionals
with one respondent), a 4-item 5-point scale whose third item is reverse-keyed, about 6% missing
answers and two respondents who answered nothing. A second team column, ``team_random``, assigns
the professionals to teams at random (a zero team variance: the boundary case).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240501
OUTPUT = Path(__file__).with_name("nested_data.csv")
ITEMS = ["item1", "item2", "item3_rev", "item4"]


def make_nested_data(seed: int = SEED) -> pd.DataFrame:
    """Simulate the nested data set (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    n_teams = 14
    professional_number = 0
    for team in range(n_teams):
        team_effect = rng.normal(0.0, 0.35)
        n_professionals = 1 if team == 0 else int(rng.integers(2, 8))
        for _ in range(n_professionals):
            professional_number += 1
            professional_effect = rng.normal(0.0, 0.45)
            n_respondents = 1 if professional_number % 11 == 0 else int(rng.integers(2, 30))
            for _ in range(n_respondents):
                latent = team_effect + professional_effect + rng.normal(0.0, 0.8)
                raw = 3.0 + latent * np.array([0.9, 0.8, 0.7, 0.85]) + rng.normal(0.0, 0.7, size=4)
                answers = np.clip(np.rint(raw), 1, 5)
                answers[2] = 6 - answers[2]  # reverse-keyed item, as asked on the form
                rows.append(
                    {
                        "team": f"T{team + 1:02d}",
                        "professional": f"P{professional_number:03d}",
                        **dict(zip(ITEMS, answers, strict=True)),
                    }
                )
    frame = pd.DataFrame(rows)
    item_values = frame[ITEMS].to_numpy(dtype=float, copy=True)
    item_values[rng.random(item_values.shape) < 0.06] = np.nan
    item_values[[5, 40], :] = np.nan  # two respondents who answered nothing
    frame[ITEMS] = pd.DataFrame(item_values, columns=ITEMS).astype("Int64")
    # a second, random assignment of the same professionals to 14 teams: no team effect, so the
    # REML team variance lands on its boundary (0; a singular fit in lme4)
    assignment = np.random.default_rng(seed).integers(0, 14, size=frame["professional"].nunique())
    random_team = dict(
        zip(frame["professional"].unique(), (f"R{team:02d}" for team in assignment), strict=True)
    )
    frame["team_random"] = frame["professional"].map(random_team)
    return frame


def main() -> None:
    make_nested_data().to_csv(OUTPUT, index=False, na_rep="NA")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
