"""A broken definition is refused with a message that names the file, the path inside it and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from instrument import InstrumentError, Subscale, load_definitions, load_instrument, parse_instrument
from tests.instrument.conftest import WriteYaml

ITEM_2 = "forms.jongere.subscales.gezien_worden.items[2]"


def refusal(write_yaml: WriteYaml, data: Any) -> tuple[Path, InstrumentError]:
    path = write_yaml(data)
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    return path, caught.value


def assert_names(error: InstrumentError, path: Path, where: str, *words: str) -> None:
    """The message holds the file, the path and the problem on one line."""
    lines = [line for line in str(error).splitlines() if f"{path}: {where}: " in line]
    assert lines, f"no line names {path}: {where}: in\n{error}"
    for word in words:
        assert any(word in line for line in lines), f"{word!r} missing from {lines}"


def test_a_valid_definition_loads(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    instrument = load_instrument(write_yaml(definition))
    assert instrument.version == "1.0"
    assert list(instrument.forms) == ["jongere", "ouder"]


def test_unknown_key(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["txt"] = {"nl": "x"}
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, ITEM_2, "unknown key 'txt'")
    assert error.file == str(path)
    assert error.path == ITEM_2
    assert error.problem == "unknown key 'txt'"


def test_unknown_key_at_the_top(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["auteur"] = "iemand"
    path, error = refusal(write_yaml, definition)
    assert f"{path}: unknown key 'auteur'" in str(error)


def test_duplicate_item_id_within_a_form(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["ertoe_doen"]["items"][0]["id"] = "jg_gz_1"
    path, error = refusal(write_yaml, definition)
    assert_names(
        error,
        path,
        "forms.jongere.subscales.ertoe_doen.items[0].id",
        "duplicate item id 'jg_gz_1'",
        "forms.jongere.subscales.gezien_worden.items[0]",
    )


def test_duplicate_item_id_across_forms(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["ouder"]["subscales"]["gezien_worden"]["items"][1]["id"] = "jg_eo_2"
    path, error = refusal(write_yaml, definition)
    assert_names(
        error, path, "forms.ouder.subscales.gezien_worden.items[1].id", "duplicate item id 'jg_eo_2'"
    )


def test_item_ids_differing_only_in_case_are_duplicates(
    write_yaml: WriteYaml, definition: dict[str, Any]
) -> None:
    # SPSS does not tell JG_GZ_1 from jg_gz_1.
    definition["forms"]["ouder"]["subscales"]["gezien_worden"]["items"][0]["id"] = "JG_GZ_1"
    path, error = refusal(write_yaml, definition)
    assert_names(
        error, path, "forms.ouder.subscales.gezien_worden.items[0].id", "duplicate item id 'JG_GZ_1'"
    )


def test_missing_language(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    del definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["text"]["en"]
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.text", "missing language 'en'")


def test_missing_language_in_a_scale_label(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    del definition["scale"]["labels"][3]["nl"]
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, "scale.labels[3]", "missing language 'nl'")


def test_language_not_declared(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["ouder"]["intro"]["de"] = "Über {naam}."
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, "forms.ouder.intro", "language 'de' is not one of the instrument's languages")


def test_empty_text(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["text"]["nl"] = "   "
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.text", "empty text in language 'nl'")


def test_subscale_with_fewer_than_three_items(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    del definition["forms"]["jongere"]["subscales"]["erbij_horen"]["items"][1:]
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, "forms.jongere.subscales.erbij_horen.items", "at least 3 items", "found 1")


def test_module_subscale_with_fewer_than_three_items(
    write_yaml: WriteYaml, definition: dict[str, Any]
) -> None:
    del definition["forms"]["jongere"]["modules"]["bejegening"]["subscales"]["deur_blijft_open"]["items"][0]
    path, error = refusal(write_yaml, definition)
    assert_names(
        error, path, "forms.jongere.modules.bejegening.subscales.deur_blijft_open.items", "at least 3 items"
    )


def test_reverse_on_a_scale_without_two_ends(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["scale"]["max"] = 1
    definition["scale"]["labels"] = {1: {"nl": "klopt", "en": "applies"}}
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["reverse"] = True
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.reverse", "marked reverse", "no two ends")


def test_reverse_on_a_scale_with_two_ends_is_fine(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["reverse"] = True
    instrument = load_instrument(write_yaml(definition))
    groups = instrument.forms["jongere"].subscales()
    assert groups[0].reverse_ids == ("jg_gz_3",)


def test_reverse_must_be_true_or_false(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["reverse"] = "ja"
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.reverse", "expected true or false")


@pytest.mark.parametrize(
    ("bad_id", "problem"),
    [
        ("1_gz", "must start with a letter"),
        ("jg-gz-1", "must start with a letter"),
        ("jg gz 1", "must start with a letter"),
        ("_jg_gz_1", "must start with a letter"),
        ("jg_gz_é", "must start with a letter"),
        ("jg_gz_", "must not end with '_'"),
        ("with", "reserved word in SPSS"),
        ("NOT", "reserved word in SPSS"),
        ("if", "reserved word in R"),
        ("NA", "reserved word in R"),
        ("x" * 65, "at most 64"),
    ],
)
def test_invalid_variable_name(
    write_yaml: WriteYaml, definition: dict[str, Any], bad_id: str, problem: str
) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["id"] = bad_id
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.id", problem)


def test_sixty_four_characters_is_a_valid_name(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["id"] = "x" * 64
    assert load_instrument(write_yaml(definition)).forms["jongere"].items()[2].id == "x" * 64


def test_malformed_yaml(write_yaml: WriteYaml) -> None:
    path, error = refusal(write_yaml, "id: proef\nforms:\n  jongere: [unclosed\n  ouder: {}\n")
    assert str(error).startswith(f"{path}: line ")
    assert "malformed YAML" in str(error)


def test_duplicate_yaml_key_is_not_silently_overwritten(write_yaml: WriteYaml) -> None:
    text = "id: proef\nversion: '1.0'\nid: ander\n"
    path, error = refusal(write_yaml, text)
    assert f"{path}: line 3, column 1: " in str(error)
    assert "duplicate key 'id' (first given on line 1)" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bestaat-niet-1.0.yaml"
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert str(caught.value) == f"{path}: file not found"


def test_empty_file(write_yaml: WriteYaml) -> None:
    path, error = refusal(write_yaml, "")
    assert f"{path}: the file must hold a mapping" in str(error)


def test_missing_required_key(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    del definition["forms"]["ouder"]["intro"]
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, "forms.ouder.intro", "required, but missing")


def test_version_written_as_a_number(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    path = write_yaml(definition)
    path.write_text(
        path.read_text(encoding="utf-8").replace("version: '1.0'", "version: 1.0"), encoding="utf-8"
    )
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert_names(caught.value, path, "version", "expected text, found a number (1.0); put it in quotes")


def test_yes_no_word_as_text_gets_a_hint(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    path = write_yaml(definition)
    text = path.read_text(encoding="utf-8").replace("en: point 4", "en: True")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert_names(caught.value, path, "scale.labels[4].en", "expected text", "put it in quotes")


def test_unknown_placeholder(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["text"]["nl"] = "{name} zin."
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["text"]["en"] = "{name} line."
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.text.nl", "unknown placeholder {name}")


def test_placeholder_in_one_language_only(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"][2]["text"]["en"] = (
        "The worker listens."
    )
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, f"{ITEM_2}.text", "{naam} appears in nl but not in en")


def test_scale_point_without_label(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    del definition["scale"]["labels"][3]
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, "scale.labels", "every point needs a label; missing: [3]")


def test_bad_subscale_key(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    subscales = definition["forms"]["ouder"]["subscales"]
    subscales["Gezien Worden"] = subscales.pop("gezien_worden")
    path, error = refusal(write_yaml, definition)
    assert_names(error, path, "forms.ouder.subscales.Gezien Worden", "lower case letters")


def test_subscale_id_used_twice_in_one_form(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    module = definition["forms"]["jongere"]["modules"]["bejegening"]["subscales"]
    module["ertoe_doen"] = module.pop("deur_blijft_open")
    path, error = refusal(write_yaml, definition)
    assert_names(
        error,
        path,
        "forms.jongere.modules.bejegening.subscales.ertoe_doen",
        "subscale id 'ertoe_doen' is used twice",
    )


def test_every_problem_is_reported(write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    items = definition["forms"]["jongere"]["subscales"]["gezien_worden"]["items"]
    del items[0]["text"]["en"]
    del items[1]["text"]["nl"]
    path, error = refusal(write_yaml, definition)
    assert len(error.problems) == 2
    assert_names(error, path, "forms.jongere.subscales.gezien_worden.items[0].text", "missing language 'en'")
    assert_names(error, path, "forms.jongere.subscales.gezien_worden.items[1].text", "missing language 'nl'")


def test_parse_without_a_file_names_the_path(definition: dict[str, Any]) -> None:
    del definition["forms"]["ouder"]["title"]["en"]
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(definition)
    assert str(caught.value) == "forms.ouder.title: missing language 'en'"


def test_a_subscale_built_in_python_is_checked_too() -> None:
    with pytest.raises(ValueError, match="at least 3 items"):
        Subscale.model_validate({"id": "s", "title": {"nl": "s"}, "items": []})


# -- a directory of published versions ---------------------------------------------------------------


def test_definitions_are_keyed_by_version_oldest_first(
    tmp_path: Path, write_yaml: WriteYaml, definition: dict[str, Any]
) -> None:
    for version in ["1.10", "1.2", "1.9"]:
        write_yaml({**definition, "version": version}, name=f"proef-{version}.yaml")
    assert list(load_definitions(tmp_path)) == ["1.2", "1.9", "1.10"]


def test_file_name_must_match_id_and_version(
    tmp_path: Path, write_yaml: WriteYaml, definition: dict[str, Any]
) -> None:
    path = write_yaml(definition, name="proef-2.0.yaml")
    with pytest.raises(InstrumentError) as caught:
        load_definitions(tmp_path)
    assert_names(caught.value, path, "version", "must be named proef-1.0.yaml")


def test_one_instrument_per_directory(
    tmp_path: Path, write_yaml: WriteYaml, definition: dict[str, Any]
) -> None:
    write_yaml(definition, name="proef-1.0.yaml")
    path = write_yaml({**definition, "id": "toets", "version": "2.0"}, name="toets-2.0.yaml")
    with pytest.raises(InstrumentError) as caught:
        load_definitions(tmp_path)
    assert_names(caught.value, path, "id", "differs from 'proef'")


def test_same_version_twice(tmp_path: Path, write_yaml: WriteYaml, definition: dict[str, Any]) -> None:
    write_yaml(definition, name="proef-1.0.yaml")
    path = write_yaml(definition, name="proef-1.0.yml")
    with pytest.raises(InstrumentError) as caught:
        load_definitions(tmp_path)
    assert_names(caught.value, path, "version", "version 1.0 is also defined in")


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="no instrument definitions"):
        load_definitions(tmp_path)
    with pytest.raises(InstrumentError, match="definitions directory not found"):
        load_definitions(tmp_path / "weg")


def test_a_broken_file_stops_the_directory(
    tmp_path: Path, write_yaml: WriteYaml, definition: dict[str, Any]
) -> None:
    write_yaml(definition, name="proef-1.0.yaml")
    broken = write_yaml("id: [", name="proef-1.1.yaml")
    with pytest.raises(InstrumentError) as caught:
        load_definitions(tmp_path)
    assert caught.value.file == str(broken)
