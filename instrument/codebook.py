"""The codebook: one entry per item (variable), with labels and value labels, for the CSV/SPSS exports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from instrument.schema import PLACEHOLDER, Instrument, Item

CodebookValue = str | int | bool | None

DONT_KNOW_CODE = 98
"""The export code of "weet ik niet": chosen by the respondent (SPSS user-missing)."""
SKIPPED_CODE = 99
"""The export code of a question left unanswered (SPSS user-missing). Responses stored before
"weet ik niet" was kept apart (database revision 0006) carry 99 for both."""
_SKIPPED_LABEL = {"nl": "Niet beantwoord", "en": "Not answered"}


def missing_codes(instrument: Instrument) -> dict[str, dict[int, str]]:
    """Per language, the two missing codes of every item and their labels (98 weet ik niet, 99 niet
    beantwoord). An item the row's form does not ask is empty (system-missing) instead."""
    return {
        lang: {
            DONT_KNOW_CODE: instrument.scale.dont_know[lang],
            SKIPPED_CODE: _SKIPPED_LABEL.get(lang, _SKIPPED_LABEL["en"]),
        }
        for lang in instrument.languages
    }


@dataclass(frozen=True)
class CodebookEntry:
    """One variable of the response export: an item of one form.

    ``label`` is the item text per language with ``{naam}`` read as the instrument's neutral name
    ("de professional"); ``value_labels`` maps each scale point to its label per language;
    ``missing_codes`` the two missing codes (:data:`DONT_KNOW_CODE`, :data:`SKIPPED_CODE`) to theirs.
    An empty cell (system-missing) is an item the row's form did not ask.
    """

    variable: str
    form: str
    subscale: str
    module: str | None
    position: int
    label: Mapping[str, str]
    value_labels: Mapping[str, Mapping[int, str]]
    missing_note: Mapping[str, str]
    reverse: bool
    missing_codes: Mapping[str, Mapping[int, str]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (value-label keys become strings, as JSON requires)."""
        return {
            "variable": self.variable,
            "form": self.form,
            "subscale": self.subscale,
            "module": self.module,
            "position": self.position,
            "label": dict(self.label),
            "value_labels": {
                lang: {str(value): text for value, text in labels.items()}
                for lang, labels in self.value_labels.items()
            },
            "missing_note": dict(self.missing_note),
            "missing_codes": {
                lang: {str(value): text for value, text in labels.items()}
                for lang, labels in self.missing_codes.items()
            },
            "reverse": self.reverse,
        }

    def as_row(self) -> dict[str, CodebookValue]:
        """One flat row for CSV, with ``label_<lang>``, ``values_<lang>`` ("1 = ...; 2 = ...") and
        ``missing_<lang>`` per language."""
        row: dict[str, CodebookValue] = {
            "variable": self.variable,
            "form": self.form,
            "subscale": self.subscale,
            "module": self.module,
            "position": self.position,
            "reverse": self.reverse,
        }
        for lang, label in self.label.items():
            row[f"label_{lang}"] = label
        for lang, labels in self.value_labels.items():
            row[f"values_{lang}"] = "; ".join(f"{value} = {text}" for value, text in labels.items())
        for lang, note in self.missing_note.items():
            row[f"missing_{lang}"] = note
        for lang, labels in self.missing_codes.items():
            row[f"missing_codes_{lang}"] = "; ".join(f"{value} = {text}" for value, text in labels.items())
        return row


def neutral_label(item: Item, lang: str, neutral_name: str) -> str:
    """The item text with ``{naam}`` read as the neutral name, capitalised when it opens the sentence."""
    text = item.render(lang, naam=neutral_name)
    if item.text[lang].startswith(PLACEHOLDER):
        text = text[:1].upper() + text[1:]
    return text


def build_codebook(instrument: Instrument, form: str | None = None) -> list[CodebookEntry]:
    """The codebook of one form (by id) or of every form, items in form order: core subscales, then
    every module (a codebook documents every variable a wave could have)."""
    forms = [instrument.form(form)] if form is not None else list(instrument.forms.values())
    scale = instrument.scale
    value_labels = {
        lang: {point: scale.labels[point][lang] for point in scale.points} for lang in instrument.languages
    }
    missing_note = {lang: scale.missing_note[lang] for lang in instrument.languages}
    codes = missing_codes(instrument)
    entries: list[CodebookEntry] = []
    for current in forms:
        items_by_id = {item.id: item for item in current.items(current.modules)}
        position = 0
        for group in current.subscales(current.modules):
            for item_id in group.item_ids:
                position += 1
                item = items_by_id[item_id]
                entries.append(
                    CodebookEntry(
                        variable=item.id,
                        form=current.id,
                        subscale=group.subscale,
                        module=group.module,
                        position=position,
                        label={
                            lang: neutral_label(item, lang, instrument.neutral_name[lang])
                            for lang in instrument.languages
                        },
                        value_labels=value_labels,
                        missing_note=missing_note,
                        reverse=item.reverse,
                        missing_codes=codes,
                    )
                )
    return entries


def codebook_rows(entries: Iterable[CodebookEntry]) -> list[dict[str, CodebookValue]]:
    """Flat rows for a CSV codebook (every row has the same columns, in the same order)."""
    return [entry.as_row() for entry in entries]


def codebook_json(entries: Iterable[CodebookEntry]) -> list[dict[str, Any]]:
    """The codebook as JSON-ready data (``GET /api/v1/exports/codebook``)."""
    return [entry.as_dict() for entry in entries]


def spss_labels(
    entries: Sequence[CodebookEntry], lang: str
) -> tuple[dict[str, str], dict[str, dict[int | float, str]]]:
    """Variable labels and value labels in one language, in the shape ``pyreadstat.write_sav`` takes
    (``column_labels=``, ``variable_value_labels=``), the missing codes labelled too (declare them
    user-missing with ``missing_ranges=``)."""
    column_labels = {entry.variable: entry.label[lang] for entry in entries}
    value_labels: dict[str, dict[int | float, str]] = {
        entry.variable: {
            **{value: text for value, text in entry.value_labels[lang].items()},
            **{value: text for value, text in entry.missing_codes[lang].items()},
        }
        for entry in entries
    }
    return column_labels, value_labels
