"""What the web service calls: items of a form, scoring groups, rendering with a name, the API payload."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from instrument import Instrument, current_instrument, load_definitions, parse_instrument, render_text
from tests.instrument.conftest import MINIMAL


@pytest.fixture
def instrument() -> Instrument:
    return parse_instrument(MINIMAL)


def test_render_fills_in_the_name(instrument: Instrument) -> None:
    item = instrument.forms["jongere"].items()[0]
    assert item.render("nl", naam="Sam") == "Sam zin 1."
    assert item.render("en", naam="Sam") == "Sam sentence 1."


def test_render_published_item() -> None:
    item = current_instrument().forms["jongere"].items()[0]
    assert item.render("nl", naam="Sam") == "Sam groet je als jullie elkaar op straat zien."


def test_render_needs_a_name_when_the_text_has_one(instrument: Instrument) -> None:
    item = instrument.forms["jongere"].items()[0]
    with pytest.raises(ValueError, match=r"pass naam="):
        item.render("nl")


def test_render_without_placeholder_needs_no_name() -> None:
    item = current_instrument().forms["professional"].items()[0]
    assert item.render("nl") == "Mijn leidinggevende weet wat ik in mijn werk tegenkom."


def test_render_unknown_language(instrument: Instrument) -> None:
    with pytest.raises(ValueError, match="no text in language 'fr'; available: nl, en"):
        instrument.forms["jongere"].items()[0].render("fr", naam="Sam")


def test_name_is_inserted_literally(instrument: Instrument) -> None:
    # A display name with braces must not be read as a template.
    assert render_text({"nl": "{naam} luistert."}, "nl", naam="{x} & <b>") == "{x} & <b> luistert."


def test_intro_and_title_render(instrument: Instrument) -> None:
    form = instrument.forms["jongere"]
    assert form.render_title("nl", naam="Sam") == "Jij en Sam"
    assert form.render_intro("en", naam="Sam") == "About Sam."


def test_items_core_then_chosen_modules_in_the_forms_order(instrument: Instrument) -> None:
    form = instrument.forms["jongere"]
    core = [f"jg_{s}_{i}" for s in ("gz", "eh", "ed") for i in (1, 2, 3)]
    assert [item.id for item in form.items()] == core
    module = [f"jg_{s}_{i}" for s in ("eo", "do") for i in (1, 2, 3)]
    assert [item.id for item in form.items(["bejegening"])] == core + module
    assert [item.id for item in form.items(iter(["bejegening", "bejegening"]))] == core + module
    assert [item.id for item in form.items("bejegening")] == core + module


def test_unknown_module_is_refused(instrument: Instrument) -> None:
    with pytest.raises(ValueError, match="form 'ouder' has no module bejegening; its modules: none"):
        instrument.forms["ouder"].items(["bejegening"])
    assert instrument.module_ids == {"bejegening"}


def test_scoring_groups(instrument: Instrument) -> None:
    groups = instrument.forms["jongere"].subscales(["bejegening"])
    assert [(g.subscale, g.module) for g in groups] == [
        ("gezien_worden", None),
        ("erbij_horen", None),
        ("ertoe_doen", None),
        ("echt_en_oprecht", "bejegening"),
        ("deur_blijft_open", "bejegening"),
    ]
    subscale, module, item_ids, reverse_ids = groups[0]
    assert (subscale, module, item_ids, reverse_ids) == (
        "gezien_worden",
        None,
        ("jg_gz_1", "jg_gz_2", "jg_gz_3"),
        (),
    )
    assert groups[0].min_answered == 2
    assert current_instrument().forms["ouder"].subscales()[0].min_answered == 3


def test_scale(instrument: Instrument) -> None:
    scale = instrument.scale
    assert list(scale.points) == [1, 2, 3, 4, 5]
    assert scale.has_two_ends
    assert [scale.reverse(value) for value in scale.points] == [5, 4, 3, 2, 1]


def test_models_are_frozen(instrument: Instrument) -> None:
    item = instrument.forms["jongere"].items()[0]
    with pytest.raises(ValidationError):
        item.reverse = True  # type: ignore[misc]


def test_api_payload_has_the_yaml_keys() -> None:
    payload = current_instrument().to_dict()
    keys = {"id", "version", "title", "languages", "neutral_name", "scale", "forms", "parallel"}
    assert set(payload) == keys
    jongere = payload["forms"]["jongere"]
    assert set(jongere) == {"id", "title", "intro", "subscales", "modules"}
    assert list(jongere["subscales"]) == ["gezien_worden", "erbij_horen", "ertoe_doen"]
    assert jongere["subscales"]["gezien_worden"]["items"][0] == {
        "id": "jg_gz_1",
        "text": {
            "nl": "{naam} groet je als jullie elkaar op straat zien.",
            "en": "{naam} says hello when you see each other in the street.",
        },
        "reverse": False,
    }
    assert payload["scale"]["labels"]["1"] == {"nl": "Helemaal niet waar", "en": "Not true at all"}
    assert payload["scale"]["dont_know"] == {"nl": "Weet ik niet", "en": "I don't know"}


def test_current_instrument_is_the_latest_and_cached() -> None:
    definitions = load_definitions()
    assert current_instrument().version == list(definitions)[-1]
    assert current_instrument() is current_instrument()
