"""Small, valid instrument definitions that each test breaks in one place."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


def _item(item_id: str, nl: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "text": {"nl": nl, "en": en}, **extra}


def _subscale(prefix: str, n: int = 3) -> dict[str, Any]:
    return {
        "title": {"nl": f"Schaal {prefix}", "en": f"Scale {prefix}"},
        "items": [
            _item(f"{prefix}_{i}", f"{{naam}} zin {i}.", f"{{naam}} sentence {i}.") for i in range(1, n + 1)
        ],
    }


MINIMAL: dict[str, Any] = {
    "id": "proef",
    "version": "1.0",
    "title": {"nl": "Proef", "en": "Trial"},
    "languages": ["nl", "en"],
    "neutral_name": {"nl": "de professional", "en": "the professional"},
    "scale": {
        "min": 1,
        "max": 5,
        "labels": {p: {"nl": f"punt {p}", "en": f"point {p}"} for p in range(1, 6)},
        "dont_know": {"nl": "Weet ik niet", "en": "I don't know"},
        "missing_note": {"nl": "Leeg: weet ik niet", "en": "Empty: I don't know"},
    },
    "forms": {
        "jongere": {
            "title": {"nl": "Jij en {naam}", "en": "You and {naam}"},
            "intro": {"nl": "Over {naam}.", "en": "About {naam}."},
            "subscales": {
                "gezien_worden": _subscale("jg_gz"),
                "erbij_horen": _subscale("jg_eh"),
                "ertoe_doen": _subscale("jg_ed"),
            },
            "modules": {
                "bejegening": {
                    "title": {"nl": "Bejegening", "en": "Treatment"},
                    "description": {"nl": "Hoe.", "en": "How."},
                    "subscales": {
                        "echt_en_oprecht": _subscale("jg_eo"),
                        "deur_blijft_open": _subscale("jg_do"),
                    },
                }
            },
        },
        "ouder": {
            "title": {"nl": "U en {naam}", "en": "You and {naam}"},
            "intro": {"nl": "Over {naam}.", "en": "About {naam}."},
            "subscales": {"gezien_worden": _subscale("ou_gz")},
        },
    },
}


@pytest.fixture
def definition() -> dict[str, Any]:
    """A fresh copy of a small valid definition, to break in one place."""
    return copy.deepcopy(MINIMAL)


WriteYaml = Callable[..., Path]


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """Write data (or raw text) as a YAML file in tmp_path and return its path."""

    def write(data: Any, name: str = "proef-1.0.yaml", directory: Path | None = None) -> Path:
        folder = directory or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write
