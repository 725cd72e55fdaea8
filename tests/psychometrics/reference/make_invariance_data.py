"""Write invariance_data.csv: three groups where scalar invariance fails on purpose (seeded).

Run from the repository root: ``python tests/psychometrics/reference/make_invariance_data.py``.
The R script make_structure_reference.R reads the CSV, so both languages see the identical data.
Design: three groups ("A", "B", "C") of 350, 300 and 250 respondents answer 9 items on three
correlated factors of 3 items (continuous answers, so ML is the right estimator). Loadings are
equal in every group (metric invariance holds); in group C the intercepts of items ``b2`` and
``c3`` are 0.9 higher than elsewhere (a biased item, the same latent level gives a higher answer),
so scalar invariance fails. Group C also has a higher mean on factor ``a`` (a true difference,
which a scalar model absorbs in the factor mean). About 3% of the answers are missing (listwise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261201
OUTPUT = Path(__file__).with_name("invariance_data.csv")
FACTORS = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2", "b3"], "c": ["c1", "c2", "c3"]}
ITEMS = [item for items in FACTORS.values() for item in items]
GROUP_SIZES = {"A": 350, "B": 300, "C": 250}
LOADINGS = np.array([1.0, 0.8, 0.9, 1.0, 1.1, 0.7, 1.0, 0.9, 0.8])
INTERCEPTS = np.array([3.0, 2.8, 3.1, 3.2, 2.9, 3.0, 2.7, 3.1, 3.0])
FACTOR_COVARIANCE = np.array([[0.8, 0.3, 0.25], [0.3, 0.7, 0.2], [0.25, 0.2, 0.6]])
RESIDUAL_SD = np.sqrt(np.array([0.4, 0.5, 0.45, 0.35, 0.5, 0.55, 0.4, 0.45, 0.5]))


def make_invariance_data(seed: int = SEED) -> pd.DataFrame:
    """Simulate the three-group data set (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    factor_of = np.repeat(np.arange(3), 3)
    frames = []
    for group, n in GROUP_SIZES.items():
        latent_mean = np.array([0.5, 0.0, 0.0]) if group == "C" else np.zeros(3)
        latent = rng.multivariate_normal(latent_mean, FACTOR_COVARIANCE, size=n)
        intercepts = INTERCEPTS.copy()
        if group == "C":
            intercepts[[ITEMS.index("b2"), ITEMS.index("c3")]] += 0.9
        answers = intercepts + latent[:, factor_of] * LOADINGS + rng.normal(0.0, 1.0, (n, 9)) * RESIDUAL_SD
        answers[rng.random(answers.shape) < 0.03] = np.nan
        frame = pd.DataFrame(np.round(answers, 4), columns=ITEMS)
        frame.insert(0, "group", group)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    make_invariance_data().to_csv(OUTPUT, index=False, na_rep="NA")
    print(f"wrote {OUTPUT}")
