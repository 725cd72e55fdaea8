"""The published content: three forms, three subscales, the modules, and the writing rules we promised."""

from __future__ import annotations

import re

import pytest

from instrument import Item, current_instrument, load_definitions, variable_name_problem

CORE = ["gezien_worden", "erbij_horen", "ertoe_doen"]
MODULES = {
    "jongere": ("bejegening", ["echt_en_oprecht", "boosheid_met_liefde", "deur_blijft_open"]),
    "ouder": ("bejegening", ["echt_en_oprecht", "boosheid_met_liefde", "deur_blijft_open"]),
    "professional": ("samenwerking", ["integraliteit", "openheid", "betrokkenheid"]),
}
NEGATIONS = {"niet", "geen", "nooit", "niemand", "niets", "nergens"}


def words(text: str) -> list[str]:
    return re.findall(r"[\wéëï']+", text.lower())


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"[.?!]\s*", text) if part.strip()]


def items_of(form_id: str) -> list[Item]:
    form = current_instrument().forms[form_id]
    return form.items(form.modules)


def test_the_package_holds_version_1_0() -> None:
    assert "1.0" in load_definitions()
    assert current_instrument().id == "verbondenheid"
    assert current_instrument().languages == ("nl", "en")


@pytest.mark.parametrize("form_id", ["jongere", "ouder", "professional"])
def test_form_structure(form_id: str) -> None:
    form = current_instrument().forms[form_id]
    assert list(form.core_subscales) == CORE
    assert all(len(subscale.items) >= 4 for subscale in form.core_subscales.values())
    module_id, themes = MODULES[form_id]
    assert list(form.modules) == [module_id]
    assert list(form.modules[module_id].subscales) == themes
    assert all(len(subscale.items) >= 3 for subscale in form.modules[module_id].subscales.values())


def test_five_points_each_labelled_plus_dont_know() -> None:
    scale = current_instrument().scale
    assert (scale.min, scale.max) == (1, 5)
    assert all(set(scale.labels[point]) == {"nl", "en"} for point in scale.points)
    assert scale.dont_know == {"nl": "Weet ik niet", "en": "I don't know"}


def test_item_ids_are_variable_names_and_follow_the_scheme() -> None:
    prefixes = {"jongere": "jg", "ouder": "ou", "professional": "pr"}
    for form, item in current_instrument().all_items():
        assert variable_name_problem(item.id) is None
        assert re.fullmatch(rf"{prefixes[form.id]}_[a-z]{{2}}_[0-9]+", item.id), item.id


def test_no_reverse_keyed_items_in_1_0() -> None:
    # A deliberate choice for readers at B1 level; see instrument/README.md ("Reverse keying").
    assert not [item.id for _, item in current_instrument().all_items() if item.reverse]


@pytest.mark.parametrize("form_id", ["jongere", "ouder"])
def test_youth_and_parent_items_are_about_the_named_professional(form_id: str) -> None:
    assert all(item.names_professional for item in items_of(form_id))
    form = current_instrument().forms[form_id]
    assert "{naam}" in form.intro["nl"]


def test_professional_items_name_nobody() -> None:
    assert not any(item.names_professional for item in items_of("professional"))


def test_youth_items_are_short_sentences_that_say_je() -> None:
    for item in items_of("jongere"):
        text = item.text["nl"]
        assert all(len(words(sentence)) <= 12 for sentence in sentences(text)), text
        assert not {"u", "uw"} & set(words(text)), text
    with_je = [
        item for item in items_of("jongere") if {"je", "jij", "jou", "jouw"} & set(words(item.text["nl"]))
    ]
    assert len(with_je) >= len(items_of("jongere")) - 2


def test_parent_items_say_u() -> None:
    for item in items_of("ouder"):
        assert not {"je", "jij", "jou", "jouw"} & set(words(item.text["nl"])), item.text["nl"]


def test_no_double_negatives() -> None:
    for _, item in current_instrument().all_items():
        for sentence in sentences(item.text["nl"]):
            assert len([word for word in words(sentence) if word in NEGATIONS]) <= 1, sentence


def test_every_text_is_translated_differently() -> None:
    # Catches a Dutch text pasted into the English slot.
    for _, item in current_instrument().all_items():
        assert item.text["nl"] != item.text["en"], item.id
