"""The content hash: the same content gives the same hash whatever the YAML layout; any change of content
gives another. The service relies on it to refuse a published version whose file was edited."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument import (
    DEFINITIONS_DIR,
    InstrumentError,
    load_definitions,
    load_instrument,
    parse_instrument,
    verify_recorded_hashes,
)
from tests.instrument.conftest import MINIMAL, WriteYaml

# The hash of every published version. A published version never changes: if this test fails, restore
# the file and put the new wording in a new version (verbondenheid-1.1.yaml) with its own entry here.
PUBLISHED = {
    "1.0": "e565511a000eb837f8fd04f716655215665bda4a02d2550cb7e26ee54a89eea8",
    "1.1": "5ce485ec9bdc95f9e48a63b6c36f7aaf5ba1ab4105e5fccccda7f980c7a71ac0",
}


def test_published_versions_have_not_changed() -> None:
    definitions = load_definitions()
    assert {version: instrument.content_hash for version, instrument in definitions.items()} == PUBLISHED


def test_hash_is_sha256_hex() -> None:
    digest = parse_instrument(MINIMAL).content_hash
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_reformatting_the_published_file_keeps_the_hash(tmp_path: Path) -> None:
    original = DEFINITIONS_DIR / "verbondenheid-1.0.yaml"
    data = _shuffled(yaml.safe_load(original.read_text(encoding="utf-8")), random.Random(3))
    # No comments, every mapping in flow style, keys in another order, other quoting and line width.
    reformatted = yaml.safe_dump(
        data, default_flow_style=True, sort_keys=False, width=60, allow_unicode=False
    )
    copy_path = tmp_path / original.name
    copy_path.write_text(reformatted, encoding="utf-8")
    assert reformatted != original.read_text(encoding="utf-8")
    assert load_instrument(copy_path).content_hash == load_instrument(original).content_hash


def test_changing_one_word_changes_the_hash(tmp_path: Path) -> None:
    original = DEFINITIONS_DIR / "verbondenheid-1.0.yaml"
    text = original.read_text(encoding="utf-8")
    assert text.count("luistert echt naar wat je zegt") == 1
    changed = tmp_path / original.name
    changed.write_text(
        text.replace("luistert echt naar wat je zegt", "luistert naar wat je zegt"), encoding="utf-8"
    )
    assert load_instrument(changed).content_hash != load_instrument(original).content_hash


def test_explicit_default_does_not_change_the_hash() -> None:
    explicit = copy.deepcopy(MINIMAL)
    for subscale in explicit["forms"]["jongere"]["subscales"].values():
        for item in subscale["items"]:
            item["reverse"] = False
    assert parse_instrument(explicit).content_hash == parse_instrument(MINIMAL).content_hash


def _changed(change: str) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    jongere = data["forms"]["jongere"]
    items = jongere["subscales"]["gezien_worden"]["items"]
    if change == "reverse":
        items[0]["reverse"] = True
    elif change == "item order":
        items[0], items[1] = items[1], items[0]
    elif change == "subscale order":
        jongere["subscales"] = dict(reversed(list(jongere["subscales"].items())))
    elif change == "item id":
        items[0]["id"] = "jg_gz_9"
    elif change == "scale label":
        data["scale"]["labels"][5]["en"] = "entirely true"
    elif change == "intro":
        jongere["intro"]["nl"] = "Over {naam}!"
    elif change == "module order":
        modules = jongere["modules"]["bejegening"]
        modules["subscales"] = dict(reversed(list(modules["subscales"].items())))
    elif change == "english only":
        items[2]["text"]["en"] = "{naam} sentence three."
    return data


@pytest.mark.parametrize(
    "change",
    [
        "reverse",
        "item order",
        "subscale order",
        "module order",
        "item id",
        "scale label",
        "intro",
        "english only",
    ],
)
def test_every_kind_of_content_change_changes_the_hash(change: str) -> None:
    assert parse_instrument(_changed(change)).content_hash != parse_instrument(MINIMAL).content_hash


def _shuffled(value: Any, rng: random.Random, ordered: bool = False) -> Any:
    """The same content with the keys of every mapping in a random order, except where order is content."""
    if isinstance(value, dict):
        keys = list(value)
        if not ordered:
            rng.shuffle(keys)
        return {key: _shuffled(value[key], rng, key in {"subscales", "modules"}) for key in keys}
    if isinstance(value, list):
        return [_shuffled(entry, rng) for entry in value]
    return value


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_key_order_never_changes_the_hash(rng: random.Random) -> None:
    assert parse_instrument(_shuffled(MINIMAL, rng)).content_hash == parse_instrument(MINIMAL).content_hash


def test_the_api_payload_reads_back_to_the_same_content() -> None:
    instrument = parse_instrument(MINIMAL)
    assert parse_instrument(instrument.to_dict()).content_hash == instrument.content_hash


# -- the start-up check of the service ---------------------------------------------------------------


def test_recorded_hashes_that_match_pass() -> None:
    verify_recorded_hashes(PUBLISHED)
    verify_recorded_hashes({})


def test_a_changed_file_is_refused(tmp_path: Path, write_yaml: WriteYaml) -> None:
    recorded = {"1.0": parse_instrument(MINIMAL).content_hash}
    write_yaml(_changed("intro"), name="proef-1.0.yaml")
    with pytest.raises(InstrumentError) as caught:
        verify_recorded_hashes(recorded, load_definitions(tmp_path))
    assert caught.value.path == "version 1.0"
    assert "content changed since responses were recorded" in caught.value.problem
    assert "new version" in caught.value.problem


def test_a_removed_file_is_refused(tmp_path: Path, write_yaml: WriteYaml) -> None:
    write_yaml(MINIMAL, name="proef-1.0.yaml")
    with pytest.raises(InstrumentError) as caught:
        verify_recorded_hashes({"0.9": "0" * 64}, load_definitions(tmp_path))
    assert str(caught.value) == "version 0.9: responses were given to it, but its file is gone"


def test_form_order_is_not_content() -> None:
    data = copy.deepcopy(MINIMAL)
    data["forms"] = dict(reversed(list(data["forms"].items())))
    assert parse_instrument(data).content_hash == parse_instrument(MINIMAL).content_hash
