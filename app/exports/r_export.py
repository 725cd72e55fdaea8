"""The R-ready response export (``format=r``): the CSV export plus an R script that loads it with labels.

The download is one ``.zip`` holding ``verbonden-wave<id>[-<form>]-responses.csv`` (byte for byte the
CSV export, :func:`app.exports.csv_file.iter_csv`) and ``...-responses.R``, a plain R script (base R
only: ``read.csv`` and ``factor()``, no ``.rds``, no packages) that reads the CSV beside it:

- every column with its type (``colClasses``), so a professional code such as ``"0071"`` stays text;
- every item as an ordered factor whose levels are the instrument's answer labels (Dutch, as in the
  .sav), ``98`` "Weet ik niet" and ``99`` "Niet beantwoord" as ``NA``; with
  ``verbonden_keep_missing_codes <- TRUE`` set before sourcing, they are two extra levels instead (an
  unordered factor then, since they have no place on the scale);
- ``form`` and ``language`` as factors, ``submitted_at`` as ``POSIXct`` in UTC;
- the codebook's variable label of every column in ``attr(x, "label")`` (what RStudio's viewer and
  the ``labelled``/``haven`` packages show).

The result is the data frame ``verbonden``. The script is ASCII: every other character is written
as a ``\\uXXXX`` escape, so it sources the same in any locale. Same scope (``responses:read``), same
rows and audit record as the CSV export; the plan is :func:`app.exports.plan.plan_response_export`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from sqlmodel import Session

from app.exports.csv_file import iter_csv
from app.exports.plan import LABEL_LANGUAGE, META_COLUMNS, SCORE_PREFIX, ResponseExport
from instrument.codebook import DONT_KNOW_CODE, SKIPPED_CODE

ZIP_MEDIA_TYPE = "application/zip"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_META_CLASSES = {
    "wave_id": "integer",
    "wave_name": "character",
    "form": "character",
    "instrument_version": "character",
    "language": "character",
    "submitted_at": "character",
    "professional_code": "character",
    "team_id": "integer",
    "team_name": "character",
}
FORMS = ("jongere", "ouder", "professional")


def r_string(text: str) -> str:
    """``text`` as an R string literal in ASCII (``"..."`` with escapes)."""
    out = []
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif 32 <= code < 127:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _vector(values: list[str]) -> str:
    return "c(" + ", ".join(r_string(value) for value in values) + ")"


def r_script(export: ResponseExport, csv_name: str) -> str:
    """The R script that loads ``csv_name`` (the CSV of ``export``) with value and variable labels."""
    lines = [
        f"# verbonden: responses of wave {export.wave.id}"
        + (f", form {export.form}" if export.form else ", every form")
        + f", instrument version {export.wave.instrument_version}.",
        "# Loads the CSV beside this script with the labels of the codebook (base R only):",
        f"#   setwd(<the folder of this file>); source({r_string(Path(csv_name).with_suffix('.R').name)})",
        "# or set verbonden_csv <- '<path of the .csv>' first. The result is the data frame `verbonden`.",
        "# Items: ordered factors with the answer labels; 98 (weet ik niet) and 99 (niet beantwoord) are NA,",
        "# unless verbonden_keep_missing_codes <- TRUE is set first (then two extra, unordered levels).",
        "# An empty item cell: the row's form did not ask it. Variable labels: attr(x, 'label').",
        "",
        f'if (!exists("verbonden_csv")) verbonden_csv <- {r_string(csv_name)}',
        'if (!exists("verbonden_keep_missing_codes")) verbonden_keep_missing_codes <- FALSE',
        "",
    ]
    classes = dict(_META_CLASSES)
    classes.update({item: "integer" for item in export.item_columns})
    classes.update({SCORE_PREFIX + subscale: "numeric" for subscale in export.score_columns})
    lines.append("verbonden_classes <- c(")
    lines.extend(
        f"  {name} = {r_string(kind)}{',' if index < len(classes) - 1 else ''}"
        for index, (name, kind) in enumerate(classes.items())
    )
    lines += [
        ")",
        'verbonden <- read.csv(verbonden_csv, colClasses = verbonden_classes, na.strings = "",',
        '                      fileEncoding = "UTF-8", check.names = FALSE)',
        "",
        "verbonden_item <- function(x, values, labels, missing_labels) {",
        "  if (verbonden_keep_missing_codes) {",
        f"    factor(x, levels = c(values, {DONT_KNOW_CODE}L, {SKIPPED_CODE}L),",
        "           labels = c(labels, missing_labels))",
        "  } else {",
        "    factor(x, levels = values, labels = labels, ordered = TRUE)",
        "  }",
        "}",
        "verbonden_label <- function(x, label) {",
        '  attr(x, "label") <- label',
        "  x",
        "}",
        "",
        f"verbonden$form <- factor(verbonden$form, levels = {_vector(list(FORMS))})",
        "verbonden$language <- factor(verbonden$language)",
        "verbonden$submitted_at <- as.POSIXct(verbonden$submitted_at,",
        '                                     format = "%Y-%m-%dT%H:%M:%SZ", tz = "UTC")',
    ]
    for name, label in META_COLUMNS:
        lines.append(f"verbonden${name} <- verbonden_label(verbonden${name}, {r_string(label)})")
    lines.append("")
    for item in export.item_columns:
        entry = export.entries.get(item)
        if entry is None:
            continue
        values = entry.value_labels[LABEL_LANGUAGE]
        missing = entry.missing_codes[LABEL_LANGUAGE]
        points = ", ".join(f"{value}L" for value in values)
        missing_labels = _vector([missing[DONT_KNOW_CODE], missing[SKIPPED_CODE]])
        lines.append(
            f"verbonden${item} <- verbonden_label(verbonden_item(verbonden${item}, c({points}), "
            f"{_vector(list(values.values()))}, {missing_labels}), {r_string(entry.label[LABEL_LANGUAGE])})"
        )
    lines.append("")
    for subscale, label in export.score_labels.items():
        column = SCORE_PREFIX + subscale
        lines.append(f"verbonden${column} <- verbonden_label(verbonden${column}, {r_string(label)})")
    lines += ["", "rm(verbonden_classes, verbonden_item, verbonden_label)", ""]
    return "\n".join(lines)


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed date: the same rows give the same bytes (no moment of download in the file).
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(session: Session, export: ResponseExport, path: Path) -> None:
    """Write the CSV export and its R script into one zip at ``path`` (the CSV streams into it)."""
    csv_name = export.filename("csv")
    with zipfile.ZipFile(path, "w") as bundle:
        with bundle.open(_entry(csv_name), "w", force_zip64=True) as target:
            for chunk in iter_csv(session, export):
                target.write(chunk)
        bundle.writestr(_entry(export.filename("R")), r_script(export, csv_name))
