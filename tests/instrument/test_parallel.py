"""The ``parallel`` declaration: items two forms share in meaning, checked on load, left out of the hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from instrument import InstrumentError, load_definitions, load_instrument, parse_instrument
from tests.instrument.conftest import WriteYaml


def with_parallel(definition: dict[str, Any], items: dict[str, str], forms: list[str] | None = None) -> None:
    definition["parallel"] = [{"forms": forms or ["jongere", "ouder"], "items": items}]


def refused(write_yaml: WriteYaml, definition: dict[str, Any]) -> tuple[Path, InstrumentError]:
    path = write_yaml(definition)
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    return path, caught.value


def test_a_declaration_loads_and_reads_both_ways(definition: dict[str, Any]) -> None:
    with_parallel(definition, {"jg_gz_1": "ou_gz_2", "jg_gz_2": "ou_gz_1"})
    instrument = parse_instrument(definition)
    assert instrument.parallel_items("jongere", "ouder") == {"jg_gz_1": "ou_gz_2", "jg_gz_2": "ou_gz_1"}
    assert instrument.parallel_items("ouder", "jongere") == {"ou_gz_2": "jg_gz_1", "ou_gz_1": "jg_gz_2"}
    assert instrument.parallel_forms("ouder") == ["jongere"]
    assert instrument.parallel_items("jongere", "jongere") == {}


def test_the_declaration_is_not_content(definition: dict[str, Any]) -> None:
    """Declaring parallel items for a published version keeps its hash (the responses stay valid)."""
    before = parse_instrument(definition).content_hash
    with_parallel(definition, {"jg_gz_1": "ou_gz_1"})
    assert parse_instrument(definition).content_hash == before


def test_the_current_instrument_declares_youth_and_parent_items_parallel() -> None:
    current = load_definitions()["1.1"]
    pairs = current.parallel_items("jongere", "ouder")
    assert pairs["jg_gz_2"] == "ou_gz_1"
    youth = {group.subscale: set(group.item_ids) for group in current.form("jongere").subscales()}
    # at least two pairs per core subscale: enough for a factor in a multi-factor model
    for subscale, items in youth.items():
        assert len(items & set(pairs)) >= 2, subscale


@pytest.mark.parametrize(
    ("items", "forms", "where", "words"),
    [
        ({"jg_gz_9": "ou_gz_1"}, None, "parallel[0].items.jg_gz_9", "form 'jongere' has no item 'jg_gz_9'"),
        ({"jg_gz_1": "ou_xx_1"}, None, "parallel[0].items.jg_gz_1", "form 'ouder' has no item 'ou_xx_1'"),
        (
            {"jg_eh_1": "ou_gz_1"},
            None,
            "parallel[0].items.jg_eh_1",
            "'jg_eh_1' is in subscale 'erbij_horen' but 'ou_gz_1' in 'gezien_worden'",
        ),
        (
            {"jg_gz_1": "ou_gz_1", "jg_gz_2": "ou_gz_1"},
            None,
            "parallel[0].items.jg_gz_2",
            "'ou_gz_1' is already the counterpart of 'jg_gz_1'",
        ),
        ({"jg_gz_1": "ou_gz_1"}, ["jongere", "ouders"], "parallel[0].forms", "no form 'ouders'"),
        ({"jg_gz_1": "jg_gz_1"}, ["jongere", "jongere"], "parallel[0].forms", "not to itself"),
    ],
)
def test_a_broken_declaration_names_the_file_and_field(
    write_yaml: WriteYaml,
    definition: dict[str, Any],
    items: dict[str, str],
    forms: list[str] | None,
    where: str,
    words: str,
) -> None:
    with_parallel(definition, items, forms)
    path, error = refused(write_yaml, definition)
    assert f"{path}: {where}: " in str(error), str(error)
    assert words in str(error)


def test_wrong_shapes_are_refused_by_field(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["parallel"] = [{"forms": ["jongere"], "items": {"jg_gz_1": "ou_gz_1"}}]
    path, error = refused(write_yaml, definition)
    assert f"{path}: parallel[0].forms" in str(error)
    definition["parallel"] = [{"forms": ["jongere", "ouder"], "items": {}}]
    path, error = refused(write_yaml, definition)
    assert f"{path}: parallel[0].items: needs at least 1 entry" in str(error)
    definition["parallel"] = [{"forms": ["jongere", "ouder"], "itemz": {"jg_gz_1": "ou_gz_1"}}]
    path, error = refused(write_yaml, definition)
    assert f"{path}: parallel[0]: unknown key 'itemz'" in str(error)


def test_forms_declared_twice_are_refused(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["parallel"] = [
        {"forms": ["jongere", "ouder"], "items": {"jg_gz_1": "ou_gz_1"}},
        {"forms": ["ouder", "jongere"], "items": {"ou_gz_2": "jg_gz_2"}},
    ]
    path, error = refused(write_yaml, definition)
    assert f"{path}: parallel[1].forms: forms 'ouder' and 'jongere' are declared parallel twice" in str(error)
