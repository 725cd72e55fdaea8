"""The examples in the docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "psychometrics.reliability",
        "psychometrics.scoring",
        "psychometrics.multilevel",
        "psychometrics.nested",
        "psychometrics.structure",
        "psychometrics.comparison",
    ],
)
def test_docstring_examples(module: str):
    failures, _ = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_every_public_function_names_its_r_equivalent_and_missing_data_rule():
    import psychometrics

    for name in psychometrics.__all__:
        function = getattr(psychometrics, name)
        if isinstance(function, type):
            continue
        doc = function.__doc__ or ""
        assert "R" in doc and ("Matches R" in doc or "R ``" in doc or "R (" in doc), name
        if name != "respondents_needed":
            assert "Missing data" in doc, name
