"""Shared data for the psychometrics tests: the R reference values and the data they were made on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).with_name("reference")


def as_float_array(values: list[Any]) -> np.ndarray:
    """JSON lists from R with null for NA -> float array with NaN."""
    return np.array([np.nan if value is None else value for value in values], dtype=float)


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    """Everything make_reference.R computed (see the R calls beside each comparison)."""
    return json.loads((REFERENCE_DIR / "reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    """psychTools::bfi as exported by make_reference.R: 25 six-point items, gender, education, age."""
    return pd.read_csv(REFERENCE_DIR / "bfi.csv")


@pytest.fixture(scope="session")
def bfi_recoded(bfi: pd.DataFrame, reference: dict[str, Any]) -> pd.DataFrame:
    """bfi with the reverse-keyed items recoded on the nominal ends: 7 - x (R: recoded[rev] <- 7 - ...)."""
    recoded = bfi.copy()
    reverse = reference["bfi"]["reverse"]
    recoded[reverse] = 7 - recoded[reverse]
    return recoded


@pytest.fixture(scope="session")
def nested() -> pd.DataFrame:
    """The simulated nested data (make_nested_data.py) that R read."""
    return pd.read_csv(REFERENCE_DIR / "nested_data.csv")


@pytest.fixture(scope="session")
def nested_recoded(nested: pd.DataFrame) -> pd.DataFrame:
    recoded = nested.copy()
    recoded["item3_rev"] = 6 - recoded["item3_rev"]
    return recoded
