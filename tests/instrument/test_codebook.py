"""The codebook the CSV and SPSS exports are labelled from: one entry per variable, per form."""

from __future__ import annotations

import copy
import csv
import io
import json
from collections import Counter

import pytest

from instrument import (
    build_codebook,
    codebook_json,
    codebook_rows,
    current_instrument,
    parse_instrument,
    spss_labels,
)
from tests.instrument.conftest import MINIMAL


def test_every_item_of_every_form_once() -> None:
    instrument = current_instrument()
    entries = build_codebook(instrument)
    expected = [item.id for _, item in instrument.all_items()]
    assert [entry.variable for entry in entries] == expected
    assert len(expected) == len(set(expected))


def test_one_form_with_positions_in_form_order() -> None:
    entries = build_codebook(current_instrument(), form="jongere")
    assert {entry.form for entry in entries} == {"jongere"}
    assert [entry.position for entry in entries] == list(range(1, len(entries) + 1))
    first, last = entries[0], entries[-1]
    assert (first.variable, first.subscale, first.module) == ("jg_gz_1", "gezien_worden", None)
    assert (last.variable, last.subscale, last.module) == ("jg_do_4", "deur_blijft_open", "bejegening")
    assert Counter(entry.module for entry in entries) == {None: 12, "bejegening": 9}


def test_unknown_form() -> None:
    with pytest.raises(ValueError, match="no form 'leraar'; forms: jongere, ouder, professional"):
        build_codebook(current_instrument(), form="leraar")


def test_labels_read_the_professional_neutrally() -> None:
    entry = build_codebook(current_instrument(), form="jongere")[0]
    assert entry.label == {
        "nl": "De professional groet je als jullie elkaar op straat zien.",
        "en": "The professional says hello when you see each other in the street.",
    }
    middle = next(e for e in build_codebook(current_instrument()) if e.variable == "jg_eh_1")
    assert middle.label["nl"] == "Bij de professional voel je je welkom."
    assert all("{" not in text for e in build_codebook(current_instrument()) for text in e.label.values())


def test_value_labels_and_missing_note() -> None:
    entry = build_codebook(current_instrument(), form="ouder")[0]
    assert entry.value_labels["nl"] == {
        1: "Helemaal niet waar",
        2: "Niet waar",
        3: "Een beetje waar",
        4: "Waar",
        5: "Helemaal waar",
    }
    assert entry.value_labels["en"][1] == "Not true at all"
    assert entry.value_labels["en"][5] == "Completely true"
    assert "weet ik niet" in entry.missing_note["nl"]
    assert "I don't know" in entry.missing_note["en"]


def test_reverse_flag_is_carried() -> None:
    data = copy.deepcopy(MINIMAL)
    data["forms"]["ouder"]["subscales"]["gezien_worden"]["items"][1]["reverse"] = True
    entries = build_codebook(parse_instrument(data), form="ouder")
    assert [entry.reverse for entry in entries] == [False, True, False]


def test_csv_rows_share_one_set_of_columns() -> None:
    rows = codebook_rows(build_codebook(current_instrument()))
    columns = list(rows[0])
    assert columns == [
        "variable", "form", "subscale", "module", "position", "reverse",
        "label_nl", "label_en", "values_nl", "values_en", "missing_nl", "missing_en",
        "missing_codes_nl", "missing_codes_en",
    ]  # fmt: skip
    assert all(list(row) == columns for row in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    read_back = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert read_back[0]["values_nl"].startswith("1 = Helemaal niet waar; 2 = Niet waar")
    assert read_back[0]["module"] == ""
    assert len(read_back) == len(rows)


def test_json_is_serialisable_with_string_value_keys() -> None:
    payload = json.loads(json.dumps(codebook_json(build_codebook(current_instrument(), form="professional"))))
    assert payload[0]["variable"] == "pr_gz_1"
    assert payload[0]["value_labels"]["en"]["3"] == "A little true"
    assert payload[-1]["module"] == "samenwerking"


def test_spss_labels_in_one_language() -> None:
    entries = build_codebook(current_instrument(), form="jongere")
    column_labels, value_labels = spss_labels(entries, "en")
    assert column_labels["jg_ed_1"] == "The professional believes in you."
    assert value_labels["jg_ed_1"][4] == "True"
    assert set(column_labels) == set(value_labels) == {entry.variable for entry in entries}
