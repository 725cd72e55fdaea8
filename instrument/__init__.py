"""The verbondenheid instrument as versioned data: schema, loader and codebook. Pure: never imports app."""

from instrument.codebook import (
    CodebookEntry,
    build_codebook,
    codebook_json,
    codebook_rows,
    neutral_label,
    spss_labels,
)
from instrument.errors import InstrumentError, Problem
from instrument.loader import (
    DEFINITIONS_DIR,
    current_instrument,
    load_definitions,
    load_instrument,
    parse_instrument,
    verify_recorded_hashes,
    version_key,
)
from instrument.schema import (
    PLACEHOLDER,
    Form,
    Instrument,
    Item,
    Module,
    ParallelItems,
    Scale,
    ScoringGroup,
    Subscale,
    render_text,
    variable_name_problem,
)

__all__ = [
    "DEFINITIONS_DIR",
    "PLACEHOLDER",
    "CodebookEntry",
    "Form",
    "Instrument",
    "InstrumentError",
    "Item",
    "Module",
    "ParallelItems",
    "Problem",
    "Scale",
    "ScoringGroup",
    "Subscale",
    "build_codebook",
    "codebook_json",
    "codebook_rows",
    "current_instrument",
    "load_definitions",
    "load_instrument",
    "neutral_label",
    "parse_instrument",
    "render_text",
    "spss_labels",
    "variable_name_problem",
    "verify_recorded_hashes",
    "version_key",
]
