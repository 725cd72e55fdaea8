"""The R-ready export (``format=r``): the CSV plus an R script that loads it with labels, run in R."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from app.auth import Scope
from app.exports import service
from app.exports.r_export import r_string
from instrument import build_codebook, current_instrument
from tests.app.test_exports import META, expected_score, scored_groups, world  # noqa: F401
from tests.factories.organisation import make_key, make_municipality

RSCRIPT = shutil.which("Rscript")
if RSCRIPT is None and os.environ.get("VERBONDEN_REQUIRE_R"):
    raise RuntimeError("VERBONDEN_REQUIRE_R is set but Rscript is not installed (Debian package r-base-core)")

CHECK = r"""
source("{script}")
items <- {items}
stopifnot(is.data.frame(verbonden))
out <- data.frame(professional_code = verbonden$professional_code, form = as.character(verbonden$form),
                  submitted_at = format(verbonden$submitted_at, "%Y-%m-%d %H:%M", tz = "UTC"),
                  stringsAsFactors = FALSE)
for (item in items) out[[item]] <- as.character(verbonden[[item]])
scores <- grep("^score_", names(verbonden), value = TRUE)
for (column in scores) out[[column]] <- sprintf("%.12f", verbonden[[column]])
write.csv(out, "{out}", row.names = FALSE, na = "NA", fileEncoding = "UTF-8")
first <- verbonden[[items[1]]]
meta <- c(
  paste0("class=", paste(class(first), collapse = ",")),
  paste0("levels=", paste(levels(first), collapse = "|")),
  paste0("label=", attr(first, "label")),
  paste0("code_label=", attr(verbonden$professional_code, "label")),
  paste0("score_label=", attr(verbonden$score_gezien_worden, "label")),
  paste0("code_class=", class(verbonden$professional_code)),
  paste0("team_id_class=", class(verbonden$team_id)),
  paste0("time_class=", paste(class(verbonden$submitted_at), collapse = ","))
)
writeLines(enc2utf8(meta), file("{meta}", encoding = "UTF-8"))
"""


def download(client, session, wave_id: int, *params: str) -> zipfile.ZipFile:
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)
    reply = client.get(
        f"/api/v1/exports/responses?wave_id={wave_id}&format=r" + "".join(params), headers=headers
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/zip"
    suffix = "-jongere" if "&form=jongere" in params else ""
    assert reply.headers["content-disposition"] == (
        f'attachment; filename="verbonden-wave{wave_id}{suffix}-responses.zip"'
    )
    assert reply.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(reply.content))


def run_r(
    tmp_path: Path, bundle: zipfile.ZipFile, items: list[str], *, keep_missing: bool = False
) -> tuple[list[dict[str, str]], dict[str, str]]:
    bundle.extractall(tmp_path)
    script = next(name for name in bundle.namelist() if name.endswith(".R"))
    check = tmp_path / "check.R"
    prelude = "verbonden_keep_missing_codes <- TRUE\n" if keep_missing else ""
    check.write_text(
        prelude
        + CHECK.format(
            script=script,
            items="c(" + ", ".join(f'"{item}"' for item in items) + ")",
            out="out.csv",
            meta="meta.txt",
        )
    )
    assert RSCRIPT is not None
    done = subprocess.run(
        [RSCRIPT, "--vanilla", check.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    meta = dict(
        line.split("=", 1) for line in (tmp_path / "meta.txt").read_text(encoding="utf-8").splitlines()
    )
    return rows, meta


def test_the_bundle_holds_the_csv_export_and_an_ascii_r_script(session, client, world):  # noqa: F811
    wave = world["wave"]
    bundle = download(client, session, wave.id, "&form=jongere")
    names = sorted(bundle.namelist())
    assert names == [
        f"verbonden-wave{wave.id}-jongere-responses.R",
        f"verbonden-wave{wave.id}-jongere-responses.csv",
    ]
    headers = make_key(session, None, Scope.responses_read, Scope.reports_professional)
    plain = client.get(
        f"/api/v1/exports/responses?wave_id={wave.id}&format=csv&form=jongere", headers=headers
    )
    assert bundle.read(names[1]) == plain.content  # the very CSV export
    script = bundle.read(names[0])
    script.decode("ascii")  # sources the same in any locale
    assert b"read.csv(" in script and b"factor(" in script and b".rds" not in script


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed (Debian package r-base-core)")
def test_r_loads_the_export_with_value_and_variable_labels(session, client, world, tmp_path):  # noqa: F811
    wave = world["wave"]
    items = [item.id for item in current_instrument().form("jongere").items()]
    codebook = {entry.variable: entry for entry in build_codebook(current_instrument(), "jongere")}
    rows, meta = run_r(tmp_path, download(client, session, wave.id, "&form=jongere"), items)
    first = items[0]
    labels = codebook[first].value_labels["nl"]
    assert meta["class"] == "ordered,factor"
    assert meta["levels"] == "|".join(labels[point] for point in sorted(labels))
    assert meta["label"] == codebook[first].label["nl"]  # non-ASCII and quotes survive the escapes
    assert meta["code_label"] == "Professional (pseudoniem)"
    assert meta["score_label"].startswith("Score Gezien worden")
    assert meta["code_class"] == "character" and meta["team_id_class"] == "integer"
    assert meta["time_class"] == "POSIXct,POSIXt"

    assert len(rows) == len(world["jongere"])
    by_answers = {tuple(row[item] for item in items): row for row in rows}
    for professional, answers in world["jongere"]:
        key = tuple(
            "NA" if answers[item] is None else codebook[item].value_labels["nl"][answers[item]]
            for item in items
        )
        row = by_answers[key]  # every answer as its label; "weet ik niet" as NA
        assert row["professional_code"] == professional.code
        assert row["form"] == "jongere"
        assert row["submitted_at"] == "2025-03-04 14:00"
        for group in scored_groups("jongere"):
            expected = expected_score([answers[item] for item in group.item_ids])
            value = row[f"score_{group.subscale}"]
            assert value == "NA" if expected is None else float(value) == pytest.approx(expected, abs=1e-12)


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed (Debian package r-base-core)")
def test_r_keeps_the_missing_codes_as_levels_when_asked(session, client, world, tmp_path):  # noqa: F811
    items = [item.id for item in current_instrument().form("jongere").items()]
    rows, meta = run_r(tmp_path, download(client, session, world["wave"].id), items, keep_missing=True)
    assert meta["class"] == "factor"
    assert meta["levels"].endswith("|Weet ik niet|Niet beantwoord")
    assert any(row[item] == "Weet ik niet" for row in rows for item in items)
    # Without form: the ouder row has no jongere items (not asked): NA, not a missing code.
    ouder = [row for row in rows if row["form"] == "ouder"]
    assert len(ouder) == 1 and all(ouder[0][item] == "NA" for item in items)


def test_the_r_export_has_the_csv_exports_scope_and_audit(session, client, world, monkeypatch):  # noqa: F811
    wave = world["wave"]
    url = f"/api/v1/exports/responses?wave_id={wave.id}&format=r"
    assert client.get(url).status_code == 401
    for scope in (Scope.manage, Scope.reports_aggregate, Scope.reports_professional):
        assert client.get(url, headers=make_key(session, world["municipality"], scope)).status_code == 403
    other = make_key(session, make_municipality(session), Scope.responses_read)
    assert client.get(url, headers=other).status_code == 404
    calls = []
    monkeypatch.setattr(service, "record_export", lambda *args, **kwargs: calls.append(kwargs))
    reply = client.get(
        url + "&form=ouder", headers=make_key(session, world["municipality"], Scope.responses_read)
    )
    assert reply.status_code == 200
    assert calls == [{"kind": "responses", "wave_id": wave.id, "form": "ouder", "file_format": "r"}]
    # A municipality key: the published rows only and no time, exactly as in its CSV export.
    bundle = zipfile.ZipFile(io.BytesIO(reply.content))
    headers = make_key(session, world["municipality"], Scope.responses_read)
    plain = client.get(f"/api/v1/exports/responses?wave_id={wave.id}&format=csv&form=ouder", headers=headers)
    assert bundle.read(f"verbonden-wave{wave.id}-ouder-responses.csv") == plain.content


def test_r_strings_are_ascii_escapes():
    assert r_string('Zeg "hoi" \\ é ✓') == '"Zeg \\"hoi\\" \\\\ \\u00e9 \\u2713"'
